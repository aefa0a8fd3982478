// This node's part in the cluster: the cluster node (heartbeats, membership, quorum, DC,
// skew) on real UDP links, with what it reports logged. Built from the `cluster` block.
import fs from 'node:fs';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import { detectorTiming, type ClusterConfig } from '../cluster/config';
import type { MemberConfig } from '../cluster/membership';
import { ClusterNode, type ClusterStatus } from '../cluster/node';
import { UdpLinks } from '../heartbeat/udp-links';
import type { ClusterKey } from '../heartbeat/envelope';
import { runNotify } from './notify';

export class ClusterMember {
  private constructor(
    readonly node: ClusterNode,
    private readonly links: UdpLinks,
  ) {}

  /** Starts heartbeating, or says why this node cannot take part. */
  static async start(cluster: ClusterConfig, self: string, clock: Clock, log: Logger): Promise<ClusterMember> {
    const me = cluster.nodes.find((n) => n.name === self);
    if (me === undefined) throw new Error(`node '${self}' is not a member of the cluster (nodes: ${cluster.nodes.map((n) => n.name).join(', ')}); give --node`);
    if (me.addresses.length === 0) throw new Error(`node '${self}' has no address on any link`);
    const key = readKey(cluster);
    const totalVotes = cluster.nodes.reduce((s, n) => s + n.votes, 0);
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
      links: me.addresses.map((a) => a.link),
      timing: detectorTiming(cluster),
      quorum: {
        twoNode: cluster.quorum.twoNode,
        waitForAll: cluster.quorum.waitForAll ?? cluster.quorum.twoNode,
        expectedVotes: Math.max(cluster.quorum.expectedVotes ?? totalVotes, totalVotes),
      },
      skew: { warnMs: cluster.time.skewWarnMs, criticalMs: cluster.time.skewCriticalMs },
      clock,
      transport: links,
      events: {
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
    return new ClusterMember(node, links);
  }

  status(): ClusterStatus {
    return this.node.status();
  }

  stop(): void {
    this.node.stop();
    this.links.close();
  }
}

function readKey(cluster: ClusterConfig): ClusterKey {
  const auth = cluster.auth;
  if (auth === undefined) throw new Error("the cluster has no key: set 'auth_key_file FILE' (or 'auth none')");
  if (auth.kind === 'none') return null;
  return Buffer.from(fs.readFileSync(auth.file, 'utf8').trim(), 'utf8');
}
