import assert from 'node:assert/strict';
import { offsetFromExchange, SkewWatch } from '../../src/time/skew';

describe('clock skew', () => {
  it('takes offset and delay from the four timestamps of an exchange', () => {
    // B is 700 ms ahead; 10 ms each way; B answers 5 ms after receiving.
    const t1 = 1_000_000_000;
    const t2 = t1 + 10_000 + 700_000;
    const t3 = t2 + 5_000;
    const t4 = t1 + 10_000 + 5_000 + 10_000;
    assert.deepEqual(offsetFromExchange(t1, t2, t3, t4), { offsetMs: 700, delayMs: 20 });
  });

  it('reads the median of five samples, so one wild sample raises nothing', () => {
    const w = new SkewWatch({ warnMs: 500, criticalMs: 1000 });
    const feed = (ms: number) => w.sample({ offsetMs: ms, delayMs: 1 });
    assert.deepEqual([feed(10), feed(5000), feed(10)], [undefined, undefined, undefined]);
    assert.equal(w.level, 'ok');
  });

  it('warns above warn, goes critical above critical, and clears only below 80% of the threshold', () => {
    const w = new SkewWatch({ warnMs: 500, criticalMs: 1000 });
    const feed = (ms: number, times: number) => Array.from({ length: times }, () => w.sample({ offsetMs: ms, delayMs: 1 })).filter((x) => x !== undefined);
    assert.deepEqual(feed(600, 5), ['warn']);
    assert.deepEqual(feed(-1200, 5), ['critical'], 'a clock behind counts as much as one ahead');
    assert.deepEqual(feed(-900, 5), [], '900 is above 80% of critical: the critical alert holds');
    assert.deepEqual(feed(-700, 5), ['warn']);
    assert.deepEqual(feed(450, 5), [], '450 is above 80% of warn: the warning holds');
    assert.deepEqual(feed(350, 5), ['ok']);
  });
});
