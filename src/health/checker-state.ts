// One checker's verdict over time, with keepalived's rules: a check every delay_loop; a
// failure is retried `retry` times, delay_before_retry apart, before the server is
// declared down; one success brings it back up. Pure: it is told each result and answers
// with the transition, if any, and when to check next.
import type { CheckerTiming } from './config';

export interface CheckOutcome {
  readonly ok: boolean;
  /** MISC_CHECK with misc_dynamic: the weight the script asked for. */
  readonly weight?: number;
  /** Why it failed, for the log. */
  readonly reason?: string;
}

export interface CheckerStep {
  /** Set when the verdict changed. */
  readonly transition?: 'up' | 'down';
  /** Set when a dynamic weight changed while up. */
  readonly weight?: number;
  readonly nextCheckInMs: number;
}

export class CheckerState {
  private failuresInRow = 0;
  private weightAsked: number | undefined;

  /** `alpha`: a server starts down until its first success. */
  constructor(
    private readonly timing: CheckerTiming,
    private upNow: boolean,
  ) {}

  get up(): boolean {
    return this.upNow;
  }

  get weight(): number | undefined {
    return this.weightAsked;
  }

  /** When to run the first check: after the warmup, spread by `random` in [0, 1). */
  firstCheckInMs(random: number): number {
    return Math.floor(this.timing.warmupMs * random);
  }

  result(outcome: CheckOutcome): CheckerStep {
    const { timing } = this;
    if (outcome.ok) {
      this.failuresInRow = 0;
      const weightChanged = outcome.weight !== undefined && outcome.weight !== this.weightAsked;
      if (outcome.weight !== undefined) this.weightAsked = outcome.weight;
      if (!this.upNow) {
        this.upNow = true;
        return { transition: 'up', ...(outcome.weight !== undefined ? { weight: outcome.weight } : {}), nextCheckInMs: timing.delayLoopMs };
      }
      return { ...(weightChanged ? { weight: outcome.weight } : {}), nextCheckInMs: timing.delayLoopMs };
    }
    this.failuresInRow++;
    if (this.upNow && this.failuresInRow <= timing.retry) return { nextCheckInMs: timing.delayBeforeRetryMs };
    this.failuresInRow = 0;
    if (!this.upNow) return { nextCheckInMs: timing.delayLoopMs };
    this.upNow = false;
    return { transition: 'down', nextCheckInMs: timing.delayLoopMs };
  }
}
