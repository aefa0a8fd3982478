// The fencing coordinator: only the DC of a quorate partition fences, and a director that
// left the view is fenced before anyone may take over what it held. Its topology is tried
// level by level (every device of a level must succeed; the next level when one fails),
// each device with its timeout and retries; when every level failed an alert is raised
// and the whole topology is tried again later, for as long as the node stays away. A
// random delay (between delay_base and delay_max) before an automatic fence breaks the race
// of two halves of a two-node cluster fencing each other. Pure: agents run behind
// FenceRunner, time is the injected clock, and every operation is kept in the history.
import type { Clock, TimerHandle } from '../common/clock';
import type { Rng } from '../common/rng';
import type { FenceAction, FenceDeviceConfig, FencingConfig } from './config';

export interface FenceOutcome {
  readonly ok: boolean;
  /** What the agent said, without secrets. */
  readonly detail: string;
}

export interface FenceRunner {
  /** Runs one device against a target; aborting `signal` must stop the agent. */
  run(device: FenceDeviceConfig, target: string, action: FenceAction | 'on', signal: AbortSignal): Promise<FenceOutcome>;
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
  readonly action: FenceAction | 'on';
  readonly origin: FenceOrigin;
  /** Wall-clock time of the request, for people reading the history. */
  readonly requestedAt: number;
  result: 'pending' | 'success' | 'failed';
  readonly attempts: FenceAttempt[];
  durationMs?: number;
}

export interface FencingEvents {
  /** The target is off: what it held may be taken over. */
  fenced(target: string, record: FenceRecord): void;
  alert(message: string): void;
  log(message: string): void;
}

export interface FencingCoordinatorOptions {
  readonly self: string;
  readonly config: FencingConfig;
  /** Every director: the nodes that may hold a VIP, so the ones fenced when they leave. */
  readonly directors: readonly string[];
  readonly clock: Clock;
  readonly rng: Rng;
  readonly runner: FenceRunner;
  readonly events: FencingEvents;
  /** How long after every level failed the topology is tried again. */
  readonly retryAfterMs?: number;
  /**
   * Whether `a` should survive a fencing match with `b` (it holds VIPs and `b` does not,
   * or the DC election ranks it higher): the other side then waits twice delay_max more.
   */
  readonly outranks?: (a: string, b: string) => boolean;
}

export interface ViewFacts {
  readonly members: readonly string[];
  readonly quorate: boolean;
  readonly dc?: string;
  /**
   * The view holds more than half the votes. Only a view without a majority (two_node
   * quorum, say) may have a rival fencing it from the other side of a cut.
   */
  readonly majority?: boolean;
}

/** In a fencing match, the side holding VIPs should survive; else the one the DC election ranks higher (priority, then name). */
export function outranks(holdsVips: (node: string) => boolean, priority: (node: string) => number, a: string, b: string): boolean {
  const [ha, hb] = [holdsVips(a), holdsVips(b)];
  if (ha !== hb) return ha;
  return priority(a) !== priority(b) ? priority(a) > priority(b) : a < b;
}

/** What the coordinator needs of a cluster view. */
export function viewFacts(view: { readonly members: readonly string[]; readonly quorate: boolean; readonly dc?: string; readonly votes: number; readonly expectedVotes: number }): ViewFacts {
  return { members: view.members, quorate: view.quorate, majority: 2 * view.votes > view.expectedVotes, ...(view.dc !== undefined ? { dc: view.dc } : {}) };
}

export const fenceRetryAfterDefaultMs = 30_000;
/** At most this many operations are kept in the history. */
export const historyLimit = 500;

interface Operation {
  readonly record: FenceRecord;
  readonly abort: AbortController;
  delayTimer?: TimerHandle;
}

export class FencingCoordinator {
  private readonly records: FenceRecord[] = [];
  private readonly running = new Map<string, Operation>();
  /** Nodes fenced (or confirmed off) since they were last in the view. */
  private readonly fencedSince = new Map<string, number>();
  private readonly retryTimers = new Map<string, TimerHandle>();
  private members = new Set<string>();
  private everMember = new Set<string>();
  private leading = false;
  private contested = true;
  private nextId = 1;

  constructor(private readonly o: FencingCoordinatorOptions) {}

  /** True once the node was fenced or confirmed off, until it is back in the view. */
  isFenced(node: string): boolean {
    return this.fencedSince.has(node);
  }

  /** The nodes known fenced now, for heartbeats. */
  fencedNodes(): string[] {
    return [...this.fencedSince.keys()];
  }

