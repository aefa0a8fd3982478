import type { VirtualClock } from '../../src/common/clock';

/**
 * Moves virtual time timer by timer up to `ms` from now, letting the promises each timer
 * starts (a probe, say) settle before the next one fires.
 */
export async function runVirtual(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.nowMs() + ms;
  for (let n = 0; n < 10_000; n++) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = clock.nextTimerAtMs();
    if (next === undefined || next > end) break;
    clock.advanceTo(next);
  }
  clock.advanceTo(end);
}
