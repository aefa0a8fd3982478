// Clock offset between two nodes from one heartbeat exchange (NTP's four timestamps),
// and the alert that watches it. A sends at t1, B receives at t2 and answers at t3, A
// receives at t4, each on its own clock: B's clock is ahead of A's by
// ((t2 - t1) + (t3 - t4)) / 2, give or take half the round trip (t4 - t1) - (t3 - t2).

export interface OffsetSample {
  /** How far the peer's clock is ahead of ours, in ms (negative: behind). */
  readonly offsetMs: number;
  /** The round trip, without the peer's time between receiving and answering. */
  readonly delayMs: number;
}

export function offsetFromExchange(t1Us: number, t2Us: number, t3Us: number, t4Us: number): OffsetSample {
  return { offsetMs: ((t2Us - t1Us + (t3Us - t4Us)) / 2) / 1000, delayMs: (t4Us - t1Us - (t3Us - t2Us)) / 1000 };
}

export type SkewLevel = 'ok' | 'warn' | 'critical';

export interface SkewThresholds {
  readonly warnMs: number;
  readonly criticalMs: number;
}

/** An alert clears only once the skew is back under this share of its threshold. */
export const clearRatio = 0.8;
/** Samples kept; the alert reads their median, so one delayed heartbeat raises nothing. */
const samplesKept = 5;

export class SkewWatch {
  private readonly samples: number[] = [];
  private current: SkewLevel = 'ok';

  /** `samplesNeeded`: no verdict before this many samples (heartbeats come often; NTP checks do not). */
  constructor(
    private readonly thresholds: SkewThresholds,
    private readonly samplesNeeded = 3,
  ) {}

  get level(): SkewLevel {
    return this.current;
  }

  /** The median offset of the recent samples, in ms. */
  get offsetMs(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)];
  }

  /** Takes a sample; answers the new level when it changed. */
  sample(s: OffsetSample): SkewLevel | undefined {
    this.samples.push(s.offsetMs);
    if (this.samples.length > samplesKept) this.samples.shift();
    if (this.samples.length < this.samplesNeeded) return undefined;
    const skew = Math.abs(this.offsetMs ?? 0);
    const { warnMs, criticalMs } = this.thresholds;
    let next: SkewLevel = this.current;
    if (skew > criticalMs) next = 'critical';
    else if (skew > warnMs) next = this.current === 'critical' && skew > criticalMs * clearRatio ? 'critical' : 'warn';
    else if (this.current !== 'ok' && skew > warnMs * clearRatio) next = 'warn';
    else next = 'ok';
    if (next === this.current) return undefined;
    this.current = next;
    return next;
  }
}
