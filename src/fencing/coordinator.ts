// The fencing coordinator: only the DC of a quorate partition fences, and a director that
// left the view without saying so is fenced before anyone may take over what it held.
// Its topology is tried level by level (every device of a level must succeed; the next
// level when one fails), each device with its timeout and retries; when every level
// failed an alert is raised and the whole topology is tried again later, for as long as
// the node stays away. A random delay (between delay_base and delay_max) before an
// automatic fence breaks the race of two halves of a two-node cluster fencing each other.
//
// Pure, as VrrpInstance is: events in, actions out. Agents run where the caller runs
// them (`runAgent`, answered by `agentFinished`); every wait is a `setTimer` the caller
// arms and answers with `timerFired`. Every operation is kept in the history.
//
// Invariants: at most one operation per target; an operation in its delay has its delay
// timer armed, one running an agent has its attempt timer armed, and every operation
// ends (success, failure or cancel) within its delay plus the sum of its devices'
// timeouts and retries; a deposed node runs no operation and starts none; a node that
// left cleanly is not fenced for leaving; without a majority, a node that can serve
// nothing (all its instances in FAULT) starts no automatic fence.
import type { Clock } from '../common/clock';
import type { Rng } from '../common/rng';
import { winsFenceRace } from '../cluster/quorum';
import { invariant } from '../common/invariant';
import type { FenceAction, FenceDeviceConfig, FencingConfig } from './config';

export interface FenceOutcome {
  readonly ok: boolean;
  /** What the agent said, without secrets. */
  readonly detail: string;
}

export type FenceOrigin = 'automatic' | 'manual' | 'confirmed';

export interface FenceAttempt {
  readonly level: number;
  readonly device: string;
  readonly attempt: number;
  readonly startedMs: number;
  readonly durationMs: number;
  readonly result: 'success' | 'failed' | 'timeout';
  readonly detail: string;
}

export interface FenceRecord {
  readonly id: number;
  readonly target: string;
  /** `clear`: an operator cleared the node (it may act again), not a fence. */
  readonly action: FenceAction | 'on' | 'clear';
  readonly origin: FenceOrigin;
  /** Wall-clock time of the request, for people reading the history. */
  readonly requestedAt: number;
  result: 'pending' | 'success' | 'failed';
  readonly attempts: FenceAttempt[];
  durationMs?: number;
}

/** A fence mark's age on the wire is a uint32: an older fence is said to be this old, which no one takes for recent. */
const agoMaxMs = 0xffffffff;

/** What this node says of another's fencing in its heartbeats: the boot epoch it is about (0: unknown). */
export interface FenceMark {
  readonly node: string;
  readonly epoch: number;
  readonly state: 'fencing' | 'fenced';
  /** A fenced mark: how long before sending the fence completed (a span, so skew does not matter). */
  readonly agoMs?: number;
}

export interface ViewFacts {
  readonly members: readonly string[];
  readonly quorate: boolean;
  readonly dc?: string;
  /**
   * The view holds more than half the votes. Only a view without a majority (two_node
   * quorum, say) may have a rival fencing it from the other side of a cut.
   */
  readonly majority: boolean;
  /** Each member's boot epoch, as last heard. */
  readonly epochs: ReadonlyMap<string, number>;
  /** The directors known to hold a VIP: this node's instances, peers' latest heartbeats. */
  readonly holders: readonly string[];
  /** Directors that left cleanly, in their current run, as this node or a member heard it. */
  readonly left: readonly string[];
  /** The start-up grace is over: a director not heard by now is in an unknown state. */
  readonly settled: boolean;
  /**
   * Directors whose VRRP adverts this node hears on the wire now: one never heard in the
   * cluster but heard there (still keepalived, or not yet given this cluster block) is in
   * a known state, and is not fenced for its silence in the cluster.
   */
  readonly wireHeard: readonly string[];
  /**
   * Why this node can serve nothing (every instance held in FAULT by its trackers or host
   * health), if so.
   */
  readonly unfit?: string;
}

