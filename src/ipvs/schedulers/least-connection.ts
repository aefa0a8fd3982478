// The least-connection family (ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sed.c, ip_vs_nq.c). Load is
// compared by cross-multiplication, as the kernel does without floats; ties keep the
// earlier destination in the list.
import type { Destination } from '../destination';
import { isSchedulable, StatelessScheduler } from './scheduler';
import type { ScheduledService } from './scheduler';

/** lc: the lowest overhead (active × 256 + inactive), weights ignored but 0 excluded. */
export class LeastConnectionScheduler extends StatelessScheduler {
  readonly name = 'lc';

  schedule(svc: ScheduledService): Destination | null {
    let least: Destination | null = null;
    let loh = 0;
    for (const dest of svc.destinations) {
      if (!isSchedulable(dest)) continue;
      const doh = dest.connOverhead();
      if (least === null || doh < loh) {
        least = dest;
        loh = doh;
      }
    }
    return least;
  }
}

/**
 * The weighted members: the first schedulable destination is the candidate, and a later
 * one replaces it when overhead/weight is strictly lower. A later destination of weight 0
 * can never win (its product is 0), so only overload is checked after the first.
 */
abstract class WeightedLeastScheduler extends StatelessScheduler {
  protected abstract overhead(dest: Destination): number;

  schedule(svc: ScheduledService): Destination | null {
    const list = svc.destinations;
    let i = 0;
    while (i < list.length && !isSchedulable(list[i] as Destination)) i++;
    if (i === list.length) return null;
    let least = list[i] as Destination;
    let loh = this.overhead(least);
    for (i++; i < list.length; i++) {
      const dest = list[i] as Destination;
      if (dest.overloaded) continue;
      const doh = this.overhead(dest);
      if (loh * dest.weight > doh * least.weight) {
        least = dest;
        loh = doh;
      }
    }
    return least;
  }
}

/** wlc: overhead / weight. */
export class WeightedLeastConnectionScheduler extends WeightedLeastScheduler {
  readonly name = 'wlc';
  protected overhead(dest: Destination): number {
    return dest.connOverhead();
  }
}

/** sed: (active + 1) / weight, inactive connections ignored. */
export class ShortestExpectedDelayScheduler extends WeightedLeastScheduler {
  readonly name = 'sed';
  protected overhead(dest: Destination): number {
    return dest.activeConns + 1;
  }
}

/** nq: an idle destination at once; otherwise as sed. */
export class NeverQueueScheduler extends StatelessScheduler {
  readonly name = 'nq';

  schedule(svc: ScheduledService): Destination | null {
    let least: Destination | null = null;
    let loh = 0;
    for (const dest of svc.destinations) {
      if (!isSchedulable(dest)) continue;
      const doh = dest.activeConns + 1;
      if (dest.activeConns === 0) return dest;
      if (least === null || loh * dest.weight > doh * least.weight) {
        least = dest;
        loh = doh;
      }
    }
    return least;
  }
}
