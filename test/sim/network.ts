// A virtual network for the simulation: datagrams between named nodes on named links,
// delivered on the shared virtual clock after a random delay, or lost, duplicated,
// reordered (by their delays) or cut by a partition. Every choice comes from the seed.
import type { Clock, TimerHandle } from '../../src/common/clock';
import type { SeededRng } from '../../src/common/rng';
import type { VirtualClock } from '../../src/common/clock';

export interface NetworkConditions {
  /** Probability that a datagram is lost, 0..1. */
  loss: number;
  duplicate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export type Deliver = (datagram: Buffer, link: string) => void;

export class VirtualNetwork {
  conditions: NetworkConditions = { loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 5 };
  /** Node → the partition group it is in; nodes in different groups cannot talk. */
  private readonly group = new Map<string, number>();
  private readonly endpoints = new Map<string, Deliver>();
  /** Links that carry nothing (a cable pulled), between every node. */
  readonly downLinks = new Set<string>();
  /** Nodes whose own links are down (an isolating fence): they can send nothing, and see that they cannot. */
  readonly isolated = new Set<string>();
  sent = 0;
  delivered = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: SeededRng,
  ) {}

  attach(node: string, deliver: Deliver): void {
    this.endpoints.set(node, deliver);
  }

  /** A crashed node receives nothing. */
  detach(node: string): void {
    this.endpoints.delete(node);
  }

  /** Splits the nodes into groups; nodes not named stay in group 0. */
  partition(groups: readonly (readonly string[])[]): void {
    this.group.clear();
    groups.forEach((members, i) => members.forEach((m) => this.group.set(m, i + 1)));
  }

  heal(): void {
    this.group.clear();
  }

  canReach(from: string, to: string): boolean {
    return (this.group.get(from) ?? 0) === (this.group.get(to) ?? 0) && !this.isolated.has(from) && !this.isolated.has(to);
  }

  send(from: string, to: string, link: string, datagram: Buffer): void {
    this.sent++;
    if (!this.canReach(from, to) || this.downLinks.has(link)) return;
    const c = this.conditions;
    if (this.rng.next() < c.loss) return;
    const copies = this.rng.next() < c.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = c.minDelayMs + this.rng.next() * (c.maxDelayMs - c.minDelayMs);
      this.clock.setTimeout(() => {
        // A partition or crash that happened in flight also stops the datagram.
        const deliver = this.endpoints.get(to);
        if (deliver === undefined || !this.canReach(from, to)) return;
        this.delivered++;
        deliver(datagram, link);
      }, delay);
    }
  }
}

/**
 * A node's own view of time: the shared timeline, with a wall clock that may be off. Its
 * timer handles are its own, so a timer that a freeze put off can still be cleared.
 */
export class NodeClock implements Clock {
  wallOffsetMs = 0;
  /** Our handle → the shared clock's handle of the timer now (it changes when a freeze puts it off). */
  private readonly owned = new Map<TimerHandle, TimerHandle>();
  private nextHandle = 1;
  private frozenUntilMs = -Infinity;

  constructor(private readonly shared: VirtualClock) {}

  nowMs(): number {
    return this.shared.nowMs();
  }

  wallMs(): number {
    return this.shared.wallMs() + this.wallOffsetMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = this.nextHandle++;
    this.arm(handle, callback, delayMs);
    return handle;
  }

  private arm(handle: TimerHandle, callback: () => void, delayMs: number): void {
    this.owned.set(
      handle,
      this.shared.setTimeout(() => {
        // Frozen: the callback runs when the node thaws, as a stopped process's timers do.
        if (this.shared.nowMs() < this.frozenUntilMs) {
          this.arm(handle, callback, this.frozenUntilMs - this.shared.nowMs());
          return;
        }
        this.owned.delete(handle);
        callback();
      }, delayMs),
    );
  }

  /** SIGSTOP until `untilMs`: nothing of the node runs before then. */
  freeze(untilMs: number): void {
    this.frozenUntilMs = untilMs;
  }

  /** Runs `work` now, or, while frozen, when the node thaws (after its overdue timers), as a stopped process reads its socket. */
  whenRunning(work: () => void): void {
    if (this.frozen) this.setTimeout(work, 0);
    else work();
  }

  get frozen(): boolean {
    return this.shared.nowMs() < this.frozenUntilMs;
  }

  /** When the latest freeze ended (or ends); -Infinity if never frozen. */
  get thawMs(): number {
    return this.frozenUntilMs;
  }

  clearTimeout(handle: TimerHandle): void {
    const shared = this.owned.get(handle);
    if (shared !== undefined) this.shared.clearTimeout(shared);
    this.owned.delete(handle);
  }

  /** A crash: every timer the node had armed is gone. */
  clearAll(): void {
    for (const h of this.owned.values()) this.shared.clearTimeout(h);
    this.owned.clear();
  }
}