export type FenceTimer = `${'delay' | 'attempt' | 'retry' | 'grace'} ${string}`;

export type FencingEvent =
  | { readonly kind: 'viewChanged'; readonly view: ViewFacts }
  /** The node said, authenticated, that it is leaving: its absence is no failure. */
  | { readonly kind: 'peerLeft'; readonly node: string }
  /** It said it was leaving and is still sending: its leave no longer counts. */
  | { readonly kind: 'leaveRevoked'; readonly node: string }
  /** This node must not act: it was fenced, is being fenced, or lost its links. */
  | { readonly kind: 'deposed'; readonly reason: string }
  | { readonly kind: 'reinstated' }
  | { readonly kind: 'fenceRequested'; readonly target: string; readonly action: FenceAction | 'on' }
  | { readonly kind: 'confirmed'; readonly target: string }
  /** An operator says the node may act again: its fenced mark (in whatever run) is dropped. */
  | { readonly kind: 'cleared'; readonly target: string }
  | { readonly kind: 'agentFinished'; readonly attempt: number; readonly outcome: FenceOutcome }
  | { readonly kind: 'timerFired'; readonly timer: FenceTimer }
  | { readonly kind: 'stop' };

export type FencingAction =
  | { readonly kind: 'runAgent'; readonly attempt: number; readonly device: FenceDeviceConfig; readonly target: string; readonly action: FenceAction | 'on' }
  | { readonly kind: 'abortAgent'; readonly attempt: number }
  | { readonly kind: 'setTimer'; readonly timer: FenceTimer; readonly atMs: number }
  | { readonly kind: 'cancelTimer'; readonly timer: FenceTimer }
  /** The target is off: what it held may be taken over. */
  | { readonly kind: 'fenced'; readonly target: string; readonly record: FenceRecord }
  /** The answer to an operator's request. */
  | { readonly kind: 'reply'; readonly result: FenceRecord | { readonly error: string } }
  | { readonly kind: 'alert'; readonly code: 'HAD_FENCE_LEVEL_FAILED' | 'HAD_FENCE_FAILED' | 'HAD_FENCE_NO_DEVICE'; readonly message: string }
  | { readonly kind: 'log'; readonly message: string };

export interface FencingCoordinatorOptions {
  readonly self: string;
  readonly config: FencingConfig;
  /** Every director: the nodes that may hold a VIP, so the ones fenced when they fail. */
  readonly directors: readonly string[];
  /** Each node's DC priority, for the race between two sides. */
  readonly priorities: ReadonlyMap<string, number>;
  /** How long after every level failed the topology is tried again. */
  readonly retryAfterMs?: number;
  /** How long a node an operator cleared has to rejoin before it is fenced again if still away (initdead). */
  readonly clearGraceMs?: number;
}

export const clearGraceDefaultMs = 10_000;

export const fenceRetryAfterDefaultMs = 30_000;
/** At most this many operations are kept in the history. */
export const historyLimit = 500;

interface Level {
  readonly index: number;
  readonly devices: readonly FenceDeviceConfig[];
}

interface Operation {
  readonly record: FenceRecord;
  readonly action: FenceAction | 'on';
  readonly epoch: number;
  readonly startedMs: number;
  phase: 'delay' | 'running';
  levels: readonly Level[];
  level: number;
  device: number;
  /** 1-based, per device. */
  try: number;
  /** The agent run in flight, by its number. */
  attemptId: number;
  attemptStartedMs: number;
}

const emptyView: ViewFacts = { members: [], quorate: false, majority: false, epochs: new Map(), holders: [], left: [], settled: false, wireHeard: [] };

export class FencingCoordinator {
  private readonly records: FenceRecord[] = [];
  private readonly running = new Map<string, Operation>();
  /** Nodes fenced (or confirmed off), each with the epoch it was fenced in. */
  private readonly fencedMarks = new Map<string, { readonly epoch: number; readonly atMs: number }>();
  /** Targets waiting to be tried again. */
  private readonly retrying = new Set<string>();
  private readonly everMember = new Set<string>();
  private readonly leftCleanly = new Set<string>();
  private readonly lastEpoch = new Map<string, number>();
  /** Nodes an operator cleared, not fenced for being away until their grace ends. */
  private readonly graced = new Set<string>();
  private view: ViewFacts = emptyView;
  private deposedWhy: string | undefined;
  private nextRecordId = 1;
  private nextAttemptId = 1;

