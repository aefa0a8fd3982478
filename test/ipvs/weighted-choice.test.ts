import assert from 'node:assert/strict';
import type { Rng } from '../../src/common/rng';
import { SeededRng } from '../../src/common/rng';
import { dest, packet, picks, serviceWith } from './service-fixture';

const RS1 = '192.168.10.8';
const RS2 = '192.168.10.9';
const RS3 = '192.168.10.10';

/** An Rng that returns the given draws in order. */
function draws(...values: number[]): Rng {
  let i = 0;
  return { below: (bound) => Math.min(values[i++] ?? 0, bound - 1), next: () => 0 };
}

describe('fo, ovf and twos schedulers', () => {
  it('fo sends everything to the highest weight that is not overloaded, the earlier one on a tie', () => {
    const svc = serviceWith('fo', [{ addr: RS1, weight: 5 }, { addr: RS2, weight: 10, upper: 1 }, { addr: RS3, weight: 5 }]);
    assert.deepEqual(picks(svc, 2), [RS2, RS2]);
    dest(svc, RS2).bindConnection('active');
    assert.deepEqual(picks(svc, 1), [RS3], 'RS3 is newer than RS1, so earlier in the list');
  });

  it('ovf fills the highest weight up to its weight in active connections, then overflows', () => {
    const svc = serviceWith('ovf', [{ addr: RS1, weight: 2 }, { addr: RS2, weight: 1 }]);
    const chosen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = svc.schedule(packet('10.0.0.1'));
      chosen.push(d?.address.text ?? '-');
      d?.bindConnection('active');
    }
    // RS1 takes 3 (active equal to its weight 2 still counts as room), then it overflows to RS2.
    assert.deepEqual(chosen, [RS1, RS1, RS1, RS2]);
  });

  it('twos draws two destinations by weight and keeps the less loaded per weight', () => {
    const svc = serviceWith('twos', [{ addr: RS1, weight: 1 }, { addr: RS2, weight: 3 }], { rng: draws(0, 4) });
    // List [RS2 (3), RS1 (1)], total 4, draws in [0, 4]: 0 → RS2, 4 → RS1; both idle: the first draw wins.
    assert.deepEqual(picks(svc, 1), [RS2]);
    const loaded = serviceWith('twos', [{ addr: RS1, weight: 1 }, { addr: RS2, weight: 3 }], { rng: draws(0, 4) });
    dest(loaded, RS2).activeConns = 1;
    assert.deepEqual(picks(loaded, 1), [RS1]);
  });

  it('twos spreads connections in proportion to weight with a seeded source', () => {
    const svc = serviceWith('twos', [{ addr: RS1, weight: 1 }, { addr: RS2, weight: 3 }], { rng: new SeededRng(42) });
    const counts: Record<string, number> = {};
    for (const a of picks(svc, 8000)) counts[a] = (counts[a] ?? 0) + 1;
    assert.ok((counts[RS2] ?? 0) > 5000 && (counts[RS1] ?? 0) > 1000, JSON.stringify(counts));
  });

  for (const name of ['fo', 'ovf', 'twos'] as const) {
    it(`${name} finds nothing when every destination is quiescent`, () => {
      assert.deepEqual(picks(serviceWith(name, [{ addr: RS1, weight: 0 }, { addr: RS2, weight: 0 }]), 1), ['-']);
    });
  }
});
