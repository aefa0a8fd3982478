// Fencing on a cluster node: the coordinator's machine fed with the cluster's views and
// what peers say, its actions performed (timers armed, agents started and their outcomes
// fed back, aborted when it says so), what it fences told to the rest of the director
// (so every takeover gate learns it), its alerts logged as errors, and the operator's
// requests of the control API. The daemon and the simulation run this same shell; only
// the agent driver, the clock and the log differ.
import type { Clock } from '../common/clock';
import type { LogSink } from '../common/log';
import type { Rng } from '../common/rng';
import { detectorTiming, type ClusterConfig } from '../cluster/config';
import type { ClusterFacts } from '../cluster/facts';
import { findAgent, readMetadata, unknownOptions } from '../fencing/agents/fence-agent';
import type { AgentRunner, FenceAgentDriver } from '../fencing/agents/runner';
import { FencingCoordinator, type FencingCoordinatorOptions, type FenceMark, type FenceRecord, type FencingAction, type FencingEvent, type FenceTimer, type ViewFacts } from '../fencing/coordinator';
import { RefusedRequest, type FenceControl } from './control-protocol';
import { Timers } from './timers';

/** How many operations `status` shows; `fence history` shows them all. */
const statusHistory = 10;
const component = { component: 'fencing' };

/** What the coordinator needs of the cluster: the view, its members' epochs, who holds VIPs, who left cleanly, who is heard on the wire, whether this node can serve. */
export function fencingView(facts: ClusterFacts, epochs: ReadonlyMap<string, number>, holders: readonly string[], wireHeard: readonly string[], unfit?: string): ViewFacts {
  const view = facts.view;
  const left = [...facts.peers].flatMap(([peer, p]) => (p.left ? [peer] : []));
  return { members: view.members, quorate: view.quorate, majority: 2 * view.votes > view.expectedVotes, epochs, holders, left, settled: facts.settled, wireHeard, ...(view.dc !== undefined ? { dc: view.dc } : {}), ...(unfit !== undefined ? { unfit } : {}) };
}

export interface ClusterFencingOptions {
  readonly cluster: ClusterConfig;
  readonly self: string;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly agents: FenceAgentDriver;
  readonly log: LogSink;
  /** A node was fenced: what it held may be taken over. */
  readonly onFenced: (node: string, record: FenceRecord) => void;
  /** How long after every level failed the topology is tried again (the coordinator's default when absent). */
  readonly retryAfterMs?: number;
  readonly coordinator?: CoordinatorFactory;
  /** Runs before a fence is started or tried again: the last chance to learn this node was cut off itself. */
  readonly beforeFence?: () => void;
}

export type CoordinatorFactory = (o: FencingCoordinatorOptions, clock: Clock, rng: Rng) => FencingCoordinator;

export class ClusterFencing {
  private readonly coordinator: FencingCoordinator;
  private readonly timers: Timers<FenceTimer>;
  private readonly aborts = new Map<number, () => void>();
  private readonly queue: FencingEvent[] = [];
  private stepping = false;