  constructor(
    private readonly o: FencingCoordinatorOptions,
    private readonly clock: Clock,
    private readonly rng: Rng,
  ) {}

  step(event: FencingEvent): FencingAction[] {
    const actions = this.handle(event);
    invariant(this.deposedWhy === undefined || (this.running.size === 0 && this.retrying.size === 0), 'a coordinator that stands down runs no fence');
    invariant(this.running.size <= this.o.directors.length, 'at most one fence operation per director');
    return actions;
  }

  private handle(event: FencingEvent): FencingAction[] {
    switch (event.kind) {
      case 'viewChanged':
        return this.onView(event.view);
      case 'peerLeft':
        return this.onPeerLeft(event.node);
      case 'leaveRevoked':
        this.leftCleanly.delete(event.node);
        return this.fenceAbsent();
      case 'deposed':
        return this.onDeposed(event.reason);
      case 'reinstated':
        this.deposedWhy = undefined;
        return this.fenceAbsent();
      case 'fenceRequested':
        return this.onRequest(event.target, event.action);
      case 'confirmed':
        return this.onConfirmed(event.target);
      case 'cleared':
        return this.onCleared(event.target);
      case 'agentFinished':
        return this.onAgentFinished(event.attempt, event.outcome);
      case 'timerFired':
        return this.onTimer(event.timer);
      case 'stop':
        this.graced.clear();
        return [...this.running.keys(), ...this.retrying].flatMap((target) => this.cancel(target, 'stopping'));
    }
  }

  /** One stable line for logs and tests. */
  describe(): string {
    const ops = [...this.running].map(([t, op]) => `${t}:${op.phase}${op.phase === 'running' ? `(level ${op.levels[op.level]?.index ?? '?'} try ${op.try})` : ''}`);
    const marks = [...this.fencedMarks].map(([node, m]) => `${node}@${m.epoch}`);
    return [
      `${this.o.self} ${this.deposedWhy !== undefined ? 'deposed' : this.isLeading ? 'leading' : 'following'}`,
      `running=[${ops.join(',')}]`,
      `fenced=[${marks.join(',')}]`,
      ...(this.retrying.size > 0 ? [`retrying=[${[...this.retrying].join(',')}]`] : []),
      ...(this.leftCleanly.size > 0 ? [`left=[${[...this.leftCleanly].join(',')}]`] : []),
    ].join(' ');
  }

  /** True once the node was fenced or confirmed off, until it is back from a restart. */
  isFenced(node: string): boolean {
    return this.fencedMarks.has(node);
  }

  /**
   * What heartbeats say of fencing: each node being fenced (an operation in its delay or
   * running; not one waiting to be tried again, which no agent may ever fence) and each fenced.
   */
  marks(): FenceMark[] {
    const out: FenceMark[] = [];
    for (const [node, op] of this.running) if (op.action !== 'on') out.push({ node, epoch: op.epoch, state: 'fencing' });
    const nowMs = this.clock.nowMs();
    for (const [node, m] of this.fencedMarks) out.push({ node, epoch: m.epoch, state: 'fenced', agoMs: Math.min(agoMaxMs, Math.max(0, Math.round(nowMs - m.atMs))) });
    return out;
  }

  /** Whether this node is the DC of a quorate view and not deposed: the one that fences. */
  get isLeading(): boolean {
    return this.view.quorate && this.view.dc === this.o.self && this.deposedWhy === undefined;
  }

  get deposed(): string | undefined {
    return this.deposedWhy;
  }

  history(): readonly FenceRecord[] {
    return this.records;
  }

  /** Targets being fenced now. */
  pending(): string[] {
    return [...this.running.keys()];
  }

