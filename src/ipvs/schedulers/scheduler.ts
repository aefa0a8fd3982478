// The scheduler interface, shaped like the kernel's struct ip_vs_scheduler: a service
// owns one scheduler instance, tells it when destinations are added, removed or edited,
// and asks it for a destination for each new connection. The destination list is in the
// kernel's order: the newest first.
import type { IpAddr } from '../address';
import type { Destination } from '../destination';

export const schedulerNames = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export type SchedulerName = (typeof schedulerNames)[number];

export function isSchedulerName(name: string): name is SchedulerName {
  return (schedulerNames as readonly string[]).includes(name);
}

/** ipvsadm -b flags: sh-fallback/mh-fallback = flag-1, sh-port/mh-port = flag-2. */
export interface SchedulerFlags {
  readonly flag1: boolean;
  readonly flag2: boolean;
  readonly flag3: boolean;
}

export const noSchedulerFlags: SchedulerFlags = { flag1: false, flag2: false, flag3: false };

/** What a scheduler may read of its service. */
export interface ScheduledService {
  readonly destinations: readonly Destination[];
  readonly flags: SchedulerFlags;
}

/** The facts of the first packet of a connection that schedulers use. */
export interface PacketFacts {
  readonly saddr: IpAddr;
  readonly sport: number;
  readonly daddr: IpAddr;
  readonly dport: number;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /** A destination for a new connection, or null (the kernel's "no destination available"). */
  schedule(svc: ScheduledService, packet: PacketFacts): Destination | null;
  /** After `dest` was inserted at the head of the list. */
  destAdded(svc: ScheduledService, dest: Destination): void;
  /** After `dest` was unlinked; it stood at `formerPosition`. */
  destRemoved(svc: ScheduledService, dest: Destination, formerPosition: number): void;
  /** After an edit of `dest` (weight, thresholds, method). */
  destUpdated(svc: ScheduledService, dest: Destination): void;
}

/** Most schedulers keep no per-destination state. */
export abstract class StatelessScheduler implements Scheduler {
  abstract readonly name: SchedulerName;
  abstract schedule(svc: ScheduledService, packet: PacketFacts): Destination | null;
  destAdded(_svc: ScheduledService, _dest: Destination): void {}
  destRemoved(_svc: ScheduledService, _dest: Destination, _formerPosition: number): void {}
  destUpdated(_svc: ScheduledService, _dest: Destination): void {}
}

/** Schedulers whose state is derived from the whole list, rebuilt on any change (wrr, sh, dh, mh). */
export abstract class RebuildingScheduler implements Scheduler {
  abstract readonly name: SchedulerName;
  abstract schedule(svc: ScheduledService, packet: PacketFacts): Destination | null;
  protected abstract rebuild(svc: ScheduledService): void;

  destAdded(svc: ScheduledService): void {
    this.rebuild(svc);
  }

  destRemoved(svc: ScheduledService): void {
    this.rebuild(svc);
  }

  destUpdated(svc: ScheduledService): void {
    this.rebuild(svc);
  }
}

/** Not overloaded and a weight above zero: may take new connections. */
export function isSchedulable(dest: Destination): boolean {
  return !dest.overloaded && dest.weight > 0;
}
