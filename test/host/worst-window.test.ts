import assert from 'node:assert/strict';
import { WorstWindow } from '../../src/host/worst-window';

describe('WorstWindow (the hold time)', () => {
  it('a worse level counts at once; a better one once it has lasted the hold time, exactly', () => {
    const w = new WorstWindow(10_000, 0, 10);
    w.set(3, 1000);
    assert.equal(w.worst(1000), 3);
    w.set(0, 2000);
    assert.equal(w.worst(11_999), 3);
    assert.equal(w.nextChangeMs(), 12_000);
    assert.equal(w.worst(12_000), 0);
    assert.equal(w.nextChangeMs(), undefined);
  });

  it('steps down through a partial recovery: each level lifts hold after it ended', () => {
    const w = new WorstWindow(10_000, 0, 10);
    w.set(8, 0);
    w.set(2, 1000);
    w.set(0, 4000);
    assert.deepEqual([w.worst(10_999), w.worst(11_000), w.worst(13_999), w.worst(14_000)], [8, 2, 2, 0]);
  });

  it('a relapse during the hold starts it over from when the relapse ends', () => {
    const w = new WorstWindow(10_000, 0, 10);
    w.set(1, 0);
    w.set(0, 1000);
    w.set(1, 5000);
    w.set(0, 6000);
    assert.equal(w.worst(15_999), 1);
    assert.equal(w.worst(16_000), 0);
  });

  it('keeps one entry per falling level: a long run of samples holds no more than the levels', () => {
    const w = new WorstWindow(60_000, 0, 3);
    for (let t = 0; t < 10_000; t++) w.set(t % 3, t);
    assert.equal(w.worst(10_000), 2);
  });

  it('hold 0 follows the value; reset forgets what was held; a new hold applies to what is held', () => {
    const w = new WorstWindow(0, 0, 2);
    w.set(1, 0);
    w.set(0, 1);
    assert.equal(w.worst(1), 0);
    w.setHold(5000);
    w.set(1, 2);
    w.set(0, 3);
    assert.equal(w.worst(5002), 1);
    w.reset(0);
    assert.equal(w.worst(5002), 0);
  });
});
