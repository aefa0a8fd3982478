// VRRP as keepalived runs it, with no cluster: each vrrp_instance is the machine of
// vrrp/instance.ts with its gate always open (no quorum, no fencing), its adverts carried
// on the wire by the WireCarrier, so the same shell runs on virtual time in tests.
import type { Clock } from '../common/clock';
import type { LogSink } from '../common/log';
import { trackedEvents, VrrpInstance, type VrrpAction, type VrrpState, type VrrpTimer } from '../vrrp/instance';
import { Timers } from './timers';
import { WireCarrier, type WireInstanceSettings, type WireSocketOpener, type WireSocketStatus, type WireStats } from './wire-carrier';

const noClusterGate = 'no cluster: keepalived semantics (no quorum, no fencing)';

export interface WireHost {
  instanceChanged(instance: string, from: VrrpState, to: VrrpState, reason: string, priority: number): void;
}

export interface WireInstanceStatus {
  readonly name: string;
  /** One line: state, priority, interval. */
  readonly instance: string;
  readonly state: VrrpState;
  /** Why it is held in FAULT (trackers, host health), when it is. */
  readonly faults?: string[];
  readonly stats: WireStats;
}

interface Running {
  readonly machine: VrrpInstance;
  readonly timers: Timers<VrrpTimer>;
}

export class WireVrrp {
  readonly carrier: WireCarrier;
  private readonly instances = new Map<string, Running>();

  constructor(
    settings: readonly WireInstanceSettings[],
    open: WireSocketOpener,
    clock: Clock,
    private readonly host: WireHost,
    private readonly log: LogSink,
  ) {
    this.carrier = new WireCarrier(
      settings,
      open,
      {
        listening: (instance) => this.instances.get(instance)?.machine.readsAdverts === true,
        received: (a) => this.step(a.instance, { kind: 'advertReceived', from: a.from, priority: a.priority, advertIntervalMs: a.advertIntervalMs }),
      },
      log,
    );
    for (const s of settings) {
      const timers = new Timers<VrrpTimer>(clock, (timer) => this.step(s.name, { kind: 'timerFired', timer }));
      this.instances.set(s.name, { machine: new VrrpInstance(s, clock), timers });
    }
  }

  /** Starts every instance: the gate is open from the first moment, as keepalived has none. */
  start(): void {
    for (const [name, r] of this.instances) {
      r.machine.step({ kind: 'gateChanged', open: true, reason: noClusterGate });
      this.perform(name, r.machine.step({ kind: 'startup' }));
    }
  }

  tracked(instance: string, priority: number, faults: readonly string[]): void {
    const r = this.instances.get(instance);
    if (r !== undefined) for (const event of trackedEvents(r.machine, priority, faults)) this.step(instance, event);
  }

  followGroup(instance: string, to: 'master' | 'backup', reason: string): void {
    this.step(instance, to === 'master' ? { kind: 'groupMaster', reason } : { kind: 'groupBackup', reason });
  }

  /** A clean stop: every master sends priority 0 and lets go. */
  release(): void {
    for (const name of this.instances.keys()) this.step(name, { kind: 'shutdown' });
  }

  close(): void {
    for (const r of this.instances.values()) r.timers.clear();
    this.carrier.close();
  }

  status(): WireInstanceStatus[] {
    return [...this.instances].map(([name, r]) => {
      const faults = r.machine.faultReasons;
      return { name, instance: r.machine.describe(), state: r.machine.state, ...(faults.length > 0 ? { faults } : {}), stats: this.carrier.stats(name) as WireStats };
    });
  }

  /** What each interface socket dropped before any instance saw it. */
  socketStatus(): WireSocketStatus[] {
    return this.carrier.socketStatus();
  }

  private step(name: string, event: Parameters<VrrpInstance['step']>[0]): void {
    const r = this.instances.get(name);
    if (r !== undefined) this.perform(name, r.machine.step(event));
  }

  private perform(name: string, actions: readonly VrrpAction[]): void {
    const r = this.instances.get(name);
    if (r === undefined) return;
    for (const a of actions) {
      switch (a.kind) {
        case 'sendAdvert':
          this.carrier.send(name, a.priority, a.advertIntervalMs);
          break;
        case 'setTimer':
          r.timers.set(a.timer, a.atMs);
          break;
        case 'cancelTimer':
          r.timers.cancel(a.timer);
          break;
        case 'stateChanged':
          this.carrier.stateChanged(name, a.from, a.to);
          this.log.info(`${name}: ${a.from.toUpperCase()} -> ${a.to.toUpperCase()}: ${a.reason}`, { component: 'vrrp' });
          this.host.instanceChanged(name, a.from, a.to, a.reason, r.machine.effectivePriority);
          break;
      }
    }
  }
}
