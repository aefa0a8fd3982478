// The director's VRRP instances: one agent per vrrp_instance on a director of a cluster
// (none on a witness), riding on the cluster node. The services on an instance's
// addresses listen on its master only; the address driver brings the addresses up and
// down around that. What an instance does on a change runs in order, one change after
// the other: on taking over, addresses, listeners, gratuitous ARP, then notify scripts;
// on letting go, listeners, addresses, then notify scripts.
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import { detectorTiming } from '../cluster/config';
import type { ClusterNode } from '../cluster/node';
import type { HadConfig } from '../config/model';
import type { Command } from '../config/values';
import type { UserspacePlane } from '../ipvs/dataplane/userspace-plane';
import { VrrpAgent } from '../vrrp/agent';
import type { VrrpInstanceConfig } from '../vrrp/config';
import type { VrrpState } from '../vrrp/instance';
import type { AddressDriver, VipSet } from '../vip/driver';
import type { VrrpHooks } from './cluster-member';

export class VrrpInstances {
  private readonly agents = new Map<string, VrrpAgent>();
  /** VIP address → the instance it belongs to. */
  private readonly vipOwners = new Map<string, string>();
  /** Per instance, the end of its queue of changes. */
  private readonly changes = new Map<string, Promise<void>>();

  constructor(
    private readonly config: HadConfig,
    private readonly plane: UserspacePlane,
    private readonly driver: AddressDriver,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly notify: (command: Command | undefined, subject: string) => void,
  ) {}

  /** Removes the VIPs an earlier run may have left behind when it was killed. */
  async removeLeftovers(): Promise<void> {
    if (this.director() === undefined || this.driver.kind === 'loopback') return;
    for (const vi of this.config.vrrpInstances) this.reportProblems(await this.driver.remove(this.vipSet(vi)));
  }

  /** Resolves once every queued change (addresses, listeners, scripts) has run. */
  async settled(): Promise<void> {
    await Promise.all(this.changes.values());
  }

  /** Must run before the plane first listens, so a backup never serves a VIP. */
  claimVipListeners(): void {
    if (this.director() === undefined) return;
    for (const vi of this.config.vrrpInstances) for (const vip of this.vipSet(vi).addresses) this.vipOwners.set(vip.address, vi.name);
    if (this.vipOwners.size === 0) return;
    this.plane.setHeldAddresses((address) => {
      const owner = this.vipOwners.get(address);
      return owner === undefined || this.agents.get(owner)?.holding === true;
    });
  }

  /** What the cluster node needs of the instances (heartbeat fields, adverts, views). */
  hooks(): VrrpHooks {
    return {
      holds: () => [...this.agents].filter(([, a]) => a.holding).map(([name]) => name),
      wants: () => [...this.agents.values()].flatMap((a) => a.wants()),
      advertReceived: (sender, advert) => this.agents.get(advert.instance)?.advertReceived(sender, advert),
      viewChanged: () => {
        for (const a of this.agents.values()) a.viewChanged();
      },
    };
  }

  start(node: ClusterNode): void {
    const me = this.director();
    const cluster = this.config.cluster;
    if (me === undefined || cluster === undefined) return;
    const peers = cluster.nodes.filter((n) => n.name !== me.name && !n.witness).map((n) => n.name);
    const timing = detectorTiming(cluster);
    for (const vi of this.config.vrrpInstances) {
      const agent = new VrrpAgent({
        settings: {
          name: vi.name,
          version: vi.version,
          priority: vi.priority,
          advertIntervalMs: vi.advertIntMs,
          preempt: vi.preempt,
          preemptDelayMs: vi.preemptDelayMs,
          startAsMaster: vi.initialState === 'MASTER',
          primaryAddress: vi.unicastSrcIp?.address ?? me.addresses[0]?.address ?? me.name,
        },
        peers,
        clock: this.clock,
        cluster: node,
        deadtimeMs: timing.deadtimeMs,
        heartbeatIntervalMs: timing.intervalMs,
        policy: cluster.noQuorumPolicy,
        driver: {
          hold: () =>
            this.queue(vi.name, async () => {
              const set = this.vipSet(vi);
              this.reportProblems(await this.driver.add(set));
              this.reportProblems(await this.plane.reconcile());
              this.driver.announce(set);
            }),
          release: () =>
            this.queue(vi.name, async () => {
              this.reportProblems(await this.plane.reconcile());
              this.reportProblems(await this.driver.remove(this.vipSet(vi)));
            }),
        },
        events: {
          stateChanged: (from, to, reason) => {
            this.log.info(`${vi.name}: ${from.toUpperCase()} -> ${to.toUpperCase()}: ${reason}`, { component: 'vrrp' });
            this.queue(vi.name, () => this.notifyState(vi, to));
          },
          gateChanged: (verdict) => this.log.info(`${vi.name}: takeover gate ${verdict.open ? 'open' : 'shut'}: ${verdict.reason}`, { component: 'vrrp' }),
        },
      });
      this.agents.set(vi.name, agent);
      agent.start();
    }
  }

  /** Priority 0 from every master, so backups take over after their skew time. */
  stop(): void {
    for (const agent of this.agents.values()) agent.stop();
  }

  status(): Array<{ instance: string; state: VrrpState; gate: { open: boolean; reason: string } }> {
    return [...this.agents.values()].map((a) => ({ instance: a.instance.describe(), state: a.instance.state, gate: a.gateVerdict }));
  }

  private queue(instance: string, change: () => Promise<void> | void): void {
    const next = (this.changes.get(instance) ?? Promise.resolve()).then(change).catch((err: unknown) => {
      this.log.error(`${instance}: ${(err as Error).message}`, { component: 'vrrp' });
    });
    this.changes.set(instance, next);
  }

  private reportProblems(problems: readonly string[]): void {
    for (const p of problems) this.log.error(p, { component: 'vip' });
  }

  private vipSet(vi: VrrpInstanceConfig): VipSet {
    return { instance: vi.name, addresses: [...vi.virtualIpAddresses, ...vi.virtualIpAddressesExcluded], interface: vi.interface, garp: vi.garp };
  }

  /** This node, when it is a director of a cluster. */
  private director() {
    const me = this.config.cluster?.nodes.find((n) => n.name === this.config.node);
    return me === undefined || me.witness ? undefined : me;
  }

  /** keepalived's notify scripts: the state's own, then `notify` with INSTANCE NAME STATE PRIORITY. */
  private notifyState(vi: VrrpInstanceConfig, state: VrrpState): void {
    const own = state === 'master' ? vi.notify.master : state === 'backup' ? vi.notify.backup : state === 'fault' ? vi.notify.fault : vi.notify.stop;
    this.notify(own, vi.name);
    const generic = vi.notify.notify;
    if (generic !== undefined) this.notify({ ...generic, argv: [...generic.argv, 'INSTANCE', vi.name, state === 'init' ? 'STOP' : state.toUpperCase(), String(vi.priority)] }, vi.name);
  }
}
