import assert from 'node:assert/strict';
import { dest, ip, picks, serviceWith, settings } from './service-fixture';

const RS1 = '192.168.10.8';
const RS2 = '192.168.10.9';

function counts(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of list) out[a] = (out[a] ?? 0) + 1;
  return out;
}

// A service exists before its destinations (ipvsadm -A, then -a), so the current weight
// is derived step by step as each destination arrives, exactly as in the kernel.
describe('wrr scheduler', () => {
  it('restored with -R (.9 weight 1, then .8 weight 3): a first round at weight 1, then 3:1', () => {
    const svc = serviceWith('wrr', [{ addr: RS2, weight: 1 }, { addr: RS1, weight: 3 }]);
    assert.deepEqual(picks(svc, 10), [RS1, RS2, RS1, RS1, RS1, RS2, RS1, RS1, RS1, RS2]);
    assert.deepEqual(counts(picks(svc, 4000)), { [RS1]: 3000, [RS2]: 1000 });
  });

  it('keeps the current weight across -e edits, as when the seed notes switched rr to wrr 3:1', () => {
    // rr with .8 then .9 (weight 1), -E -s wrr, then -e .8 -w 3 and -e .9 -w 1.
    const svc = serviceWith('rr', [RS1, RS2]);
    svc.edit({ ...svc.settings, scheduler: 'wrr' });
    svc.editDestination(dest(svc, RS1), settings({ weight: 3 }));
    svc.editDestination(dest(svc, RS2), settings({ weight: 1 }));
    assert.deepEqual(picks(svc, 8), [RS2, RS1, RS1, RS1, RS2, RS1, RS1, RS1]);
  });

  it('steps the current weight by the gcd of the weights, down to 1', () => {
    const svc = serviceWith('wrr', [{ addr: 'a::1', weight: 2 }, { addr: 'a::2', weight: 4 }, { addr: 'a::3', weight: 6 }]);
    // gcd 2, mw 6 − 1 = 5; arriving one by one left cw at 1: a pass at 1, then 5, 3, 1.
    assert.deepEqual(picks(svc, 9), ['a::3', 'a::2', 'a::1', 'a::3', 'a::3', 'a::2', 'a::3', 'a::2', 'a::1']);
    assert.deepEqual(counts(picks(svc, 6000)), { 'a::3': 3000, 'a::2': 2000, 'a::1': 1000 });
  });

  it('restarts at the head after a destination is added, keeping the current weight', () => {
    const svc = serviceWith('wrr', [{ addr: RS1, weight: 2 }, { addr: RS2, weight: 1 }]);
    assert.deepEqual(picks(svc, 2), [RS2, RS1]);
    svc.addDestination(ip('192.168.10.7'), 80, settings({ weight: 2 }));
    assert.deepEqual(picks(svc, 5), ['192.168.10.7', RS2, RS1, '192.168.10.7', RS1]);
  });

  it('resets the current weight to the new maximum when an edit lowers it below', () => {
    const svc = serviceWith('wrr', [{ addr: RS1, weight: 5 }, { addr: RS2, weight: 3 }]);
    // A pass at weight 1, then the pass at cw 5 picks RS1 and leaves cw at 5.
    assert.deepEqual(picks(svc, 3), [RS2, RS1, RS1]);
    svc.editDestination(dest(svc, RS1), settings({ weight: 1 }));
    svc.editDestination(dest(svc, RS2), settings({ weight: 2 }));
    // cw was 5, above the new maximum: it becomes 3, then 2, and the walk restarts at the head.
    assert.deepEqual(picks(svc, 6), [RS2, RS2, RS1, RS2, RS2, RS1]);
  });

  it('finds nothing when every weight is 0', () => {
    assert.deepEqual(picks(serviceWith('wrr', [{ addr: RS1, weight: 0 }, { addr: RS2, weight: 0 }]), 2), ['-', '-']);
  });

  it('skips an overloaded destination, and finds nothing when all are overloaded', () => {
    const svc = serviceWith('wrr', [{ addr: RS1, weight: 3, upper: 1 }, { addr: RS2, weight: 1 }]);
    dest(svc, RS1).bindConnection('active');
    assert.deepEqual(picks(svc, 3), [RS2, RS2, RS2]);
    svc.editDestination(dest(svc, RS2), settings({ weight: 1, upper: 1 }));
    dest(svc, RS2).bindConnection('active');
    assert.deepEqual(picks(svc, 2), ['-', '-']);
  });
});
