import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import type { CheckOutcome } from '../../src/health/checker-state';
import type { CheckerConfig } from '../../src/health/config';
import { HealthMonitor } from '../../src/health/monitor';
import { runVirtual as run } from '../support/virtual-time';

const tcp = (retry: number): CheckerConfig => ({
  kind: 'TCP_CHECK',
  where: { file: 'x.conf', line: 1, col: 1 },
  timing: { connectTimeoutMs: 1000, retry, delayBeforeRetryMs: 500, delayLoopMs: 3000, warmupMs: 0 },
});


describe('health monitor on virtual time', () => {
  it('checks every delay_loop, retries a failure, and reports down then up with the time it happened', async () => {
    const clock = new VirtualClock();
    const answers: boolean[] = [true, false, false, false, true];
    const events: string[] = [];
    const monitor = new HealthMonitor(clock, new SeededRng(1), {
      changed: (id, up) => events.push(`${clock.nowMs()} ${id} ${up ? 'up' : 'down'}`),
      weight: () => undefined,
    });
    const probe = (): Promise<CheckOutcome> => Promise.resolve(answers.shift() ?? true ? { ok: true } : { ok: false, reason: 'refused' });
    assert.equal(monitor.add({ id: 'rs1', checkers: [{ config: tcp(2), probe }], startDown: false }), true);
    await run(clock, 12_000);
    // t=0 ok; t=3000 fail; retries at 3500 and 4000 fail -> down at 4000; next at 7000 ok -> up.
    assert.deepEqual(events, ['4000 rs1 down', '7000 rs1 up']);
    assert.equal(monitor.view()[0]?.checkers[0]?.checks, 6, "at 0, 3000, 3500, 4000, 7000 and 10000");
    monitor.stop();
    assert.equal(clock.pendingTimers(), 0);
  });

  it('a server is up only while every one of its checkers is', async () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    const monitor = new HealthMonitor(clock, new SeededRng(1), { changed: (id, up) => events.push(`${id} ${up ? 'up' : 'down'}`), weight: () => undefined });
    let second = true;
    monitor.add({
      id: 'rs',
      startDown: false,
      checkers: [
        { config: tcp(0), probe: () => Promise.resolve({ ok: true }) },
        { config: tcp(0), probe: () => Promise.resolve(second ? { ok: true } : { ok: false }) },
      ],
    });
    await run(clock, 1000);
    second = false;
    await run(clock, 3000);
    assert.deepEqual(events, ['rs down']);
    second = true;
    await run(clock, 3000);
    assert.deepEqual(events, ['rs down', 'rs up']);
    monitor.stop();
  });

  it('a probe that throws counts as a failure, and nothing escapes', async () => {
    const clock = new VirtualClock();
    const events: string[] = [];
    const monitor = new HealthMonitor(clock, new SeededRng(1), { changed: (id, up) => events.push(`${id} ${up}`), weight: () => undefined });
    monitor.add({ id: 'rs', startDown: false, checkers: [{ config: tcp(0), probe: () => Promise.reject(new Error('boom')) }] });
    await run(clock, 500);
    assert.deepEqual(events, ['rs false']);
    assert.match(monitor.view()[0]?.checkers[0]?.lastResult ?? '', /probe failed: boom/);
    monitor.stop();
  });
});
