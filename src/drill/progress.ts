// The drill's progress: on a terminal, one line redrawn four times a second with the
// scenario, its phase, the time since it began, each node's state and the requests
// answered and failed so far; what the drill says goes above it. Elsewhere (a log, CI)
// each phase is a line of its own and nothing is redrawn.
import type { DrillTraffic } from './cluster';
import type { DirectorSample } from './report';

const redrawEveryMs = 250;

interface Watched {
  readonly scenario: string;
  readonly nowMs: () => number;
  readonly sampler: { readonly directors: readonly DirectorSample[] };
  readonly traffic: DrillTraffic;
}

/** The progress line's text. */
export function progressText(phase: string, w: Watched | undefined): string {
  if (w === undefined) return `drill: ${phase}`;
  const latest = new Map<string, DirectorSample>();
  for (let i = w.sampler.directors.length - 1; i >= 0 && latest.size < 16; i--) {
    const s = w.sampler.directors[i] as DirectorSample;
    if (!latest.has(s.node)) latest.set(s.node, s);
  }
  const nodes = [...latest.values()].sort((a, b) => a.node.localeCompare(b.node)).map((s) => `${s.node} ${s.state === 'none' ? (s.quorate === true ? 'up' : 'no quorum') : s.state.toUpperCase()}`);
  const ok = w.traffic.samples.filter((c) => c.ok).length;
  const failed = w.traffic.samples.length - ok;
  return `drill ${w.scenario}: ${phase} · ${(w.nowMs() / 1000).toFixed(1)} s · ${nodes.join(', ')} · ${ok} answered, ${failed} failed`;
}

export class Progress {
  private current = 'starting';
  private watched: Watched | undefined;
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(
    private readonly out: (text: string) => void,
    private readonly tty: boolean,
  ) {}

  /** A line for the record, above the progress line. */
  line(text: string): void {
    this.clear();
    this.out(`${text}\n`);
    this.draw();
  }

  phase(text: string): void {
    this.current = text;
    if (this.tty) this.draw();
    else this.out(`${progressText(text, this.watched)}\n`);
  }

  watch(scenario: string, nowMs: () => number, sampler: Watched['sampler'], traffic: DrillTraffic): void {
    this.watched = { scenario, nowMs, sampler, traffic };
    if (this.tty && this.timer === undefined) this.timer = setInterval(() => this.draw(), redrawEveryMs);
  }

  unwatch(): void {
    this.watched = undefined;
  }

  done(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    if (!this.tty) return;
    this.out(`\r\x1b[K${progressText(this.current, this.watched)}`);
    this.shown = true;
  }

  private clear(): void {
    if (!this.shown) return;
    this.out('\r\x1b[K');
    this.shown = false;
  }
}