  private onView(view: ViewFacts): FencingAction[] {
    this.view = view;
    const actions: FencingAction[] = [];
    for (const [node, epoch] of view.epochs) this.lastEpoch.set(node, epoch);
    for (const m of view.members) {
      this.everMember.add(m);
      this.leftCleanly.delete(m);
      if (this.graced.delete(m)) actions.push({ kind: 'cancelTimer', timer: `grace ${m}` });
      const mark = this.fencedMarks.get(m);
      // Back from a restart (a power cycle): it is a member like any other. Back in the
      // same run (its links were cut, say) it stays fenced until an operator clears it.
      if (mark !== undefined && (mark.epoch === 0 || mark.epoch !== view.epochs.get(m))) this.fencedMarks.delete(m);
      actions.push(...this.cancel(m, `${m} is back in the view`));
    }
    const aside = this.standsAside;
    if (!this.isLeading || aside !== undefined) {
      const why = aside ?? 'this node is no longer the DC of a quorate view';
      for (const [target, op] of this.running) if (op.record.origin === 'automatic' && op.phase === 'delay') actions.push(...this.cancel(target, why));
      return actions;
    }
    for (const node of view.wireHeard) {
      const op = this.running.get(node);
      if (op?.record.origin === 'automatic' && op.phase === 'delay' && !this.everMember.has(node)) actions.push(...this.cancel(node, `${node} is heard on the wire`));
    }
    return [...actions, ...this.fenceAbsent()];
  }

  /**
   * As DC, fences every director that is away, unless it left cleanly: one that was in the
   * view, and (as Pacemaker's startup fencing) once the start-up grace is over, one never
   * heard, whose state no one here knows: not one heard speaking VRRP on the wire.
   */
  private fenceAbsent(): FencingAction[] {
    if (!this.isLeading || this.standsAside !== undefined) return [];
    const members = new Set(this.view.members);
    const actions: FencingAction[] = [];
    for (const node of this.o.directors) {
      if (node === this.o.self || members.has(node) || this.leftCleanly.has(node) || this.view.left.includes(node) || this.graced.has(node)) continue;
      if (!this.everMember.has(node) && (!this.view.settled || this.view.wireHeard.includes(node))) continue;
      if (this.fencedMarks.has(node) || this.running.has(node) || this.retrying.has(node)) continue;
      actions.push(...this.start(node, this.o.config.action, 'automatic').actions);
    }
    return actions;
  }

  private onPeerLeft(node: string): FencingAction[] {
    this.leftCleanly.add(node);
    const op = this.running.get(node);
    // A manual fence goes on: an operator asked for it.
    if (op === undefined || op.record.origin === 'automatic') return this.cancel(node, `${node} left cleanly`);
    return [];
  }

  private onDeposed(reason: string): FencingAction[] {
    const first = this.deposedWhy === undefined;
    this.deposedWhy = reason;
    const actions = [...this.running.keys(), ...this.retrying].flatMap((target) => this.cancel(target, `this node is deposed: ${reason}`));
    return first ? [{ kind: 'log', message: `fencing no one: ${reason}` }, ...actions] : actions;
  }

  private onRequest(target: string, action: FenceAction | 'on'): FencingAction[] {
    const refuse = (error: string): FencingAction[] => [{ kind: 'reply', result: { error } }];
    if (this.deposedWhy !== undefined) return refuse(`this node fences no one: ${this.deposedWhy}`);
    if (!this.isLeading) return refuse('only the DC of a quorate view fences: ask it (hadirector status shows which node is DC)');
    if (target === this.o.self) return refuse('a node does not fence itself');
    if (this.running.has(target)) return refuse(`${target} is being fenced already`);
    const { record, actions } = this.start(target, action, 'manual');
    return [...actions, { kind: 'reply', result: record }];
  }

  /** An operator states the node is off (no agent could say so): it counts as fenced. */
  private onConfirmed(target: string): FencingAction[] {
    const actions = this.cancel(target, 'confirmed off by an operator');
    const record = this.newRecord(target, this.o.config.action, 'confirmed');
    record.result = 'success';
    record.durationMs = 0;
    return [...actions, ...this.succeeded(target, this.lastEpoch.get(target) ?? 0, record), { kind: 'reply', result: record }];
  }

