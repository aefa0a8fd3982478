// What the cluster node knows that the other machines decide on: the view, what each
// peer's latest heartbeat claims, who is known fenced, who left cleanly, and whether this
// node itself must stand down. A snapshot, handed to the VRRP agents as an event.
import type { Want } from '../heartbeat/envelope';
import type { View } from './membership';

export interface PeerClaims {
  /** The VRRP instances it is MASTER of. */
  readonly holds: readonly string[];
  /** The instances it would preempt, as a backup. */
  readonly wants: readonly Want[];
  /** When its latest heartbeat arrived. */
  readonly atMs: number;
}

export interface PeerFacts {
  /** The failure detector counts it up or late. */
  readonly alive: boolean;
  /** It said it was leaving (and has sent nothing since): it holds nothing. */
  readonly left: boolean;
  /** Fenced in its current run, as this node or a member of its view says. */
  readonly fenced: boolean;
  /** When this node's partition last heard it: this node, or a peer it hears. */
  readonly lastHeardByPartitionMs: number;
  /** What its latest heartbeat claimed, if it was heard in this run of ours. */
  readonly claims?: PeerClaims;
}

export interface ClusterFacts {
  readonly view: View;
  /** Initdead has passed, or every peer has been heard. */
  readonly settled: boolean;
  /** The last moment a quorum heard this node (its own votes and its peers' reports). */
  readonly quorumContactMs: number;
  /** Why this node must not act (it was fenced, is being fenced, lost every link, was frozen), if it must not. */
  readonly deposed?: string;
  readonly peers: ReadonlyMap<string, PeerFacts>;
}
