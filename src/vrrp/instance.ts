// One VRRP instance: RFC 5798 §6.4 (Initialize, Backup, Master) with keepalived's FAULT
// state, preempt, nopreempt and preempt_delay, RFC 9568's immediate answer to a lower
// priority, and the takeover gate of this project: a backup whose Master_Down_Timer
// fires becomes master only while the gate is open (quorum, and the previous holder
// known safe); until then it waits, saying why. Pure: events in, actions out; timers are
// deadlines the caller arms.
//
// Invariants: at most one timer of each kind is armed; a master always has its advert
// timer armed; a backup has its master-down timer armed unless it waits on the gate.
import type { Clock } from '../common/clock';
import { compareAddr, parseIpAddr } from '../ipvs/address';
import { masterDownIntervalMs, skewTimeMs } from './timing';

export type VrrpState = 'init' | 'backup' | 'master' | 'fault';
export type VrrpTimer = 'advert' | 'masterDown';

export interface VrrpSettings {
  readonly name: string;
  readonly version: 2 | 3;
  /** The configured priority, 1..255 (255: the address owner). */
  readonly priority: number;
  readonly advertIntervalMs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** `state MASTER` in the file: start as master rather than wait as backup. */
  readonly startAsMaster: boolean;
  /** This node's address for the tie-break between equal priorities (higher wins). */
  readonly primaryAddress: string;
}

export type VrrpEvent =
  | { readonly kind: 'startup' }
  | { readonly kind: 'advertReceived'; readonly from: string; readonly priority: number; readonly advertIntervalMs: number }
  | { readonly kind: 'timerFired'; readonly timer: VrrpTimer }
  | { readonly kind: 'gateChanged'; readonly open: boolean; readonly reason: string }
  | { readonly kind: 'priorityChanged'; readonly priority: number }
  /** FAULT while any source (the quorum, a tracker) says so; each clears its own. */
  | { readonly kind: 'faultRaised'; readonly source: string; readonly reason: string }
  | { readonly kind: 'faultCleared'; readonly source: string }
  /** A better backup wants the instance: hand it over with priority 0, rather than both be master. */
  | { readonly kind: 'yieldTo'; readonly node: string }
  /** A sync group sibling took over: follow it (through the gate). */
  | { readonly kind: 'groupMaster'; readonly reason: string }
  /** A sync group sibling let go: hand over too. */
  | { readonly kind: 'groupBackup'; readonly reason: string }
  | { readonly kind: 'shutdown' };

export type VrrpAction =
  | { readonly kind: 'sendAdvert'; readonly priority: number; readonly advertIntervalMs: number }
  | { readonly kind: 'setTimer'; readonly timer: VrrpTimer; readonly atMs: number }
  | { readonly kind: 'cancelTimer'; readonly timer: VrrpTimer }
  | { readonly kind: 'stateChanged'; readonly from: VrrpState; readonly to: VrrpState; readonly reason: string };

/** What the trackers' word (the effective priority, and the failing ones) is for an instance: a new priority if it moved, and FAULT from `track` raised or cleared. */
export function trackedEvents(instance: VrrpInstance, priority: number, faults: readonly string[]): VrrpEvent[] {
  return [
    ...(priority !== instance.effectivePriority ? [{ kind: 'priorityChanged', priority } as const] : []),
    faults.length > 0 ? { kind: 'faultRaised', source: 'track', reason: faults.join('; ') } : { kind: 'faultCleared', source: 'track' },
  ];
}

/** Addresses compared as numbers (RFC 5798 §6.4.3's tie-break); text that is no address compares as text. */
export function addressGreater(a: string, b: string): boolean {
  const x = parseIpAddr(a);
  const y = parseIpAddr(b);
  return x !== undefined && y !== undefined ? compareAddr(x, y) > 0 : a > b;
}

export class VrrpInstance {
  private current: VrrpState = 'init';
  private priority: number;
  /** The master's interval a backup adopted (v3), or ours. */
  private masterAdvertIntervalMs: number;
  private gateOpen = false;
  private gateReason = 'not yet told';
  /** The master-down timer fired while the gate was shut: take over when it opens. */
  private waitingOnGate = false;
  private preemptAllowedAtMs = 0;
  /** How long the armed master-down timer waits, for the takeover's reason. */
  private masterDownWaitMs = 0;
  private readonly faults = new Map<string, string>();

