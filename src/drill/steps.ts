// A drill as steps: wait (a while, for a takeover, for a settled cluster), fault (a
// built-in scenario's), heal (the last fault), assert (who holds the VIP, who is
// quorate). A built-in scenario is its fault, the wait it needs, and its heal; a scenario
// file composes its own. What an assert finds is judged here, from samples alone.
import type { DirectorSample } from './report';
import type { Scenario } from './scenarios';
import type { Expectations, Judgement } from './verdict';

export type WaitUntil = 'takeover' | 'settled';

/** What an assert checks, at the moment it runs. */
export interface Assertion {
  /** Who holds the VIP: a node's name, `master` (the director that held it when the drill began), `backup` (any other director) or `none`. */
  readonly holder?: string;
  /** Nodes that must each be quorate. */
  readonly quorate?: readonly string[];
}

export type Step =
  | { readonly kind: 'wait'; readonly ms: number; readonly where?: string }
  | { readonly kind: 'wait'; readonly until: WaitUntil; readonly where?: string }
  | { readonly kind: 'fault'; readonly scenario: string; readonly where?: string }
  | { readonly kind: 'heal'; readonly where?: string }
  | { readonly kind: 'assert'; readonly check: Assertion; readonly where?: string };

/** What the drill runs: a name, what it expects, its steps. */
export interface Drillable {
  readonly name: string;
  readonly expectations: Expectations;
  readonly steps: readonly Step[];
}

/** After the heal, and after a takeover, the drill watches this long before going on. */
export const settleMs = 2000;

export function builtinDrill(s: Scenario): Drillable {
  const fault: Step = { kind: 'fault', scenario: s.name };
  const after: Step[] = [{ kind: 'heal' }, { kind: 'wait', until: 'settled' }, { kind: 'wait', ms: settleMs }];
  const during: Step[] = s.faultMs !== undefined ? [{ kind: 'wait', ms: s.faultMs }] : [{ kind: 'wait', until: 'takeover' }, { kind: 'wait', ms: settleMs }];
  return { name: s.name, expectations: s.expectations, steps: [fault, ...during, ...after] };
}

/** The assertion judged against each node's latest sample. */
export function judgeAssertion(check: Assertion, where: string, latest: readonly DirectorSample[], roles: { master: string; witnesses: readonly string[] }): Judgement {
  const holders = latest.filter((s) => s.holdsVip === true).map((s) => s.node);
  const seen: string[] = [];
  let ok = true;
  if (check.holder !== undefined) {
    const h = check.holder;
    const held =
      h === 'none' ? holders.length === 0
      : h === 'master' ? holders.length === 1 && holders[0] === roles.master
      : h === 'backup' ? holders.length === 1 && holders[0] !== roles.master && !roles.witnesses.includes(holders[0] as string)
      : holders.length === 1 && holders[0] === h;
    ok &&= held;
    seen.push(`holder ${holders.length === 0 ? 'none' : holders.join(', ')} (wanted ${h}${h === 'master' || h === 'backup' ? `; ${roles.master} was master` : ''})`);
  }
  if (check.quorate !== undefined) {
    const not = check.quorate.filter((n) => latest.find((s) => s.node === n)?.quorate !== true);
    ok &&= not.length === 0;
    seen.push(not.length === 0 ? `${check.quorate.join(', ')} quorate` : `not quorate: ${not.join(', ')}`);
  }
  return { expectation: `assert at ${where}`, ok, detail: seen.join('; ') };
}
