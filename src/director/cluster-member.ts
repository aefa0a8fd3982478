// This node's part in the cluster: the cluster node (heartbeats, membership, quorum, DC,
// skew) on real UDP links, with what it reports logged. Built from the `cluster` block.
import fs from 'node:fs';
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import { detectorTiming, type ClusterConfig } from '../cluster/config';
import type { MemberConfig, View } from '../cluster/membership';
import { ClusterNode, type ClusterStatus } from '../cluster/node';
import { UdpLinks } from '../heartbeat/udp-links';
import type { AdvertBody, ClusterKey, Want } from '../heartbeat/envelope';
import type { SyncBody } from '../sync/wire';
import type { TimeCheckConfig } from '../time/config';
import { querySntp } from '../time/sntp';
import { SkewWatch, type SkewLevel } from '../time/skew';
import { runNotify } from './notify';

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

/** How the VRRP agents and fencing ride on the cluster node: what heartbeats say, adverts in, view changes. */
export interface MemberHooks {
  readonly holds?: () => readonly string[];
  readonly wants?: () => readonly Want[];
  readonly fenced?: () => readonly string[];
  readonly advertReceived?: (sender: string, advert: AdvertBody) => void;
  readonly syncReceived?: (sender: string, body: SyncBody) => void;
  readonly viewChanged?: (view: View) => void;
  /** This node was frozen: look at what it holds before it sends again. */
  readonly stalled?: (gapMs: number) => void;
}

export class ClusterMember {
  private constructor(
    readonly node: ClusterNode,
    private readonly links: UdpLinks,
    private readonly ntp: NtpWatch,
  ) {}

  /** Starts heartbeating, or says why this node cannot take part. */
  static async start(cluster: ClusterConfig, self: string, clock: Clock, log: Logger, hooks: MemberHooks = {}): Promise<ClusterMember> {
    const me = cluster.nodes.find((n) => n.name === self);
    if (me === undefined) throw new Error(`node '${self}' is not a member of the cluster (nodes: ${cluster.nodes.map((n) => n.name).join(', ')}); give --node`);
    if (me.addresses.length === 0) throw new Error(`node '${self}' has no address on any link`);
    const key = readKey(cluster);
    const members: MemberConfig[] = cluster.nodes.map((n) => ({ name: n.name, votes: n.votes, priority: n.priority, witness: n.witness }));
    const component = { component: 'cluster' };
    let node: ClusterNode | undefined;
    const links = new UdpLinks(
      cluster,
      me,
      (datagram) => node?.receive(datagram),
      (e) => log.warn(`link ${e.link}: ${e.error.message}`, component),
    );
    node = new ClusterNode({
      self,
      clusterId: cluster.clusterId,
      key,
      nodes: members,
      links: links.links,
      timing: detectorTiming(cluster),
      quorum: {
        twoNode: cluster.quorum.twoNode,
        waitForAll: cluster.quorum.waitForAll ?? cluster.quorum.twoNode,
        ...(cluster.quorum.expectedVotes !== undefined ? { expectedVotes: cluster.quorum.expectedVotes } : {}),
      },
      skew: { warnMs: cluster.time.skewWarnMs, criticalMs: cluster.time.skewCriticalMs },
      clock,
      transport: links,
      ...(hooks.holds !== undefined ? { holds: hooks.holds } : {}),
      ...(hooks.wants !== undefined ? { wants: hooks.wants } : {}),
      ...(hooks.fenced !== undefined ? { fenced: hooks.fenced } : {}),
      ...(cluster.sync.link !== undefined ? { syncLink: cluster.sync.link } : {}),
      events: {
        advertReceived: (sender, advert) => hooks.advertReceived?.(sender, advert),
        syncReceived: (sender, body) => hooks.syncReceived?.(sender, body),
        syncLinkChanged: (peer, link, syncLink) => {
          if (link === syncLink) log.info(`sync to ${peer} is back on link ${link}`, { ...component, peer });
          else log.warn(`sync to ${peer} goes on link ${link}: ${peer} is not heard on the sync link ${syncLink}`, { ...component, peer });
        },
        stalled: (lateMs) => {
          log.warn(`this node did not run for ${Math.round(lateMs)} ms (was it frozen?): peers may have counted it dead; it lets go of what it holds before it sends again`, component);
          hooks.stalled?.(lateMs);
        },
        peerChanged: (c) => {
          const fields = { ...component, peer: c.peer, ...(c.silentMs !== undefined ? { silentMs: Math.round(c.silentMs) } : {}) };
          if (c.to === 'late') log.warn(`peer ${c.peer} is late`, fields);
          else if (c.to === 'dead') log.warn(`peer ${c.peer} is dead`, fields);
          else log.info(`peer ${c.peer} is ${c.to}`, fields);
        },
        viewChanged: (c) => {
          const v = c.view;
          log.info(`view ${v.id}: [${v.members.join(', ')}] ${v.quorate ? 'quorate' : 'WITHOUT QUORUM'}, ${v.votes}/${v.expectedVotes} votes, DC ${v.dc ?? 'none'}`, component);
          if (c.dcReason !== undefined) log.info(`DC: ${c.dcReason}`, component);
          hooks.viewChanged?.(v);
        },
        skewChanged: (peer, level, offsetMs) => {
          const message = `clock skew with ${peer}: ${offsetMs >= 0 ? '+' : ''}${offsetMs.toFixed(0)} ms (${level})`;
          if (level === 'ok') log.info(message, component);
          else log.warn(message, component);
          if (cluster.time.notify !== undefined) {
            runNotify({ ...cluster.time.notify, argv: [...cluster.time.notify.argv, peer, level, offsetMs.toFixed(0)] }, (m) => log.warn(m, component));
          }
        },
      },
    });
    await links.start();
    node.start();
    const ntp = new NtpWatch(cluster.time, clock, log);
    ntp.start();
    return new ClusterMember(node, links, ntp);
  }

  status(): ClusterStatus & { readonly ntp: NtpCheck[] } {
    return { ...this.node.status(), ntp: [...this.ntp.last.values()] };
  }

  async stop(): Promise<void> {
    this.ntp.stop();
    this.node.stop();
    await this.links.close();
  }
}

function readKey(cluster: ClusterConfig): ClusterKey {
  const auth = cluster.auth;
  if (auth === undefined) throw new Error("the cluster has no key: set 'auth_key_file FILE' (or 'auth none')");
  if (auth.kind === 'none') return null;
  return Buffer.from(fs.readFileSync(auth.file, 'utf8').trim(), 'utf8');
}