  constructor(
    private readonly settings: VrrpSettings,
    private readonly clock: Clock,
  ) {
    this.priority = settings.priority;
    this.masterAdvertIntervalMs = settings.advertIntervalMs;
  }

  get state(): VrrpState {
    return this.current;
  }

  step(event: VrrpEvent): VrrpAction[] {
    switch (event.kind) {
      case 'startup':
        return this.onStartup();
      case 'advertReceived':
        return this.onAdvert(event.from, event.priority, event.advertIntervalMs);
      case 'timerFired':
        return event.timer === 'advert' ? this.onAdvertTimer() : this.onMasterDown();
      case 'gateChanged':
        return this.onGate(event.open, event.reason);
      case 'priorityChanged':
        this.priority = event.priority;
        return [];
      case 'faultRaised':
        return this.onFault(event.source, event.reason);
      case 'faultCleared':
        return this.onFaultCleared(event.source);
      case 'yieldTo':
        return this.handOver(`handing over to ${event.node}, which has a higher priority`);
      case 'groupMaster':
        return this.onGroupMaster(event.reason);
      case 'groupBackup':
        return this.handOver(event.reason);
      case 'shutdown':
        return this.onShutdown();
    }
  }

  /** One stable line for logs and tests. */
  describe(): string {
    const gate = this.current === 'backup' ? ` gate=${this.gateOpen ? 'open' : 'shut'}${this.waitingOnGate ? ` (waiting: ${this.gateReason})` : ''}` : '';
    return `${this.settings.name} ${this.current} priority=${this.priority} interval=${this.masterAdvertIntervalMs}ms${gate}`;
  }

  /** RFC 5798: Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time. */
  masterDownIntervalMs(): number {
    return masterDownIntervalMs(this.settings.version, this.masterAdvertIntervalMs, this.priority);
  }

  private skewMs(): number {
    return skewTimeMs(this.settings.version, this.masterAdvertIntervalMs, this.priority);
  }

  private now(): number {
    return this.clock.nowMs();
  }

  private onStartup(): VrrpAction[] {
    if (this.current !== 'init') return [];
    this.preemptAllowedAtMs = this.now() + this.settings.preemptDelayMs;
    if (this.faults.size > 0) return [this.changeTo('fault', [...this.faults.values()].join('; '))];
    // The owner, or `state MASTER`, takes over at once — through the gate like any backup,
    // so a restart never makes a second master beside one that holds the instance.
    if (this.priority === 255 || this.settings.startAsMaster) return this.becomeBackup(this.priority === 255 ? 'started; the address owner (priority 255) takes over as soon as the gate allows' : 'started; configured to start as MASTER: takes over as soon as the gate allows', 0);
    return this.becomeBackup('started', this.masterDownIntervalMs());
  }

  private onAdvert(from: string, priority: number, advertIntervalMs: number): VrrpAction[] {
    if (this.current === 'backup') {
      if (priority === 0) return [this.setTimer('masterDown', this.skewMs())];
      const preempting = this.settings.preempt && this.now() >= this.preemptAllowedAtMs;
      if (preempting && priority < this.priority) return [];
      if (this.settings.version === 3) this.masterAdvertIntervalMs = advertIntervalMs;
      this.waitingOnGate = false;
      return [this.setTimer('masterDown', this.masterDownIntervalMs())];
    }
    if (this.current === 'master') {
      if (priority === 0) return [this.advert(), this.setTimer('advert', this.settings.advertIntervalMs)];
      const yields = priority > this.priority || (priority === this.priority && addressGreater(from, this.settings.primaryAddress));
      if (!yields) return [this.advert(), this.setTimer('advert', this.settings.advertIntervalMs)];
      if (this.settings.version === 3) this.masterAdvertIntervalMs = advertIntervalMs;
      return [{ kind: 'cancelTimer', timer: 'advert' }, this.changeTo('backup', `${from} advertises priority ${priority}`), this.setTimer('masterDown', this.masterDownIntervalMs())];
    }
    return [];
  }