  /** Whether this node is the DC of a quorate view, the one that fences. */
  get isLeading(): boolean {
    return this.leading;
  }

  history(): readonly FenceRecord[] {
    return this.records;
  }

  /** Targets being fenced now. */
  pending(): string[] {
    return [...this.running.keys()];
  }

  /** The DC of a quorate view fences the directors that left it; a node back in the view is a member again. */
  viewChanged(view: ViewFacts): void {
    this.members = new Set(view.members);
    for (const m of view.members) {
      this.everMember.add(m);
      this.fencedSince.delete(m);
      this.cancel(m, `${m} is back in the view`);
    }
    this.leading = view.quorate && view.dc === this.o.self;
    this.contested = view.majority !== true;
    if (!this.leading) {
      for (const [target, op] of this.running) if (op.record.origin === 'automatic' && op.delayTimer !== undefined) this.cancel(target, 'this node is no longer the DC of a quorate view');
      return;
    }
    for (const node of this.o.directors) {
      if (node === this.o.self || this.members.has(node) || !this.everMember.has(node)) continue;
      if (this.fencedSince.has(node) || this.running.has(node) || this.retryTimers.has(node)) continue;
      this.start(node, this.o.config.action, 'automatic');
    }
  }

  /** An operator's request (through the DC). Fails when this node is not the DC of a quorate view. */
  fence(target: string, action: FenceAction | 'on'): FenceRecord | { error: string } {
    if (!this.leading) return { error: 'only the DC of a quorate view fences: ask it (hadirector status shows which node is DC)' };
    if (target === this.o.self) return { error: 'a node does not fence itself' };
    if (this.running.has(target)) return { error: `${target} is being fenced already` };
    return this.start(target, action, 'manual');
  }

  /** An operator states the node is off (no agent could say so): it counts as fenced. */
  confirm(target: string): FenceRecord {
    this.cancel(target, 'confirmed off by an operator');
    const record = this.newRecord(target, this.o.config.action, 'confirmed');
    record.result = 'success';
    record.durationMs = 0;
    this.succeeded(target, record);
    return record;
  }

  stop(): void {
    for (const target of [...this.running.keys()]) this.cancel(target, 'stopping');
    for (const t of this.retryTimers.values()) this.o.clock.clearTimeout(t);
    this.retryTimers.clear();
  }

  private start(target: string, action: FenceAction | 'on', origin: FenceOrigin): FenceRecord {
    const record = this.newRecord(target, action, origin);
    const op: Operation = { record, abort: new AbortController() };
    this.running.set(target, op);
    const delayMs = origin === 'automatic' ? this.raceDelayMs(target) : 0;
    this.o.events.log(`fencing ${target} (${action}, ${origin})${delayMs > 0 ? ` after a delay of ${delayMs} ms` : ''}`);
    if (delayMs > 0) {
      op.delayTimer = this.o.clock.setTimeout(() => {
        op.delayTimer = undefined;
        void this.execute(target, op);
      }, delayMs);
    } else {
      void this.execute(target, op);
    }
    return record;
  }

  private async execute(target: string, op: Operation): Promise<void> {
    const started = this.o.clock.nowMs();
    const levels = this.levelsFor(target);
    if (levels.length === 0) this.o.events.alert(`no fence device can fence ${target}: add a level or a device whose hosts include it`);
    let done = false;
    for (const level of levels) {
      if (op.abort.signal.aborted) return;
      let levelOk = true;
      for (const device of level.devices) {
        if (!(await this.runDevice(op, level.index, device, target))) {
          levelOk = false;
          break;
        }
      }
      if (levelOk) {
        done = true;
        break;
      }
      this.o.events.alert(`fencing ${target}: level ${level.index} failed${level === levels[levels.length - 1] ? '' : '; trying the next level'}`);
    }
    if (op.abort.signal.aborted || this.running.get(target) !== op) return;
    this.running.delete(target);
    op.record.durationMs = this.o.clock.nowMs() - started;
    if (done) {
      op.record.result = 'success';
      if (op.record.action !== 'on') this.succeeded(target, op.record);
      else this.o.events.log(`${target} powered on`);
      return;
    }
    op.record.result = 'failed';
    this.o.events.alert(`fencing ${target} failed at every level (${op.record.attempts.length} attempts): what it held will not be taken over until it is fenced or confirmed off (hadirector fence confirm ${target})`);
    if (op.record.origin === 'automatic') {
      const retryMs = this.o.retryAfterMs ?? fenceRetryAfterDefaultMs;
      this.retryTimers.set(
        target,
        this.o.clock.setTimeout(() => {
          this.retryTimers.delete(target);
          if (this.leading && !this.members.has(target) && !this.fencedSince.has(target) && !this.running.has(target)) this.start(target, this.o.config.action, 'automatic');
        }, retryMs),
      );
    }
  }

