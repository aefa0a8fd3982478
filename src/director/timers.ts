// The timers a machine asks for, armed on the clock: one per name, set again replaces
// it, and what fires is handed back as the name. The machines only ever return
// deadlines; this is where they become timers.
import type { Clock, TimerHandle } from '../common/clock';

export class Timers<Name extends string> {
  private readonly armed = new Map<Name, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (name: Name) => void,
  ) {}

  set(name: Name, atMs: number): void {
    this.cancel(name);
    const handle = this.clock.setTimeout(() => {
      this.armed.delete(name);
      this.fire(name);
    }, Math.max(0, atMs - this.clock.nowMs()));
    this.armed.set(name, handle);
  }

  cancel(name: Name): void {
    const handle = this.armed.get(name);
    if (handle === undefined) return;
    this.clock.clearTimeout(handle);
    this.armed.delete(name);
  }

  clear(): void {
    for (const handle of this.armed.values()) this.clock.clearTimeout(handle);
    this.armed.clear();
  }

  get size(): number {
    return this.armed.size;
  }
}