  private onAdvertTimer(): VrrpAction[] {
    if (this.current !== 'master') return [];
    return [this.advert(), this.setTimer('advert', this.settings.advertIntervalMs)];
  }

  private onMasterDown(): VrrpAction[] {
    if (this.current !== 'backup') return [];
    if (!this.gateOpen) {
      this.waitingOnGate = true;
      return [];
    }
    return this.becomeMaster(`no advert for ${this.masterDownWaitMs.toFixed(0)} ms`);
  }

  private onGate(open: boolean, reason: string): VrrpAction[] {
    this.gateOpen = open;
    this.gateReason = reason;
    if (open && this.current === 'backup' && this.waitingOnGate) {
      this.waitingOnGate = false;
      return this.becomeMaster(`the gate opened: ${reason}`);
    }
    return [];
  }

  private onFault(source: string, reason: string): VrrpAction[] {
    this.faults.set(source, reason);
    if (this.current === 'fault' || this.current === 'init') return [];
    const release = this.current === 'master' ? [{ kind: 'cancelTimer', timer: 'advert' } as const, this.advert(0)] : [{ kind: 'cancelTimer', timer: 'masterDown' } as const];
    return [...release, this.changeTo('fault', reason)];
  }

  private onFaultCleared(source: string): VrrpAction[] {
    if (!this.faults.delete(source) || this.faults.size > 0 || this.current !== 'fault') return [];
    return this.becomeBackup('fault cleared', this.masterDownIntervalMs());
  }

  private handOver(reason: string): VrrpAction[] {
    if (this.current !== 'master') return [];
    return [{ kind: 'cancelTimer', timer: 'advert' }, this.advert(0), this.changeTo('backup', reason), this.setTimer('masterDown', this.masterDownIntervalMs())];
  }

  private onGroupMaster(reason: string): VrrpAction[] {
    if (this.current !== 'backup') return [];
    if (this.gateOpen) return this.becomeMaster(reason);
    this.waitingOnGate = true;
    return [];
  }

  /** A backup that would take the instance from a lower-priority master now. */
  get preempting(): boolean {
    return this.current === 'backup' && this.settings.preempt && this.now() >= this.preemptAllowedAtMs;
  }

  /** keepalived reads no advert for an instance in FAULT or not yet started. */
  get readsAdverts(): boolean {
    return this.current === 'backup' || this.current === 'master';
  }

  get effectivePriority(): number {
    return this.priority;
  }

  /** Why the instance is held in FAULT, one reason per source (quorum, trackers and host health, deposed). */
  get faultReasons(): string[] {
    return [...this.faults.values()];
  }

  private onShutdown(): VrrpAction[] {
    const was = this.current;
    if (was === 'init') return [];
    const actions: VrrpAction[] = [{ kind: 'cancelTimer', timer: 'advert' }, { kind: 'cancelTimer', timer: 'masterDown' }];
    if (was === 'master') actions.push(this.advert(0));
    actions.push(this.changeTo('init', 'shutting down'));
    return actions;
  }

  private becomeMaster(reason: string): VrrpAction[] {
    this.masterAdvertIntervalMs = this.settings.advertIntervalMs;
    // The advert goes first, then the addresses, so a peer hears before clients see us.
    return [{ kind: 'cancelTimer', timer: 'masterDown' }, this.advert(), this.changeTo('master', reason), this.setTimer('advert', this.settings.advertIntervalMs)];
  }

  private becomeBackup(reason: string, waitMs: number): VrrpAction[] {
    this.waitingOnGate = false;
    return [this.changeTo('backup', reason), this.setTimer('masterDown', waitMs)];
  }

  private advert(priority = this.priority): VrrpAction {
    return { kind: 'sendAdvert', priority, advertIntervalMs: this.settings.advertIntervalMs };
  }

  private setTimer(timer: VrrpTimer, inMs: number): VrrpAction {
    if (timer === 'masterDown') this.masterDownWaitMs = inMs;
    return { kind: 'setTimer', timer, atMs: this.now() + inMs };
  }

  private changeTo(to: VrrpState, reason: string): VrrpAction {
    const from = this.current;
    this.current = to;
    return { kind: 'stateChanged', from, to, reason };
  }
}
