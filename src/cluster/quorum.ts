// The one home of the cluster's arithmetic: votes and quorum as corosync's votequorum
// reckons them, the DC ranking, and what no_quorum_policy lets a director do with VIPs.
// The membership, the fencing coordinator, the takeover gate and check-config all ask
// here, so they cannot disagree.
//
// Quorum is a strict majority of the expected votes, where expected is the larger of what
// is configured and what the nodes carry; two_node lowers it to one vote of two (with
// wait_for_all, only once both nodes have been seen together). The DC is the member
// with the highest priority, then the lowest name; a fencing race is won by the side
// holding VIPs, else by the one the DC ranking puts first.
import type { NoQuorumPolicy } from './config';

export interface Voter {
  readonly name: string;
  readonly votes: number;
  /** DC preference: the highest wins. */
  readonly priority: number;
}

export interface QuorumRules {
  /** At least the sum of every node's votes. */
  readonly expectedVotes?: number;
  readonly twoNode: boolean;
  readonly waitForAll: boolean;
}

export function expectedVotes(nodes: readonly Voter[], rules: Pick<QuorumRules, 'expectedVotes'>): number {
  return Math.max(rules.expectedVotes ?? 0, nodes.reduce((sum, n) => sum + n.votes, 0));
}

/** The votes a view needs. */
export function quorumVotes(nodes: readonly Voter[], rules: Pick<QuorumRules, 'expectedVotes' | 'twoNode'>): number {
  const expected = expectedVotes(nodes, rules);
  return rules.twoNode && expected === 2 ? 1 : Math.floor(expected / 2) + 1;
}

/** Whether `a` comes before `b` in the DC election: higher priority, then lower name. */
export function ranksAbove(a: Pick<Voter, 'name' | 'priority'>, b: Pick<Voter, 'name' | 'priority'>): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.name < b.name;
}

/** The DC among `members`, or undefined when there are none. */
export function electDc<T extends Pick<Voter, 'name' | 'priority'>>(members: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const m of members) if (best === undefined || ranksAbove(m, best)) best = m;
  return best;
}

/**
 * Whether `a` should survive a fencing match with `b`: the side holding VIPs, else the
 * one the DC election ranks first.
 */
export function winsFenceRace(a: Pick<Voter, 'name' | 'priority'> & { readonly holdsVips: boolean }, b: Pick<Voter, 'name' | 'priority'> & { readonly holdsVips: boolean }): boolean {
  if (a.holdsVips !== b.holdsVips) return a.holdsVips;
  return ranksAbove(a, b);
}

export type VipPermission = 'may-hold' | 'keep-only' | 'release';

/**
 * What a director may do with VIPs, as pacemaker's no-quorum-policy reads: with quorum it
 * may hold them; without, `stop` releases every one (the default), `freeze` keeps what it
 * holds but takes nothing new, `ignore` carries on as if it had quorum. A witness never
 * holds a VIP.
 */
export function vipPermission(quorate: boolean, policy: NoQuorumPolicy, witness: boolean): VipPermission {
  if (witness) return 'release';
  if (quorate || policy === 'ignore') return 'may-hold';
  return policy === 'freeze' ? 'keep-only' : 'release';
}