  private onCleared(target: string): FencingAction[] {
    const actions = this.cancel(target, 'cleared by an operator');
    const hadMark = this.fencedMarks.delete(target);
    const record = this.newRecord(target, 'clear', 'manual');
    record.result = 'success';
    record.durationMs = 0;
    const detail = target === this.o.self ? 'this node may act again' : hadMark ? 'its fenced mark is dropped here' : 'no fenced mark here';
    record.attempts.push({ level: 0, device: '-', attempt: 0, startedMs: this.clock.nowMs(), durationMs: 0, result: 'success', detail });
    // Away still, it has a while to rejoin before it is fenced again.
    const grace: FencingAction[] = [];
    if (target !== this.o.self && !this.view.members.includes(target)) {
      this.graced.add(target);
      grace.push({ kind: 'setTimer', timer: `grace ${target}`, atMs: this.clock.nowMs() + (this.o.clearGraceMs ?? clearGraceDefaultMs) });
    }
    return [...actions, ...grace, { kind: 'log', message: `${target} cleared by an operator: ${detail}` }, { kind: 'reply', result: record }];
  }

  private start(target: string, action: FenceAction | 'on', origin: FenceOrigin): { record: FenceRecord; actions: FencingAction[] } {
    const record = this.newRecord(target, action, origin);
    const nowMs = this.clock.nowMs();
    const op: Operation = { record, action, epoch: this.lastEpoch.get(target) ?? 0, startedMs: nowMs, phase: 'delay', levels: [], level: 0, device: 0, try: 1, attemptId: 0, attemptStartedMs: nowMs };
    this.running.set(target, op);
    const retryTimer = this.retrying.has(target) ? [{ kind: 'cancelTimer', timer: `retry ${target}` } as const] : [];
    this.retrying.delete(target);
    const delayMs = origin === 'automatic' ? this.raceDelayMs(target) : 0;
    const log: FencingAction = { kind: 'log', message: `fencing ${target} (${action}, ${origin})${delayMs > 0 ? ` after a delay of ${delayMs} ms` : ''}` };
    if (delayMs > 0) return { record, actions: [...retryTimer, log, { kind: 'setTimer', timer: `delay ${target}`, atMs: nowMs + delayMs }] };
    return { record, actions: [...retryTimer, log, ...this.begin(target, op)] };
  }

  /**
   * As Pacemaker's pcmk_delay_base and pcmk_delay_max: at least the base, at most the
   * max, random in between. Without a majority (two_node), fencing a node that should win
   * (as Pacemaker's priority-fencing-delay) waits twice delay_max more, so of two sides
   * fencing each other the one that matters acts at least delay_max first.
   */
  private raceDelayMs(target: string): number {
    const { delayBaseMs: base, delayMaxMs: max } = this.o.config;
    const spread = Math.max(base, max) - base;
    const side = (name: string) => ({ name, priority: this.o.priorities.get(name) ?? 0, holdsVips: this.view.holders.includes(name) });
    const yieldMs = !this.view.majority && winsFenceRace(side(target), side(this.o.self)) ? 2 * Math.max(base, max) : 0;
    return base + Math.floor(this.rng.next() * (spread + 1)) + yieldMs;
  }

  /** The delay is over: the first level's first device. */
  private begin(target: string, op: Operation): FencingAction[] {
    op.phase = 'running';
    op.levels = this.levelsFor(target);
    if (op.levels.length === 0) {
      const alert: FencingAction = { kind: 'alert', code: 'HAD_FENCE_NO_DEVICE', message: `no fence device can fence ${target}: add a level or a device whose hosts include it` };
      return [alert, ...this.finish(target, op, false)];
    }
    return this.runAttempt(target, op);
  }

