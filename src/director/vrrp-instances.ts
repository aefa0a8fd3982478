// The director's VRRP instances: one agent per vrrp_instance on a director of a cluster
// (none on a witness), riding on the cluster node, with the loopback VIP driver: the
// services on an instance's addresses listen on its master only.
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
import type { VrrpHooks } from './cluster-member';

export class VrrpInstances {
  private readonly agents = new Map<string, VrrpAgent>();
  /** VIP address → the instance it belongs to. */
  private readonly vipOwners = new Map<string, string>();

  constructor(
    private readonly config: HadConfig,
    private readonly plane: UserspacePlane,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly notify: (command: Command | undefined, subject: string) => void,
  ) {}

  /** Must run before the plane first listens, so a backup never serves a VIP. */
  claimVipListeners(): void {
    if (this.director() === undefined) return;
    for (const vi of this.config.vrrpInstances) for (const vip of vi.virtualIpAddresses) this.vipOwners.set(vip.address, vi.name);
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
        driver: { hold: () => void this.plane.reconcile(), release: () => void this.plane.reconcile() },
        events: {
          stateChanged: (from, to, reason) => {
            this.log.info(`${vi.name}: ${from.toUpperCase()} -> ${to.toUpperCase()}: ${reason}`, { component: 'vrrp' });
            this.notifyState(vi, to);
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
