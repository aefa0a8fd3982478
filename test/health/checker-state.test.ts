import assert from 'node:assert/strict';
import { CheckerState } from '../../src/health/checker-state';
import type { CheckerTiming } from '../../src/health/config';

const timing: CheckerTiming = { connectTimeoutMs: 1000, retry: 2, delayBeforeRetryMs: 500, delayLoopMs: 6000, warmupMs: 4000 };
const ok = { ok: true } as const;
const fail = { ok: false, reason: 'refused' } as const;

describe('a checker\'s verdict (keepalived\'s retry rules)', () => {
  it('retries a failure `retry` times, delay_before_retry apart, before declaring the server down', () => {
    const c = new CheckerState(timing, true);
    assert.deepEqual(c.result(fail), { nextCheckInMs: 500 });
    assert.deepEqual(c.result(fail), { nextCheckInMs: 500 });
    assert.deepEqual(c.result(fail), { transition: 'down', nextCheckInMs: 6000 });
    assert.equal(c.up, false);
    assert.deepEqual(c.result(fail), { nextCheckInMs: 6000 }, 'a down server is checked every delay_loop');
  });

  it('a success between failures starts the count again', () => {
    const c = new CheckerState(timing, true);
    c.result(fail);
    c.result(fail);
    assert.deepEqual(c.result(ok), { nextCheckInMs: 6000 });
    assert.deepEqual(c.result(fail), { nextCheckInMs: 500 });
  });

  it('with retry 0 the first failure is down, and one success is up again', () => {
    const c = new CheckerState({ ...timing, retry: 0 }, true);
    assert.deepEqual(c.result(fail), { transition: 'down', nextCheckInMs: 6000 });
    assert.deepEqual(c.result(ok), { transition: 'up', nextCheckInMs: 6000 });
  });

  it('alpha: starts down, up at the first success', () => {
    const c = new CheckerState(timing, false);
    assert.equal(c.up, false);
    assert.deepEqual(c.result(ok), { transition: 'up', nextCheckInMs: 6000 });
  });

  it('misc_dynamic: reports a weight when it changes', () => {
    const c = new CheckerState(timing, true);
    assert.deepEqual(c.result({ ok: true, weight: 5 }), { weight: 5, nextCheckInMs: 6000 });
    assert.deepEqual(c.result({ ok: true, weight: 5 }), { nextCheckInMs: 6000 });
    assert.deepEqual(c.result({ ok: true, weight: 7 }), { weight: 7, nextCheckInMs: 6000 });
    assert.equal(c.weight, 7);
  });

  it('spreads the first check over the warmup', () => {
    const c = new CheckerState(timing, true);
    assert.deepEqual([c.firstCheckInMs(0), c.firstCheckInMs(0.5), c.firstCheckInMs(0.999)], [0, 2000, 3996]);
  });
});
