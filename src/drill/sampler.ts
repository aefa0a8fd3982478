// Reads every director over its control socket, over and over, into DirectorSamples, and
// their fence histories into fence events. What a status says maps to a sample by a pure
// function; a node that does not answer within the poll is `down`.
import { controlRequest } from '../director/control-client';
import type { DirectorSample, DrillEvent } from './report';

/** The part of `hadirector status` a sample reads. */
export interface StatusForSample {
  readonly vrrp?: ReadonlyArray<{ readonly state: string }>;
  readonly cluster?: {
    readonly view: { readonly quorate: boolean; readonly dc?: string };
    readonly settled?: boolean;
    readonly peers: ReadonlyArray<{ readonly peer: string; readonly state: string }>;
  };
}

interface FenceHistoryEntry {
  readonly id: number;
  readonly target: string;
  readonly action: string;
  readonly requestedAt: number;
  readonly result: string;
  readonly durationMs?: number;
}

const vrrpStates = new Set(['init', 'backup', 'master', 'fault']);
const pollTimeoutMs = 200;

export function sampleOf(tMs: number, node: string, status: StatusForSample | undefined): DirectorSample {
  if (status === undefined) return { tMs, node, state: 'down' };
  const state = status.vrrp?.[0]?.state;
  const known = state !== undefined && vrrpStates.has(state);
  const cluster = status.cluster;
  return {
    tMs,
    node,
    state: known ? (state as DirectorSample['state']) : 'none',
    holdsVip: state === 'master',
    ...(cluster !== undefined ? { quorate: cluster.view.quorate, ...(cluster.settled !== undefined ? { settled: cluster.settled } : {}), peersDown: cluster.peers.filter((p) => p.state === 'dead').map((p) => p.peer), ...(cluster.view.dc !== undefined ? { dc: cluster.view.dc } : {}) } : {}),
  };
}

export class Sampler {
  readonly directors: DirectorSample[] = [];
  readonly fences: DrillEvent[] = [];
  private readonly fenceIds = new Set<string>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly nodes: readonly string[],
    private readonly socket: (node: string) => string,
    /** Milliseconds since the drill started. */
    private readonly nowMs: () => number,
    private readonly startWallMs: number,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const began = this.nowMs();
      await Promise.all(this.nodes.map((n) => this.sample(n)));
      const wait = this.everyMs - (this.nowMs() - began);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async sample(node: string): Promise<void> {
    const tMs = this.nowMs();
    const r = await controlRequest(this.socket(node), { op: 'status' }, pollTimeoutMs).catch(() => undefined);
    this.directors.push(sampleOf(tMs, node, r?.ok === true ? (r.result as StatusForSample) : undefined));
    if (r?.ok !== true) return;
    const history = await controlRequest(this.socket(node), { op: 'fence', action: 'history' }, pollTimeoutMs).catch(() => undefined);
    for (const f of history?.ok === true ? (history.result as FenceHistoryEntry[]) : []) {
      const key = `${f.target}/${f.requestedAt}`;
      // The history goes back past this drill: only what was asked since it began is its own.
      if (f.result !== 'success' || f.action === 'clear' || f.requestedAt < this.startWallMs || this.fenceIds.has(key)) continue;
      this.fenceIds.add(key);
      this.fences.push({ tMs: Math.round(f.requestedAt + (f.durationMs ?? 0) - this.startWallMs), kind: 'fence', node: f.target, detail: `${f.action} ${f.target}, ordered by ${node}` });
    }
  }
}
