// Weight-first schedulers without a cursor: fo (ip_vs_fo.c), ovf (ip_vs_ovf.c) and twos
// (ip_vs_twos.c). The earliest destination in the list wins a tie.
import type { Rng } from '../../common/rng';
import type { Destination } from '../destination';
import { isSchedulable, StatelessScheduler, type ScheduledService } from './scheduler';

/** fo, weighted failover: the highest weight among those not overloaded. */
export class WeightedFailoverScheduler extends StatelessScheduler {
  readonly name = 'fo';

  schedule(svc: ScheduledService): Destination | null {
    let best: Destination | null = null;
    for (const dest of svc.destinations) {
      if (!dest.overloaded && dest.weight > (best?.weight ?? 0)) best = dest;
    }
    return best;
  }
}

/** ovf, weighted overflow: the highest weight whose active connections do not exceed it. */
export class WeightedOverflowScheduler extends StatelessScheduler {
  readonly name = 'ovf';

  schedule(svc: ScheduledService): Destination | null {
    let best: Destination | null = null;
    for (const dest of svc.destinations) {
      if (!isSchedulable(dest) || dest.activeConns > dest.weight) continue;
      if (best === null || dest.weight > best.weight) best = dest;
    }
    return best;
  }
}

/**
 * twos, power of two choices: two destinations drawn at random in proportion to weight
 * (each draw in [0, total weight]), and the one with the lower overhead per weight wins;
 * the first draw keeps a tie.
 */
export class PowerOfTwoScheduler extends StatelessScheduler {
  readonly name = 'twos';

  constructor(private readonly rng: Rng) {
    super();
  }

  schedule(svc: ScheduledService): Destination | null {
    let total = 0;
    for (const dest of svc.destinations) if (isSchedulable(dest)) total += dest.weight;
    if (total === 0) return null;
    let r1 = this.rng.below(total + 1);
    let r2 = this.rng.below(total + 1);
    let choice1: Destination | null = null;
    let choice2: Destination | null = null;
    for (const dest of svc.destinations) {
      if (!isSchedulable(dest)) continue;
      r1 -= dest.weight;
      r2 -= dest.weight;
      if (r1 <= 0 && choice1 === null) choice1 = dest;
      if (r2 <= 0 && choice2 === null) choice2 = dest;
      if (choice1 !== null && choice2 !== null) break;
    }
    if (choice1 === null || choice2 === null) return choice1 ?? choice2;
    return choice2.weight * choice1.connOverhead() > choice1.weight * choice2.connOverhead() ? choice2 : choice1;
  }
}