  private runAttempt(target: string, op: Operation): FencingAction[] {
    const device = op.levels[op.level]?.devices[op.device];
    if (device === undefined) return this.finish(target, op, false);
    op.attemptId = this.nextAttemptId++;
    op.attemptStartedMs = this.clock.nowMs();
    return [
      { kind: 'runAgent', attempt: op.attemptId, device, target, action: op.action },
      { kind: 'setTimer', timer: `attempt ${target}`, atMs: op.attemptStartedMs + device.timeoutMs },
    ];
  }

  private onAgentFinished(attemptId: number, outcome: FenceOutcome): FencingAction[] {
    for (const [target, op] of this.running) {
      if (op.phase !== 'running' || op.attemptId !== attemptId) continue;
      const cancel: FencingAction = { kind: 'cancelTimer', timer: `attempt ${target}` };
      return [cancel, ...this.attemptEnded(target, op, outcome.ok ? 'success' : 'failed', outcome.detail)];
    }
    // An answer after its timeout, or for an operation cancelled since: nothing to do.
    return [];
  }

  private onTimer(timer: FenceTimer): FencingAction[] {
    const space = timer.indexOf(' ');
    const kind = timer.slice(0, space);
    const target = timer.slice(space + 1);
    const op = this.running.get(target);
    if (kind === 'delay') return op !== undefined && op.phase === 'delay' ? this.begin(target, op) : [];
    if (kind === 'grace') return this.graced.delete(target) ? this.fenceAbsent() : [];
    if (kind === 'attempt') {
      if (op === undefined || op.phase !== 'running') return [];
      const device = op.levels[op.level]?.devices[op.device];
      const abort: FencingAction = { kind: 'abortAgent', attempt: op.attemptId };
      return [abort, ...this.attemptEnded(target, op, 'timeout', `no answer within ${device?.timeoutMs ?? 0} ms`)];
    }
    if (!this.retrying.has(target)) return [];
    this.retrying.delete(target);
    const away = !this.view.members.includes(target) && !this.fencedMarks.has(target) && !this.leftCleanly.has(target);
    return this.isLeading && this.standsAside === undefined && away && !this.running.has(target) ? this.start(target, this.o.config.action, 'automatic').actions : [];
  }

  /**
   * Why this node starts no automatic fence in a view without a majority: it can serve
   * nothing. Of two sides fencing each other the one that can serve must win, and what
   * each last heard of the other may be older than a FAULT (a holder whose host went red
   * as the link was cut is still a holder to its peer, and each would yield to the other).
   * With a majority there is no rival, and the DC fences whatever its instances' state.
   */
  private get standsAside(): string | undefined {
    return !this.view.majority && this.view.unfit !== undefined ? `this node can serve nothing (${this.view.unfit}): the side that can serve fences` : undefined;
  }

  /** One agent run ended: the next device, another try, the next level, or the end. */
  private attemptEnded(target: string, op: Operation, result: FenceAttempt['result'], detail: string): FencingAction[] {
    const level = op.levels[op.level];
    const device = level?.devices[op.device];
    if (level === undefined || device === undefined) return this.finish(target, op, false);
    const nowMs = this.clock.nowMs();
    op.record.attempts.push({ level: level.index, device: device.name, attempt: op.try, startedMs: op.attemptStartedMs, durationMs: nowMs - op.attemptStartedMs, result, detail });
    if (result === 'success') {
      op.try = 1;
      op.device++;
      return op.device < level.devices.length ? this.runAttempt(target, op) : this.finish(target, op, true);
    }
    const actions: FencingAction[] = [{ kind: 'log', message: `fencing ${target}: device ${device.name} attempt ${op.try}/${1 + device.retries}: ${result}: ${detail}` }];
    if (op.try < 1 + device.retries) {
      op.try++;
      return [...actions, ...this.runAttempt(target, op)];
    }
    const last = op.level === op.levels.length - 1;
    actions.push({ kind: 'alert', code: 'HAD_FENCE_LEVEL_FAILED', message: `fencing ${target}: level ${level.index} failed${last ? '' : '; trying the next level'}` });
    if (last) return [...actions, ...this.finish(target, op, false)];
    op.level++;
    op.device = 0;
    op.try = 1;
    return [...actions, ...this.runAttempt(target, op)];
  }