  /**
   * As Pacemaker's pcmk_delay_base and pcmk_delay_max: at least the base, at most the
   * max, random in between. Without a majority (two_node), fencing a node that outranks
   * this one (as Pacemaker's priority-fencing-delay) waits twice delay_max more, so of two
   * sides fencing each other the one that matters acts at least delay_max first.
   */
  private raceDelayMs(target: string): number {
    const { delayBaseMs: base, delayMaxMs: max } = this.o.config;
    const spread = Math.max(base, max) - base;
    const yieldMs = this.contested && this.o.outranks?.(target, this.o.self) === true ? 2 * Math.max(base, max) : 0;
    return base + Math.floor(this.o.rng.next() * (spread + 1)) + yieldMs;
  }

  /** One device, tried 1 + retries times, each bounded by its timeout. */
  private async runDevice(op: Operation, level: number, device: FenceDeviceConfig, target: string): Promise<boolean> {
    for (let attempt = 1; attempt <= 1 + device.retries; attempt++) {
      if (op.abort.signal.aborted) return false;
      const startedMs = this.o.clock.nowMs();
      const attemptAbort = new AbortController();
      const onAbort = () => attemptAbort.abort();
      op.abort.signal.addEventListener('abort', onAbort);
      let timer: TimerHandle | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = this.o.clock.setTimeout(() => resolve('timeout'), device.timeoutMs);
      });
      const outcome = await Promise.race([this.o.runner.run(device, target, op.record.action, attemptAbort.signal).catch((err: unknown): FenceOutcome => ({ ok: false, detail: (err as Error).message })), timedOut]);
      if (timer !== undefined) this.o.clock.clearTimeout(timer);
      op.abort.signal.removeEventListener('abort', onAbort);
      if (outcome === 'timeout') attemptAbort.abort();
      const result = outcome === 'timeout' ? 'timeout' : outcome.ok ? 'success' : 'failed';
      const detail = outcome === 'timeout' ? `no answer within ${device.timeoutMs} ms` : outcome.detail;
      op.record.attempts.push({ level, device: device.name, attempt, startedMs, durationMs: this.o.clock.nowMs() - startedMs, result, detail });
      if (result === 'success') return true;
      this.o.events.log(`fencing ${target}: device ${device.name} attempt ${attempt}/${1 + device.retries}: ${result}: ${detail}`);
    }
    return false;
  }

  private levelsFor(target: string): Array<{ index: number; devices: FenceDeviceConfig[] }> {
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

  private succeeded(target: string, record: FenceRecord): void {
    this.fencedSince.set(target, this.o.clock.nowMs());
    const t = this.retryTimers.get(target);
    if (t !== undefined) this.o.clock.clearTimeout(t);
    this.retryTimers.delete(target);
    this.o.events.log(`${target} is fenced (${record.origin}${record.attempts.length > 0 ? `, by ${record.attempts[record.attempts.length - 1]?.device}` : ''})`);
    this.o.events.fenced(target, record);
  }

  private cancel(target: string, why: string): void {
    const op = this.running.get(target);
    if (op !== undefined) {
      if (op.delayTimer !== undefined) this.o.clock.clearTimeout(op.delayTimer);
      op.abort.abort();
      op.record.result = 'failed';
      op.record.attempts.push({ level: 0, device: '-', attempt: 0, startedMs: this.o.clock.nowMs(), durationMs: 0, result: 'failed', detail: `cancelled: ${why}` });
      this.running.delete(target);
      this.o.events.log(`fencing ${target} cancelled: ${why}`);
    }
    const t = this.retryTimers.get(target);
    if (t !== undefined) this.o.clock.clearTimeout(t);
    this.retryTimers.delete(target);
  }

  private newRecord(target: string, action: FenceAction | 'on', origin: FenceOrigin): FenceRecord {
    const record: FenceRecord = { id: this.nextId++, target, action, origin, requestedAt: this.o.clock.wallMs(), result: 'pending', attempts: [] };
    this.records.push(record);
    if (this.records.length > historyLimit) this.records.splice(0, this.records.length - historyLimit);
    return record;
  }
}
