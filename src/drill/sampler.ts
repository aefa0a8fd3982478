// Reads every director over its control socket, over and over, into DirectorSamples, and
// their fence histories into fence events; beside what each says, what the kernel says
// it still serves, and (in namespaces) whose MAC the client has for the VIP. What a
// status says maps to a sample by a pure function; a node that does not answer within
// the poll is `down`.
import { controlRequest } from '../director/control-client';
import type { DrillCluster } from './cluster';
import type { DirectorSample, DrillEvent, NeighbourSample } from './report';

/** The part of `hadirector status` a sample reads. */
export interface StatusForSample {
  /** `userspace`: the director relays every connection itself. */
  readonly dataPlane?: string;
  readonly vrrp?: ReadonlyArray<{ readonly state: string }>;
  readonly sync?: {
    readonly peers: ReadonlyArray<{ readonly peer: string; readonly ms: number }>;
    readonly copies?: ReadonlyArray<{ readonly peer: string; readonly inSync: boolean }>;
  };
  readonly cluster?: {
    readonly view: { readonly quorate: boolean; readonly dc?: string };
    readonly settled?: boolean;
    readonly peers: ReadonlyArray<{ readonly peer: string; readonly state: string; readonly skew?: string }>;
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

export function sampleOf(tMs: number, node: string, status: StatusForSample | undefined, vipOnHost?: boolean): DirectorSample {
  const kernel = vipOnHost !== undefined ? { vipOnHost } : {};
  if (status === undefined) return { tMs, node, state: 'down', ...kernel };
  const state = status.vrrp?.[0]?.state;
  const known = state !== undefined && vrrpStates.has(state);
  const cluster = status.cluster;
  const skews = (cluster?.peers ?? []).flatMap((p) => (p.skew === 'warn' || p.skew === 'critical' ? [{ peer: p.peer, level: p.skew as 'warn' | 'critical' }] : []));
  return {
    tMs,
    node,
    state: known ? (state as DirectorSample['state']) : 'none',
    holdsVip: state === 'master',
    ...kernel,
    ...(cluster !== undefined ? { quorate: cluster.view.quorate, ...(cluster.settled !== undefined ? { settled: cluster.settled } : {}), peersDown: cluster.peers.filter((p) => p.state === 'dead').map((p) => p.peer), ...(cluster.view.dc !== undefined ? { dc: cluster.view.dc } : {}) } : {}),
    ...(skews.length > 0 ? { skews } : {}),
    ...(status.sync !== undefined ? { syncLagMs: Math.max(0, ...status.sync.peers.map((p) => p.ms)), copiesWhole: copiesWhole(status.sync) } : {}),
  };
}

/** A copy of every peer's table that this director streams to, each whole and current. */
function copiesWhole(sync: NonNullable<StatusForSample['sync']>): boolean {
  return sync.peers.every(({ peer }) => sync.copies?.some((c) => c.peer === peer && c.inSync) === true);
}

export class Sampler {
  readonly directors: DirectorSample[] = [];
  readonly fences: DrillEvent[] = [];
  readonly neighbours: NeighbourSample[] = [];
  private readonly fenceIds = new Set<string>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly cluster: DrillCluster,
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
      const [holders] = await Promise.all([this.cluster.vipHolders(), this.neighbour()]);
      await Promise.all(this.cluster.nodes.map((n) => this.sample(n, holders.has(n))));
      const wait = this.everyMs - (this.nowMs() - began);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async neighbour(): Promise<void> {
    if (this.cluster.clientNeighbour === undefined) return;
    const tMs = this.nowMs();
    const node = await this.cluster.clientNeighbour().catch(() => undefined);
    this.neighbours.push({ tMs, ...(node !== undefined ? { node } : {}) });
  }

  private async sample(node: string, vipOnHost: boolean): Promise<void> {
    const tMs = this.nowMs();
    const socket = this.cluster.socket(node);
    const r = await controlRequest(socket, { op: 'status' }, pollTimeoutMs).catch(() => undefined);
    this.directors.push(sampleOf(tMs, node, r?.ok === true ? (r.result as StatusForSample) : undefined, vipOnHost));
    if (r?.ok !== true) return;
    const history = await controlRequest(socket, { op: 'fence', action: 'history' }, pollTimeoutMs).catch(() => undefined);
    for (const f of history?.ok === true ? (history.result as FenceHistoryEntry[]) : []) {
      const key = `${f.target}/${f.requestedAt}`;
      // The history goes back past this drill: only what was asked since it began is its own.
      if (f.result !== 'success' || f.action === 'clear' || f.requestedAt < this.startWallMs || this.fenceIds.has(key)) continue;
      this.fenceIds.add(key);
      this.fences.push({ tMs: Math.round(f.requestedAt + (f.durationMs ?? 0) - this.startWallMs), kind: 'fence', node: f.target, detail: `${f.action} ${f.target}, ordered by ${node}` });
    }
  }
}
