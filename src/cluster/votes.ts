// Vote arithmetic of corosync's votequorum: quorum is a strict majority of the expected
// votes, where expected is the larger of what is configured and what the nodes carry;
// two_node lowers it to one vote of two.
import type { ClusterConfig, NodeConfig } from './config';

export function expectedVotes(cluster: ClusterConfig): number {
  const total = cluster.nodes.reduce((sum, n) => sum + n.votes, 0);
  return Math.max(cluster.quorum.expectedVotes ?? 0, total);
}

export function quorumVotes(cluster: ClusterConfig): number {
  if (cluster.quorum.twoNode) return 1;
  return Math.floor(expectedVotes(cluster) / 2) + 1;
}

/** The DC among `members`: highest priority, then lowest name; undefined if none. */
export function preferredDc(members: readonly NodeConfig[]): NodeConfig | undefined {
  let best: NodeConfig | undefined;
  for (const n of members) {
    if (best === undefined || n.priority > best.priority || (n.priority === best.priority && n.name < best.name)) best = n;
  }
  return best;
}
