// The mark that names a real server in the kernel plane's maps and rules: unique in the
// table and kept for as long as the destination lives, so a persistence or flow map entry
// written before a reconcile still means the same server after it. A destination taken
// back from the trash is the same object, and keeps its mark.
import type { Destination } from '../../destination';

export class DestinationMarks {
  private readonly marks = new WeakMap<Destination, number>();
  /** Back from a mark (read in a flow map) to its destination, for as long as it lives. */
  private readonly byMark = new Map<number, WeakRef<Destination>>();
  private next = 1;

  of(dest: Destination): number {
    let mark = this.marks.get(dest);
    if (mark === undefined) {
      mark = this.next++;
      this.marks.set(dest, mark);
      this.byMark.set(mark, new WeakRef(dest));
    }
    return mark;
  }

  destinationOf(mark: number): Destination | undefined {
    const dest = this.byMark.get(mark)?.deref();
    if (dest === undefined) this.byMark.delete(mark);
    return dest;
  }
}
