// This node's part in the cluster, for real: the control plane (heartbeats, membership,
// quorum, DC, skew, fencing, VRRP) on UDP links with real fence agents, and this host's
// clock checked against NTP servers. Built from the `cluster` block.
import fs from 'node:fs';
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import type { Rng } from '../common/rng';
import type { ClusterConfig } from '../cluster/config';
import type { ClusterStatus } from '../cluster/node';
import { UdpLinks } from '../heartbeat/udp-links';
import type { ClusterKey } from '../heartbeat/envelope';
import { agentDriver, type AgentRunner } from '../fencing/agents/runner';
import type { TimeCheckConfig } from '../time/config';
import { querySntp } from '../time/sntp';
import { SkewWatch, type SkewLevel } from '../time/skew';
import { runNotify } from './notify';
import { ControlPlane, type AdvertWire, type ControlPlaneHost, type InstanceSettings } from './control-plane';

export interface NtpCheck {
  readonly server: string;
  readonly at: string;
  readonly offsetMs?: number;
  readonly delayMs?: number;
  readonly skew?: SkewLevel;
  readonly error?: string;
}

/** This host's offset from each NTP server, checked on the `time` schedule. */
class NtpWatch {
  readonly last = new Map<string, NtpCheck>();
  private readonly watches = new Map<string, SkewWatch>();
  private task: ScheduledTask | undefined;

  constructor(
    private readonly time: TimeCheckConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.time.ntpServers.length === 0) return;
    void this.check();
    this.task = cron.schedule(this.time.schedule, () => void this.check());
  }

  stop(): void {
    void this.task?.stop();
  }

  private async check(): Promise<void> {
    const component = { component: 'time' };
    await Promise.all(
      this.time.ntpServers.map(async ({ host, port }) => {
        const r = await querySntp(host, port, 5000, () => this.clock.wallMs());
        const at = new Date(this.clock.wallMs()).toISOString();
        if ('error' in r) {
          this.last.set(r.server, { server: r.server, at, error: r.error });
          this.log.warn(`NTP server ${r.server}: ${r.error}`, component);
          return;
        }
        let watch = this.watches.get(r.server);
        if (watch === undefined) {
          watch = new SkewWatch({ warnMs: this.time.skewWarnMs, criticalMs: this.time.skewCriticalMs }, 1);
          this.watches.set(r.server, watch);
        }
        const level = watch.sample(r);
        this.last.set(r.server, { server: r.server, at, offsetMs: r.offsetMs, delayMs: r.delayMs, skew: watch.level });
        this.log.debug(`NTP server ${r.server}: offset ${r.offsetMs.toFixed(1)} ms, delay ${r.delayMs.toFixed(1)} ms`, component);
        if (level !== undefined) {
          const message = `this host's clock is ${(-r.offsetMs).toFixed(0)} ms off NTP server ${r.server} (${level})`;
          if (level === 'ok') this.log.info(message, component);
          else this.log.warn(message, component);
          if (this.time.notify !== undefined) runNotify({ ...this.time.notify, argv: [...this.time.notify.argv, r.server, level, (-r.offsetMs).toFixed(0)] }, (m) => this.log.warn(m, component));
        }
      }),
    );
  }
}

export interface MemberOptions {
  readonly cluster: ClusterConfig;
  readonly self: string;
  readonly instances: readonly InstanceSettings[];
  /** VRRP on the wire beside the envelope. */
  readonly wire?: AdvertWire;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly log: Logger;
  readonly host: ControlPlaneHost;
  readonly fenceRunner: AgentRunner;
}

/** This node in the cluster for real: the control plane on UDP links, real fence agents, and the NTP check. */
export class ClusterMember {
  private constructor(
    readonly plane: ControlPlane,
    private readonly links: UdpLinks,
    private readonly ntp: NtpWatch,
  ) {}

  /** Builds the control plane on its links; `start` sets it going. Says why this node cannot take part. */
  static async open(o: MemberOptions): Promise<ClusterMember> {
    const me = o.cluster.nodes.find((n) => n.name === o.self);
    if (me === undefined) throw new Error(`node '${o.self}' is not a member of the cluster (nodes: ${o.cluster.nodes.map((n) => n.name).join(', ')}); give --node`);
    if (me.addresses.length === 0) throw new Error(`node '${o.self}' has no address on any link`);
    const component = { component: 'cluster' };
    let plane: ControlPlane | undefined;
    const down = new Set<string>();
    const links = new UdpLinks(
      o.cluster,
      me,
      (datagram) => plane?.receive(datagram),
      (e) => o.log.warn(`link ${e.link}: ${e.error.message}`, component),
      (link, up) => {
        if (up && down.delete(link)) o.log.info(`link ${link}: this node can send on it again`, component);
        if (!up && !down.has(link)) {
          down.add(link);
          o.log.warn(`link ${link}: this node cannot send on it (its interface is down or its address gone)`, { ...component, code: 'HAD_LINK_DOWN' });
        }
        plane?.linkState(link, up);
      },
    );
    plane = new ControlPlane({
      cluster: o.cluster,
      self: o.self,
      key: readKey(o.cluster),
      links: links.links,
      instances: o.instances,
      clock: o.clock,
      rng: o.rng,
      transport: links,
      ...(o.wire !== undefined ? { wire: o.wire } : {}),
      fenceAgents: agentDriver(o.fenceRunner),
      host: o.host,
      log: o.log,
    });
    await links.start();
    return new ClusterMember(plane, links, new NtpWatch(o.cluster.time, o.clock, o.log));
  }

  start(): void {
    this.plane.start();
    this.ntp.start();
  }

  status(): ClusterStatus & { readonly ntp: NtpCheck[] } {
    return { ...this.plane.status(), ntp: [...this.ntp.last.values()] };
  }

  /** Leaves the cluster cleanly (the peers are told), or `crash`: stops without a word. */
  async stop(how: 'leave' | 'crash' = 'leave'): Promise<void> {
    this.ntp.stop();
    if (how === 'leave') this.plane.leave();
    else this.plane.crash();
    await this.links.close();
  }
}

function readKey(cluster: ClusterConfig): ClusterKey {
  const auth = cluster.auth;
  if (auth === undefined) throw new Error("the cluster has no key: set 'auth_key_file FILE' (or 'auth none')");
  if (auth.kind === 'none') return null;
  return Buffer.from(fs.readFileSync(auth.file, 'utf8').trim(), 'utf8');
}
