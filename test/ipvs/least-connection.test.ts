import assert from 'node:assert/strict';
import { SeededRng } from '../../src/common/rng';
import type { Destination } from '../../src/ipvs/destination';
import type { SchedulerName } from '../../src/ipvs/schedulers/scheduler';
import { dest, packet, picks, serviceWith } from './service-fixture';

const RS1 = '192.168.10.8';
const RS2 = '192.168.10.9';
const RS3 = '192.168.10.10';

function setConns(d: Destination, active: number, inactive: number): void {
  d.activeConns = active;
  d.inactConns = inactive;
}

describe('lc, wlc, sed and nq schedulers', () => {
  it('wlc picks the seed notes\' weight-20 server: 15660/20 beats 5220/5', () => {
    const svc = serviceWith('wlc', [{ addr: RS1, weight: 20 }, { addr: RS2, weight: 5 }]);
    setConns(dest(svc, RS1), 60, 300);
    setConns(dest(svc, RS2), 20, 100);
    assert.deepEqual(picks(svc, 1), [RS1]);
  });

  it('wlc keeps the earlier destination in the list on a tie, and weighs an active connection as 256 inactive', () => {
    const svc = serviceWith('wlc', [RS1, RS2]);
    assert.deepEqual(picks(svc, 1), [RS2], 'the newest is first in the list');
    setConns(dest(svc, RS2), 1, 0);
    setConns(dest(svc, RS1), 0, 255);
    assert.deepEqual(picks(svc, 1), [RS1]);
    setConns(dest(svc, RS1), 0, 256);
    assert.deepEqual(picks(svc, 1), [RS2]);
  });

  it('lc ignores weights except 0', () => {
    const svc = serviceWith('lc', [{ addr: RS1, weight: 100 }, { addr: RS2, weight: 1 }, { addr: RS3, weight: 0 }]);
    setConns(dest(svc, RS1), 2, 0);
    setConns(dest(svc, RS2), 1, 0);
    assert.deepEqual(picks(svc, 1), [RS2]);
  });

  it('sed counts only active connections, plus one: (a + 1) / w', () => {
    const svc = serviceWith('sed', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }]);
    setConns(dest(svc, RS1), 2, 50);
    setConns(dest(svc, RS2), 0, 0);
    // 3/3 = 1 versus 1/1 = 1: a tie keeps the earlier (RS2 is newer, first in the list).
    assert.deepEqual(picks(svc, 1), [RS2]);
    setConns(dest(svc, RS1), 1, 50);
    assert.deepEqual(picks(svc, 1), [RS1]);
  });

  it('nq sends to an idle server first, whatever its weight', () => {
    const svc = serviceWith('nq', [{ addr: RS1, weight: 100 }, { addr: RS2, weight: 1 }, { addr: RS3, weight: 100 }]);
    setConns(dest(svc, RS3), 1, 0);
    setConns(dest(svc, RS2), 5, 0);
    setConns(dest(svc, RS1), 0, 7);
    assert.deepEqual(picks(svc, 1), [RS1]);
    setConns(dest(svc, RS1), 3, 0);
    // No idle one: (1+1)/100 is the least.
    assert.deepEqual(picks(svc, 1), [RS3]);
  });

  for (const name of ['lc', 'wlc', 'sed', 'nq'] as const) {
    it(`${name} skips quiescent and overloaded destinations, and finds none when all are`, () => {
      const svc = serviceWith(name, [{ addr: RS1, weight: 0 }, { addr: RS2, upper: 1 }, RS3]);
      dest(svc, RS2).bindConnection('inactive');
      setConns(dest(svc, RS3), 100, 100);
      assert.deepEqual(picks(svc, 1), [RS3]);
      dest(svc, RS3).upperThreshold = 1;
      dest(svc, RS3).bindConnection('active');
      assert.deepEqual(picks(svc, 1), ['-']);
    });
  }

  describe('against a naive reference over random tables', () => {
    const reference: Record<'lc' | 'wlc' | 'sed' | 'nq', (list: readonly Destination[]) => Destination | null> = {
      lc: (list) => argmin(list, (d) => d.activeConns * 256 + d.inactConns),
      wlc: (list) => argmin(list, (d) => (d.activeConns * 256 + d.inactConns) / d.weight),
      sed: (list) => argmin(list, (d) => (d.activeConns + 1) / d.weight),
      nq: (list) => list.find((d) => usable(d) && d.activeConns === 0) ?? argmin(list, (d) => (d.activeConns + 1) / d.weight),
    };
    for (const name of Object.keys(reference) as Array<keyof typeof reference>) {
      it(`${name} agrees with the reference on 2000 random tables`, () => {
        const rng = new SeededRng(name.length * 7919);
        for (let round = 0; round < 2000; round++) {
          const n = 1 + rng.below(8);
          const svc = serviceWith(name as SchedulerName, Array.from({ length: n }, (_, i) => ({ addr: `10.1.0.${i + 1}`, weight: rng.below(4) })));
          for (const d of svc.destinations) {
            setConns(d, rng.below(5), rng.below(600));
            d.overloaded = rng.below(6) === 0;
          }
          const expected = reference[name](svc.destinations);
          assert.equal(svc.schedule(packet('10.0.0.1'))?.address.text, expected?.address.text, `round ${round}`);
        }
      });
    }
  });
});

function usable(d: Destination): boolean {
  return !d.overloaded && d.weight > 0;
}

/** The first usable destination with the lowest cost (exact fractions compared as floats). */
function argmin(list: readonly Destination[], cost: (d: Destination) => number): Destination | null {
  let best: Destination | null = null;
  for (const d of list) if (usable(d) && (best === null || cost(d) < cost(best))) best = d;
  return best;
}
