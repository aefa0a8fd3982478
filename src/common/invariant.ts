// A broken invariant is a bug, not a condition to handle: the machine that finds one
// stops right there (ARCHITECTURE.md, "Crashes"). The daemon logs it, lets its VIPs go
// with priority 0 and exits non-zero; the simulation counts it as a violation.

export class InvariantError extends Error {
  readonly code = 'HAD_INVARIANT';

  constructor(what: string) {
    super(`invariant broken: ${what}`);
    this.name = 'InvariantError';
  }
}

/** Throws an InvariantError saying `what` unless `condition` holds. */
export function invariant(condition: boolean, what: string): asserts condition {
  if (!condition) throw new InvariantError(what);
}
