import assert from 'node:assert/strict';
import { FailureDetector } from '../../src/heartbeat/failure-detector';

const timing = { intervalMs: 1000, warntimeMs: 1500, deadtimeMs: 3000, initdeadMs: 6000 };
const changes = (cs: Array<{ peer: string; from: string; to: string }>) => cs.map((c) => `${c.peer}:${c.from}->${c.to}`);

describe('failure detector (heartbeat timing on virtual time)', () => {
  it('a peer never heard is starting until initdead, then dead', () => {
    const fd = new FailureDetector(timing, ['d2'], ['ring0'], 0);
    assert.deepEqual(changes(fd.evaluate(5999)), []);
    assert.equal(fd.settled(5999), false);
    assert.deepEqual(changes(fd.evaluate(6000)), ['d2:starting->dead']);
    assert.equal(fd.settled(6000), true);
  });

  it('hearing every peer settles the start-up at once', () => {
    const fd = new FailureDetector(timing, ['d2', 'w1'], ['ring0'], 0);
    assert.deepEqual(changes(fd.heard('d2', 'ring0', 100, 1)), ['d2:starting->up']);
    assert.equal(fd.settled(100), false);
    fd.heard('w1', 'ring0', 200, 1);
    assert.equal(fd.settled(200), true);
  });

  it('late after warntime, dead after deadtime, up again at the next heartbeat', () => {
    const fd = new FailureDetector(timing, ['d2'], ['ring0'], 0);
    fd.heard('d2', 'ring0', 1000, 1);
    assert.deepEqual(changes(fd.evaluate(2500)), []);
    assert.deepEqual(changes(fd.evaluate(2501)), ['d2:up->late']);
    assert.equal(fd.nextDeadlineMs(2501), 4001);
    assert.deepEqual(changes(fd.evaluate(4001)), ['d2:late->dead']);
    assert.deepEqual(fd.alive(), []);
    assert.deepEqual(changes(fd.heard('d2', 'ring0', 9000, 2)), ['d2:dead->up']);
    assert.deepEqual(fd.alive(), ['d2']);
  });

  it('a peer is up while any link is; each link has its own state and loss rate', () => {
    const fd = new FailureDetector(timing, ['d2'], ['ring0', 'ring1'], 0);
    for (let t = 1000; t <= 32_000; t += 1000) {
      fd.heard('d2', 'ring0', t, 1);
      if (t % 2000 === 0 && t <= 20_000) fd.heard('d2', 'ring1', t, 1);
    }
    assert.deepEqual(changes(fd.evaluate(32_500)), []);
    const [view] = fd.view(32_500);
    assert.equal(view?.state, 'up');
    const [ring0, ring1] = view?.links ?? [];
    assert.deepEqual([ring0?.up, ring1?.up], [true, false]);
    assert.equal(ring0?.lossRate, 0);
    assert.ok((ring1?.lossRate ?? 0) > 0.6, `ring1 loss ${ring1?.lossRate}`);
  });

  it('smooths RTT samples by 1/8', () => {
    const fd = new FailureDetector(timing, ['d2'], ['ring0'], 0);
    fd.rtt('d2', 8);
    fd.rtt('d2', 16);
    assert.equal(fd.view(0)[0]?.rttMs, 9);
  });
});
