// Control planes on the virtual network: the daemon's shell (src/director/control-plane.ts)
// with a virtual clock, a virtual network and simulated fence agents, for the simulation
// and the tests that drive a few nodes by hand.
import { newCluster, type ClusterConfig } from '../../src/cluster/config';
import type { MemberConfig } from '../../src/cluster/membership';
import type { QuorumRules } from '../../src/cluster/quorum';
import type { LogSink } from '../../src/common/log';
import type { Rng } from '../../src/common/rng';
import { ControlPlane, type AdvertWire, type ControlPlaneHost, type InstanceSettings, type MachineFactories } from '../../src/director/control-plane';
import type { FenceAgentDriver } from '../../src/fencing/agents/runner';
import { newFencing, type FencingConfig } from '../../src/fencing/config';
import type { DetectorTiming } from '../../src/heartbeat/failure-detector';
import type { NodeClock, VirtualNetwork } from './network';

export const simKey = Buffer.from('simulation key, 32 bytes long!!!');
const where = { file: 'sim', line: 1, col: 1 };

export interface SimClusterSettings {
  readonly nodes: readonly MemberConfig[];
  readonly timing: DetectorTiming;
  readonly quorum?: Partial<QuorumRules>;
  readonly noQuorumPolicy?: 'stop' | 'freeze' | 'ignore';
  readonly fencing?: Partial<FencingConfig>;
}

/** A cluster block as the parser would make it: the nodes, the timing, quorum, fencing (self_release without devices unless told). */
export function simClusterConfig(s: SimClusterSettings): ClusterConfig {
  const base = newCluster(where);
  return {
    ...base,
    clusterId: 'sim',
    nodes: s.nodes.map((n) => ({ name: n.name, where, addresses: [], priority: n.priority, votes: n.votes, witness: n.witness })),
    heartbeatIntervalMs: s.timing.intervalMs,
    warntimeMs: s.timing.warntimeMs,
    deadtimeMs: s.timing.deadtimeMs,
    initdeadMs: s.timing.initdeadMs,
    quorum: { twoNode: s.quorum?.twoNode ?? false, waitForAll: s.quorum?.waitForAll ?? false, ...(s.quorum?.expectedVotes !== undefined ? { expectedVotes: s.quorum.expectedVotes } : {}) },
    noQuorumPolicy: s.noQuorumPolicy ?? 'stop',
    time: { ...base.time, skewWarnMs: 500, skewCriticalMs: 1000 },
    fencing: { ...newFencing(), mode: 'self_release', ...s.fencing },
  };
}

/** A VRRP instance `VI_1` as the simulation runs it: v3, advert 1 s, preempt. */
export function simInstance(priority: number, address: string, name = 'VI_1'): InstanceSettings {
  return { name, version: 3, priority, advertIntervalMs: 1000, preempt: true, preemptDelayMs: 0, startAsMaster: false, primaryAddress: address };
}

export const noAgents: FenceAgentDriver = { start: (_d, _t, _a, done) => (done({ ok: false, detail: 'no agents here' }), () => undefined) };
export const quietLog: LogSink = { error: () => undefined, warn: () => undefined, info: () => undefined };

export interface SimPlaneOptions {
  readonly name: string;
  readonly cluster: ClusterConfig;
  readonly links: readonly string[];
  readonly net: VirtualNetwork;
  readonly clock: NodeClock;
  readonly rng: Rng;
  readonly bootEpoch?: number;
  readonly instances?: readonly InstanceSettings[];
  readonly agents?: FenceAgentDriver;
  readonly host?: Partial<ControlPlaneHost>;
  readonly log?: LogSink;
  readonly machines?: MachineFactories;
  readonly fenceRetryAfterMs?: number;
  /** VRRP on the wire beside the envelope. */
  readonly wire?: AdvertWire;
  /** What the node sends, seen before the network takes it. */
  readonly sent?: (peer: string, link: string, datagram: Buffer) => void;
}

/**
 * A control plane attached to the network (a frozen node reads nothing until it thaws);
 * not started. An isolated node's sends fail, and it is told its links are down, as a
 * socket on a downed interface says ENETUNREACH.
 */
export function simPlane(o: SimPlaneOptions): ControlPlane {
  const linksDown = new Set<string>();
  const plane: ControlPlane = new ControlPlane({
    cluster: o.cluster,
    self: o.name,
    key: simKey,
    links: o.links,
    instances: o.instances ?? [],
    clock: o.clock,
    rng: o.rng,
    ...(o.bootEpoch !== undefined ? { bootEpoch: o.bootEpoch } : {}),
    transport: {
      linksDown: () => (o.net.isolated.has(o.name) ? o.links : []),
      send: (peers, link, datagram) => {
        // Every failed send says so (a node told it may act again learns anew); a success, once.
        if (o.net.isolated.has(o.name)) {
          linksDown.add(link);
          plane.linkState(link, false);
          return;
        }
        if (linksDown.delete(link)) plane.linkState(link, true);
        for (const peer of peers) {
          o.sent?.(peer, link, datagram);
          o.net.send(o.name, peer, link, datagram);
        }
      },
    },
    ...(o.wire !== undefined ? { wire: o.wire } : {}),
    fenceAgents: o.agents ?? noAgents,
    host: { instanceChanged: () => undefined, ...o.host },
    log: o.log ?? quietLog,
    ...(o.machines !== undefined ? { machines: o.machines } : {}),
    ...(o.fenceRetryAfterMs !== undefined ? { fenceRetryAfterMs: o.fenceRetryAfterMs } : {}),
  });
  o.net.attach(o.name, (datagram) => o.clock.whenRunning(() => plane.receive(datagram)));
  return plane;
}
