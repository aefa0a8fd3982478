// Weighted round robin (ip_vs_wrr.c). The current weight cw starts at the highest weight
// (less gcd − 1) and drops by the gcd of the weights after each pass over the list; a
// pass picks destinations whose weight is at least cw. Any add, delete or edit restarts
// the walk at the list head and re-derives the gcd and maximum, keeping cw if it still fits.
import type { Destination } from '../destination';
import { RebuildingScheduler, type ScheduledService } from './scheduler';

export class WeightedRoundRobinScheduler extends RebuildingScheduler {
  readonly name = 'wrr';
  /** Current destination; null is the list head. */
  private current: Destination | null = null;
  private cw = 0;
  private mw = 0;
  private di = 1;

  constructor(svc: ScheduledService) {
    super();
    this.recompute(svc);
    this.cw = this.mw;
  }

  schedule(svc: ScheduledService): Destination | null {
    if (this.mw === 0) return null;
    const list = svc.destinations;
    const last = this.current;
    let stop: Destination | null = null;
    let lastPass = false;
    let restarted = false;
    let from = last === null ? 0 : last.position + 1;
    for (;;) {
      for (let i = from; i < list.length; i++) {
        const dest = list[i] as Destination;
        if (!dest.overloaded && dest.weight >= this.cw) {
          this.current = dest;
          return dest;
        }
        if (dest === stop) {
          this.current = dest;
          return null;
        }
      }
      from = 0;
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        // A pass with cw = 1 over every destination has already failed.
        if (lastPass || last === null) {
          this.current = null;
          return null;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      // The pass for weight ≥ 1 began after `last`: finish it up to `last`.
      if (lastPass && restarted && last !== null) stop = last;
    }
  }

  protected rebuild(svc: ScheduledService): void {
    this.current = null;
    this.recompute(svc);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.floor(this.cw / this.di) * this.di + 1;
  }

  private recompute(svc: ScheduledService): void {
    let g = 0;
    let max = 0;
    for (const dest of svc.destinations) {
      if (dest.weight > 0) g = g > 0 ? gcd(dest.weight, g) : dest.weight;
      if (dest.weight > max) max = dest.weight;
    }
    this.di = g > 0 ? g : 1;
    this.mw = max - (this.di - 1);
  }
}

export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