  constructor(private readonly o: ClusterFencingOptions) {
    const nodes = o.cluster.nodes;
    const options: FencingCoordinatorOptions = {
      self: o.self,
      config: o.cluster.fencing,
      directors: nodes.filter((n) => !n.witness).map((n) => n.name),
      priorities: new Map(nodes.map((n) => [n.name, n.priority])),
      ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}),
      clearGraceMs: detectorTiming(o.cluster).initdeadMs,
    };
    this.coordinator = o.coordinator?.(options, o.clock, o.rng) ?? new FencingCoordinator(options, o.clock, o.rng);
    this.timers = new Timers(o.clock, (timer) => {
      if (!timer.startsWith('attempt')) o.beforeFence?.();
      this.dispatch({ kind: 'timerFired', timer });
    });
  }

  /**
   * Checks each fence_* device's options against what its agent's metadata lists, and
   * warns where one is unknown (a typo would otherwise only show when fencing fails).
   */
  async checkAgents(): Promise<void> {
    for (const device of this.o.cluster.fencing.devices) {
      if (device.agent?.startsWith('fence_') !== true) continue;
      const program = findAgent(device.agent);
      if (program === undefined) {
        this.o.log.error(`fence device ${device.name}: ${device.agent} is not installed (Debian: apt-get install fence-agents)`, component);
        continue;
      }
      const meta = await readMetadata(program);
      if ('error' in meta) {
        this.o.log.warn(`fence device ${device.name}: ${meta.error}`, component);
        continue;
      }
      for (const option of unknownOptions(meta.parameters, device.options)) {
        const at = device.optionWhere[option];
        this.o.log.warn(`${at !== undefined ? `${at.file}:${at.line}:${at.col}: ` : ''}fence device ${device.name}: ${device.agent} takes no option '${option}' (its metadata lists: ${meta.parameters.join(', ')})`, component);
      }
    }
  }

  viewChanged(view: ViewFacts): void {
    this.dispatch({ kind: 'viewChanged', view });
  }

  peerLeft(node: string): void {
    this.dispatch({ kind: 'peerLeft', node });
  }

  leaveRevoked(node: string): void {
    this.dispatch({ kind: 'leaveRevoked', node });
  }

  deposed(reason: string | undefined): void {
    if (reason === this.coordinator.deposed) return;
    this.dispatch(reason === undefined ? { kind: 'reinstated' } : { kind: 'deposed', reason });
  }

  /** What heartbeats say of fencing. */
  marks(): FenceMark[] {
    return this.coordinator.marks();
  }

  /** Targets being fenced now (in their delay, or running an agent). */
  pending(): string[] {
    return this.coordinator.pending();
  }

  /** The nodes fenced, by name. */
  fencedNodes(): string[] {
    return this.coordinator.marks().flatMap((m) => (m.state === 'fenced' ? [m.node] : []));
  }

  isFenced(node: string): boolean {
    return this.coordinator.isFenced(node);
  }

  stop(): void {
    this.dispatch({ kind: 'stop' });
    this.timers.clear();
  }

  status(): { mode: string; leading: boolean; deposed?: string; pending: string[]; fenced: string[]; marks: FenceMark[]; history: readonly FenceRecord[] } {
    const c = this.coordinator;
    return { mode: this.o.cluster.fencing.mode, leading: c.isLeading, ...(c.deposed !== undefined ? { deposed: c.deposed } : {}), pending: c.pending(), fenced: this.fencedNodes(), marks: c.marks(), history: c.history().slice(-statusHistory) };
  }

  /** An operator's request; an answer, or a RefusedRequest saying what is wrong. */
  async request(r: FenceControl, runner?: AgentRunner): Promise<unknown> {
    switch (r.action) {
      case 'history':
        return this.coordinator.history();
      case 'confirm':
        this.knownNode(r.target);
        this.o.log.warn(`an operator confirmed ${r.target} is off`, component);
        return this.answer({ kind: 'confirmed', target: r.target });
      case 'clear':
        this.knownNode(r.target);
        return this.answer({ kind: 'cleared', target: r.target });
      case 'test': {
        const device = this.o.cluster.fencing.devices.find((d) => d.name === r.target);
        if (device === undefined) throw new RefusedRequest(`no fence device '${r.target}' (devices: ${this.o.cluster.fencing.devices.map((d) => d.name).join(', ') || 'none'})`);
        if (runner === undefined) throw new RefusedRequest('no agent runner here to test a device with');
        const target = device.hosts[0] ?? this.o.cluster.fencing.levels.find((l) => l.devices.some((d) => d.name === device.name))?.target;
        const abort = new AbortController();
        const timer = this.o.clock.setTimeout(() => abort.abort(), device.timeoutMs);
        try {
          return await runner.run(device, target ?? '', device.agent?.startsWith('fence_') === true ? 'monitor' : 'status', abort.signal);
        } finally {
          this.o.clock.clearTimeout(timer);
        }
      }
      default:
        this.knownNode(r.target);
        return this.answer({ kind: 'fenceRequested', target: r.target, action: r.action });
    }
  }

  private answer(event: FencingEvent): FenceRecord {
    const reply = this.dispatch(event);
    if (reply === undefined) throw new RefusedRequest('the fencing coordinator gave no answer');
    if ('error' in reply) throw new RefusedRequest(reply.error);
    return reply;
  }

  private knownNode(name: string): void {
    const nodes = this.o.cluster.nodes.map((n) => n.name);
    if (!nodes.includes(name)) throw new RefusedRequest(`'${name}' is no node of the cluster (${nodes.join(', ')})`);
  }

  /**
   * Steps the coordinator and performs what it returns. An event that arrives while
   * actions are being performed (an agent that answers at once) waits its turn, so the
   * machine never sees one event inside another.
   */
  private dispatch(event: FencingEvent): FenceRecord | { error: string } | undefined {
    this.queue.push(event);
    if (this.stepping) return undefined;
    this.stepping = true;
    let reply: FenceRecord | { error: string } | undefined;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        for (const action of this.coordinator.step(next)) reply = this.perform(action) ?? reply;
      }
    } finally {
      this.stepping = false;
    }
    return reply;
  }

  private perform(a: FencingAction): FenceRecord | { error: string } | undefined {
    switch (a.kind) {
      case 'runAgent': {
        const attempt = a.attempt;
        // In the map while it runs: an agent that answers at once takes itself off first.
        this.aborts.set(attempt, () => undefined);
        const abort = this.o.agents.start(a.device, a.target, a.action, (outcome) => {
          if (this.aborts.delete(attempt)) this.dispatch({ kind: 'agentFinished', attempt, outcome });
        });
        if (this.aborts.has(attempt)) this.aborts.set(attempt, abort);
        return undefined;
      }
      case 'abortAgent': {
        const abort = this.aborts.get(a.attempt);
        this.aborts.delete(a.attempt);
        abort?.();
        return undefined;
      }
      case 'setTimer':
        this.timers.set(a.timer, a.atMs);
        return undefined;
      case 'cancelTimer':
        this.timers.cancel(a.timer);
        return undefined;
      case 'fenced':
        this.o.onFenced(a.target, a.record);
        return undefined;
      case 'reply':
        return a.result;
      case 'alert':
        this.o.log.error(a.message, { ...component, code: a.code });
        return undefined;
      case 'log':
        this.o.log.info(a.message, component);
        return undefined;
    }
  }
}
