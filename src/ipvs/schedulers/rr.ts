// Round robin (ip_vs_rr.c): a cursor walks the list from the last chosen destination,
// skipping quiescent (weight 0) and overloaded ones. Deleting the destination under the
// cursor moves the cursor to the one before it, so the next pick is the one after.
import type { Destination } from '../destination';
import { isSchedulable, StatelessScheduler, type ScheduledService } from './scheduler';

export class RoundRobinScheduler extends StatelessScheduler {
  readonly name = 'rr';
  /** The last destination chosen; null is the list head (start from the first). */
  private cursor: Destination | null = null;

  schedule(svc: ScheduledService): Destination | null {
    const list = svc.destinations;
    const last = this.cursor === null ? -1 : this.cursor.position;
    // After the cursor to the end, then from the start up to and including the cursor;
    // from the head, one pass over the list.
    for (let step = 1; step <= list.length; step++) {
      const i = last + step;
      const dest = list[i % list.length] as Destination;
      if (isSchedulable(dest)) {
        this.cursor = dest;
        return dest;
      }
    }
    return null;
  }

  override destRemoved(svc: ScheduledService, dest: Destination, formerPosition: number): void {
    if (this.cursor === dest) this.cursor = formerPosition === 0 ? null : (svc.destinations[formerPosition - 1] ?? null);
  }
}
