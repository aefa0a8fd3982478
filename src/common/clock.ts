// Time as the decision logic sees it. Machines read `nowMs()` (monotonic) and never arm
// timers themselves; `wallMs()` exists only to measure clock skew. The real clock wraps
// Node's; the virtual clock advances only when a test or simulation says so, firing due
// timers in time order, so every timing rule can be tested without waiting.

export type TimerHandle = number;

export interface Clock {
  /** Monotonic milliseconds; the origin is arbitrary. */
  nowMs(): number;
  /** Wall-clock milliseconds since the Unix epoch; for skew measurement only. */
  wallMs(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export class RealClock implements Clock {
  private readonly timers = new Map<TimerHandle, NodeJS.Timeout>();
  private nextHandle = 1;

  nowMs(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = this.nextHandle++;
    this.timers.set(
      handle,
      setTimeout(() => {
        this.timers.delete(handle);
        callback();
      }, Math.max(0, delayMs)),
    );
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(handle);
  }
}

interface VirtualTimer {
  readonly handle: TimerHandle;
  readonly atMs: number;
  readonly callback: () => void;
}

export class VirtualClock implements Clock {
  private now: number;
  private wallOffsetMs: number;
  private readonly timers: VirtualTimer[] = [];
  private nextHandle = 1;

  constructor(startMs = 0, wallStartMs = 1_700_000_000_000) {
    this.now = startMs;
    this.wallOffsetMs = wallStartMs - startMs;
  }

  nowMs(): number {
    return this.now;
  }

  wallMs(): number {
    return this.now + this.wallOffsetMs;
  }

  /** Steps the wall clock (an NTP step, a wrong BIOS clock) without moving monotonic time. */
  stepWallMs(deltaMs: number): void {
    this.wallOffsetMs += deltaMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const handle = this.nextHandle++;
    const timer = { handle, atMs: this.now + Math.max(0, delayMs), callback };
    // Keep timers sorted by due time, and by creation among equals.
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1] as VirtualTimer).atMs > timer.atMs) i--;
    this.timers.splice(i, 0, timer);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.timers.findIndex((t) => t.handle === handle);
    if (i !== -1) this.timers.splice(i, 1);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  advanceTo(targetMs: number): void {
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.atMs > targetMs) break;
      this.timers.shift();
      this.now = Math.max(this.now, next.atMs);
      next.callback();
    }
    this.now = Math.max(this.now, targetMs);
  }

  /**
   * Fires the earliest timer due by `limitMs` (moving time to it) and says whether there
   * was one: a simulation looks at its world after every single event.
   */
  fireNext(limitMs: number): boolean {
    const next = this.timers[0];
    if (next === undefined || next.atMs > limitMs) return false;
    this.timers.shift();
    this.now = Math.max(this.now, next.atMs);
    next.callback();
    return true;
  }

  /** When the next timer falls due, if any. */
  nextTimerAtMs(): number | undefined {
    return this.timers[0]?.atMs;
  }

  pendingTimers(): number {
    return this.timers.length;
  }
}
