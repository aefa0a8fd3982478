// Membership, quorum and the DC, from who this node hears. The view is this node and the
// peers its failure detector counts as alive; its quorum and DC are reckoned by
// quorum.ts (a strict majority of the expected votes; the DC by priority, then name,
// among the members of a quorate view), so every member with the same view picks the
// same DC without a round of messages.
import { electDc, expectedVotes, quorumVotes, type QuorumRules, type Voter } from './quorum';

export interface MemberConfig extends Voter {
  readonly witness: boolean;
}

export interface View {
  /** Grows by at least one at every change, and never falls below a member's. */
  readonly id: number;
  readonly members: readonly string[];
  readonly votes: number;
  readonly expectedVotes: number;
  /** Votes needed. */
  readonly quorum: number;
  readonly quorate: boolean;
  /** Waiting to see every node once (wait_for_all) before claiming quorum. */
  readonly waitingForAll: boolean;
  readonly dc?: string;
}

export interface ViewChange {
  readonly view: View;
  readonly previous: View;
  /** Why the DC changed, when it did. */
  readonly dcReason?: string;
}

export class Membership {
  private readonly byName: Map<string, MemberConfig>;
  private current: View;
  private seenAll = false;
  private settled = false;

  constructor(
    private readonly self: string,
    nodes: readonly MemberConfig[],
    private readonly rules: QuorumRules,
  ) {
    this.byName = new Map(nodes.map((n) => [n.name, n]));
    this.current = this.compute([self], 0);
  }

  get view(): View {
    return this.current;
  }

  /**
   * The view from the peers now alive. `settled`: the failure detector's start-up grace
   * is over (a node alone before then does not claim quorum, even where one vote is
   * enough). `peerViewIds` are the view ids peers last reported, so a new view's id is
   * above any a member has used.
   */
  update(alivePeers: readonly string[], settled: boolean, peerViewIds: ReadonlyMap<string, number> = new Map()): ViewChange | undefined {
    this.settled = settled;
    const members = [this.self, ...alivePeers.filter((p) => p !== this.self && this.byName.has(p))].sort();
    if (members.length === this.byName.size) this.seenAll = true;
    const previous = this.current;
    const sameMembers = members.length === previous.members.length && members.every((m, i) => m === previous.members[i]);
    const next = this.compute(members, previous.id);
    if (sameMembers && next.quorate === previous.quorate && next.dc === previous.dc) return undefined;
    const highest = Math.max(previous.id, ...members.map((m) => peerViewIds.get(m) ?? 0));
    this.current = { ...next, id: highest + 1 };
    return { view: this.current, previous, ...(this.current.dc !== previous.dc ? { dcReason: dcReason(previous, this.current) } : {}) };
  }

  private compute(members: readonly string[], id: number): View {
    const configs = members.map((m) => this.byName.get(m)).filter((m): m is MemberConfig => m !== undefined);
    const all = [...this.byName.values()];
    const votes = configs.reduce((s, n) => s + n.votes, 0);
    const quorum = quorumVotes(all, this.rules);
    const waitingForAll = this.rules.waitForAll && !this.seenAll;
    const quorate = votes >= quorum && !waitingForAll && (this.settled || members.length > 1);
    const dc = quorate ? electDc(configs)?.name : undefined;
    return { id, members, votes, expectedVotes: expectedVotes(all, this.rules), quorum, quorate, waitingForAll, ...(dc !== undefined ? { dc } : {}) };
  }
}

function dcReason(previous: View, next: View): string {
  if (next.dc === undefined) return previous.quorate && !next.quorate ? 'quorum lost: no DC' : 'no DC';
  if (previous.dc === undefined) return `${next.dc} elected: the view is quorate`;
  if (!next.members.includes(previous.dc)) return `${previous.dc} left the view; ${next.dc} is the next by priority and name`;
  return `${next.dc} joined and comes before ${previous.dc} by priority and name`;
}
