// Runs every real server's checkers on the clock and says when a server goes up or down:
// a server is up while all of its checkers are. Probes are injected, so tests run the
// timing on a virtual clock with scripted answers.
import type { Clock, TimerHandle } from '../common/clock';
import type { Rng } from '../common/rng';
import { CheckerState, type CheckOutcome } from './checker-state';
import type { CheckerConfig } from './config';
import type { Probe } from './probes';

export interface HealthTarget {
  /** A stable name, e.g. `TCP 10.0.0.1:80 -> 10.0.0.2:8080`. */
  readonly id: string;
  readonly checkers: ReadonlyArray<{ readonly config: CheckerConfig; readonly probe: Probe }>;
  /** alpha: start down until the checkers pass. */
  readonly startDown: boolean;
}

export interface HealthEvents {
  changed(id: string, up: boolean, reason: string): void;
  /** misc_dynamic asked for another weight. */
  weight(id: string, weight: number): void;
}

export interface CheckerView {
  readonly kind: string;
  readonly up: boolean;
  readonly lastResult?: string;
  /** When it last ran, ISO 8601. */
  readonly lastCheckAt?: string;
  readonly checks: number;
}

export interface ServerHealth {
  readonly id: string;
  readonly up: boolean;
  readonly weight?: number;
  readonly checkers: CheckerView[];
}

interface Runner {
  readonly kind: string;
  readonly state: CheckerState;
  readonly probe: Probe;
  timer?: TimerHandle;
  lastResult?: string;
  lastCheckMs?: number;
  checks: number;
  running: boolean;
}

interface Watched {
  readonly target: HealthTarget;
  readonly runners: Runner[];
  up: boolean;
  stopped: boolean;
}

export class HealthMonitor {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly clock: Clock,
    private readonly rng: Rng,
    private readonly events: HealthEvents,
  ) {}

  /** Starts checking; answers whether the server starts up. */
  add(target: HealthTarget): boolean {
    this.remove(target.id);
    const runners = target.checkers.map((c) => ({ kind: c.config.kind, state: new CheckerState(c.config.timing, !target.startDown), probe: c.probe, checks: 0, running: false }));
    const w: Watched = { target, runners, up: runners.length === 0 || !target.startDown, stopped: false };
    this.watched.set(target.id, w);
    for (const runner of runners) this.schedule(w, runner, runner.state.firstCheckInMs(this.rng.next()));
    return w.up;
  }

  remove(id: string): void {
    const w = this.watched.get(id);
    if (w === undefined) return;
    w.stopped = true;
    for (const r of w.runners) if (r.timer !== undefined) this.clock.clearTimeout(r.timer);
    this.watched.delete(id);
  }

  stop(): void {
    for (const id of [...this.watched.keys()]) this.remove(id);
  }

  isUp(id: string): boolean | undefined {
    return this.watched.get(id)?.up;
  }

  view(): ServerHealth[] {
    return [...this.watched.values()].map((w) => {
      const weight = w.runners.map((r) => r.state.weight).find((x) => x !== undefined);
      return {
        id: w.target.id,
        up: w.up,
        ...(weight !== undefined ? { weight } : {}),
        checkers: w.runners.map((r) => ({
          kind: r.kind,
          up: r.state.up,
          checks: r.checks,
          ...(r.lastResult !== undefined ? { lastResult: r.lastResult } : {}),
          ...(r.lastCheckMs !== undefined ? { lastCheckAt: new Date(r.lastCheckMs).toISOString() } : {}),
        })),
      };
    });
  }

  private schedule(w: Watched, runner: Runner, delayMs: number): void {
    runner.timer = this.clock.setTimeout(() => {
      runner.timer = undefined;
      void this.run(w, runner);
    }, delayMs);
  }

  private async run(w: Watched, runner: Runner): Promise<void> {
    if (w.stopped || runner.running) return;
    runner.running = true;
    let outcome: CheckOutcome;
    try {
      outcome = await runner.probe();
    } catch (err) {
      outcome = { ok: false, reason: `probe failed: ${(err as Error).message}` };
    }
    runner.running = false;
    if (w.stopped) return;
    runner.checks++;
    runner.lastCheckMs = this.clock.wallMs();
    runner.lastResult = outcome.ok ? 'ok' : (outcome.reason ?? 'failed');
    const step = runner.state.result(outcome);
    if (step.weight !== undefined) this.events.weight(w.target.id, step.weight);
    if (step.transition !== undefined) {
      const up = w.runners.every((r) => r.state.up);
      if (up !== w.up) {
        w.up = up;
        this.events.changed(w.target.id, up, `${runner.kind}: ${runner.lastResult}`);
      }
    }
    this.schedule(w, runner, step.nextCheckInMs);
  }
}
