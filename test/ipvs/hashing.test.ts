import assert from 'node:assert/strict';
import { hashTableSize, shHashKey, SourceHashScheduler } from '../../src/ipvs/schedulers/hashing';
import { dest, ip, packet, serviceWith, settings } from './service-fixture';

const RS1 = '192.168.10.8';
const RS2 = '192.168.10.9';

describe('sh and dh schedulers', () => {
  it("hashes an address as the kernel does: (port + addr) × 2654435761, low 8 bits", () => {
    // 10.0.0.1 = 0x0a000001; only the low byte of the sum matters for the low byte: 0x01 × 0xb1.
    assert.equal(shHashKey(ip('10.0.0.1'), 0, 0), 0xb1);
    assert.equal(shHashKey(ip('10.0.0.1'), 1, 0), (2 * 0xb1) & 0xff);
    assert.equal(shHashKey(ip('10.0.0.1'), 0, 5), (0xb1 + 5) & 0xff);
    // IPv6 folds its four words with xor: 2001:db8::1 → 0x20010db8 ^ 0 ^ 0 ^ 1 = 0x20010db9.
    assert.equal(shHashKey(ip('2001:db8::1'), 0, 0), Math.imul(0x20010db9, 2654435761) & 0xff);
  });

  it('sh fills the 256 buckets in list order, each destination for as many buckets as its weight', () => {
    const svc = serviceWith('sh', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }]);
    const sh = svc.scheduler as SourceHashScheduler;
    const pattern = Array.from({ length: 8 }, (_, i) => sh.bucket(i)?.address.text);
    assert.deepEqual(pattern, [RS2, RS1, RS1, RS1, RS2, RS1, RS1, RS1]);
    assert.equal(sh.bucket(hashTableSize - 1)?.address.text, RS1);
  });

  it('sh sends a client always to the same server: 10.0.0.1 hashes to bucket 177', () => {
    const svc = serviceWith('sh', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }]);
    // 177 mod 4 = 1: RS1's run.
    for (let sport = 1000; sport < 1010; sport++) assert.equal(svc.schedule(packet('10.0.0.1', sport))?.address.text, RS1);
  });

  it('sh refuses a client whose server is quiescent, unless sh-fallback walks the table on', () => {
    const plain = serviceWith('sh', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }]);
    plain.editDestination(dest(plain, RS1), settings({ weight: 0 }));
    // A zero weight still takes one bucket per turn: the table is now alternate RS2, RS1.
    assert.equal(plain.schedule(packet('10.0.0.1')), null, 'bucket 177 is RS1, quiescent');
    const fallback = serviceWith('sh', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }], { flags: { flag1: true } });
    fallback.editDestination(dest(fallback, RS1), settings({ weight: 0 }));
    assert.equal(fallback.schedule(packet('10.0.0.1'))?.address.text, RS2);
  });

  it('sh-port adds the client port to the hash, so one client spreads over servers', () => {
    const svc = serviceWith('sh', [RS1, RS2], { flags: { flag2: true } });
    const seen = new Set<string>();
    for (let sport = 1000; sport < 1010; sport++) seen.add(svc.schedule(packet('10.0.0.1', sport))?.address.text ?? '-');
    assert.deepEqual([...seen].sort(), [RS1, RS2]);
  });

  it('dh picks by the packet destination address, one bucket per server, and skips none', () => {
    const svc = serviceWith('dh', [RS1, RS2]);
    // 10.0.0.1 → bucket 177 (odd) → the second in the list, RS1; 10.0.0.2 → 0x62 (even) → RS2.
    assert.equal(svc.schedule(packet('1.1.1.1', 1, '10.0.0.1'))?.address.text, RS1);
    assert.equal(svc.schedule(packet('2.2.2.2', 1, '10.0.0.2'))?.address.text, RS2);
    svc.editDestination(dest(svc, RS1), settings({ weight: 0 }));
    assert.equal(svc.schedule(packet('1.1.1.1', 1, '10.0.0.1')), null);
  });

  it('rebuilds the table when a destination is removed', () => {
    const svc = serviceWith('sh', [RS1, RS2]);
    svc.removeDestination(dest(svc, RS1));
    assert.equal(svc.schedule(packet('10.0.0.1'))?.address.text, RS2);
    svc.removeDestination(dest(svc, RS2));
    assert.equal(svc.schedule(packet('10.0.0.1')), null);
  });
});