  private finish(target: string, op: Operation, done: boolean): FencingAction[] {
    this.running.delete(target);
    op.record.durationMs = this.clock.nowMs() - op.startedMs;
    if (done) {
      op.record.result = 'success';
      if (op.action !== 'on') return this.succeeded(target, op.epoch, op.record);
      return [{ kind: 'log', message: `${target} powered on` }];
    }
    op.record.result = 'failed';
    const holdsBack = this.o.config.mode === 'power' ? `what it held will not be taken over until it is fenced or confirmed off (hadirector fence confirm ${target})` : 'its VIPs are taken over at its self-release deadline all the same (mode self_release)';
    const actions: FencingAction[] = [{ kind: 'alert', code: 'HAD_FENCE_FAILED', message: `fencing ${target} failed at every level (${op.record.attempts.length} attempts): ${holdsBack}` }];
    if (op.record.origin !== 'automatic') return actions;
    this.retrying.add(target);
    return [...actions, { kind: 'setTimer', timer: `retry ${target}`, atMs: this.clock.nowMs() + (this.o.retryAfterMs ?? fenceRetryAfterDefaultMs) }];
  }

  private levelsFor(target: string): Level[] {
    const byName = new Map(this.o.config.devices.map((d) => [d.name, d]));
    const levels = this.o.config.levels
      .filter((l) => l.target === target)
      .sort((a, b) => a.index - b.index)
      .map((l) => ({ index: l.index, devices: l.devices.map((d) => byName.get(d.name)).filter((d): d is FenceDeviceConfig => d !== undefined) }))
      .filter((l) => l.devices.length > 0);
    if (levels.length > 0) return levels;
    // No topology for the target: each device that may fence it is a level of its own, in the order written.
    return this.o.config.devices.filter((d) => d.hosts.length === 0 || d.hosts.includes(target)).map((d, i) => ({ index: i + 1, devices: [d] }));
  }

  private succeeded(target: string, epoch: number, record: FenceRecord): FencingAction[] {
    this.fencedMarks.set(target, { epoch, atMs: this.clock.nowMs() });
    const cancelRetry: FencingAction[] = this.retrying.delete(target) ? [{ kind: 'cancelTimer', timer: `retry ${target}` }] : [];
    const by = record.attempts.at(-1)?.device;
    return [...cancelRetry, { kind: 'log', message: `${target} is fenced (${record.origin}${by !== undefined ? `, by ${by}` : ''})` }, { kind: 'fenced', target, record }];
  }

  private cancel(target: string, why: string): FencingAction[] {
    const actions: FencingAction[] = [];
    const op = this.running.get(target);
    if (op !== undefined) {
      if (op.phase === 'delay') actions.push({ kind: 'cancelTimer', timer: `delay ${target}` });
      else actions.push({ kind: 'abortAgent', attempt: op.attemptId }, { kind: 'cancelTimer', timer: `attempt ${target}` });
      op.record.result = 'failed';
      op.record.durationMs = this.clock.nowMs() - op.startedMs;
      op.record.attempts.push({ level: 0, device: '-', attempt: 0, startedMs: this.clock.nowMs(), durationMs: 0, result: 'failed', detail: `cancelled: ${why}` });
      this.running.delete(target);
      actions.push({ kind: 'log', message: `fencing ${target} cancelled: ${why}` });
    }
    if (this.retrying.delete(target)) actions.push({ kind: 'cancelTimer', timer: `retry ${target}` });
    return actions;
  }

  private newRecord(target: string, action: FenceRecord['action'], origin: FenceOrigin): FenceRecord {
    const record: FenceRecord = { id: this.nextRecordId++, target, action, origin, requestedAt: this.clock.wallMs(), result: 'pending', attempts: [] };
    this.records.push(record);
    if (this.records.length > historyLimit) this.records.splice(0, this.records.length - historyLimit);
    return record;
  }
}
