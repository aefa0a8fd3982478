import assert from 'node:assert/strict';
import { dhHashKey, hashTableSize, shHashKey, SourceHashScheduler } from '../../src/ipvs/schedulers/hashing';
import { dest, ip, packet, serviceWith, settings } from './service-fixture';

const RS1 = '192.168.10.8';
const RS2 = '192.168.10.9';

describe('sh and dh schedulers', () => {
  // The expected buckets were computed by the kernel's own expression compiled in C:
  // hash_32(v, 8) = (u32)(v * 0x61C88647) >> 24, as ip_vs_sh_hashkey() and ip_vs_dh_hashkey() use it.
  it("hashes an address as the kernel does: hash_32(port + addr, 8), plus the offset", () => {
    assert.equal(shHashKey(ip('10.0.0.1'), 0, 0), 39);
    assert.equal(shHashKey(ip('10.0.0.1'), 1, 5), 142);
    assert.equal(shHashKey(ip('10.0.0.1'), 0, 250), 33, 'the offset wraps at 256');
    assert.equal(shHashKey(ip('198.51.100.1'), 0, 0), 96);
    // IPv6 folds its four words with xor: 2001:db8::1 → 0x20010db8 ^ 0 ^ 0 ^ 1 = 0x20010db9.
    assert.equal(shHashKey(ip('2001:db8::1'), 0, 0), 63);
    assert.deepEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((a) => dhHashKey(ip(a))), [39, 137, 235, 77, 174]);
  });

  it('sends 198.51.100.1 where the kernel does: of 10.0.1.1 and 10.0.1.2 added in that order, to 10.0.1.2', () => {
    // The list is newest first, so the even buckets (96 among them) are 10.0.1.2's. The
    // older kernels' formula put it in bucket 177, 10.0.1.1's.
    const svc = serviceWith('sh', ['10.0.1.1', '10.0.1.2']);
    assert.equal(svc.schedule(packet('198.51.100.1'))?.address.text, '10.0.1.2');
    svc.editDestination(dest(svc, '10.0.1.1'), settings({ weight: 0 }));
    assert.equal(svc.schedule(packet('198.51.100.1'))?.address.text, '10.0.1.2', "older kernels' bucket, 177, is 10.0.1.1's: quiescent, it answered 'no destination available'");
  });

  it('sh fills the 256 buckets in list order, each destination for as many buckets as its weight', () => {
    const svc = serviceWith('sh', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }]);
    const sh = svc.scheduler as SourceHashScheduler;
    const pattern = Array.from({ length: 8 }, (_, i) => sh.bucket(i)?.address.text);
    assert.deepEqual(pattern, [RS2, RS1, RS1, RS1, RS2, RS1, RS1, RS1]);
    assert.equal(sh.bucket(hashTableSize - 1)?.address.text, RS1);
  });

  it('sh sends a client always to the same server: 10.0.0.1 hashes to bucket 39', () => {
    const svc = serviceWith('sh', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }]);
    // 39 mod 4 = 3: RS1's run.
    for (let sport = 1000; sport < 1010; sport++) assert.equal(svc.schedule(packet('10.0.0.1', sport))?.address.text, RS1);
  });

  it('sh refuses a client whose server is quiescent, unless sh-fallback walks the table on', () => {
    const plain = serviceWith('sh', [{ addr: RS1, weight: 3 }, { addr: RS2, weight: 1 }]);
    plain.editDestination(dest(plain, RS1), settings({ weight: 0 }));
    // A zero weight still takes one bucket per turn: the table is now alternate RS2, RS1.
    assert.equal(plain.schedule(packet('10.0.0.1')), null, 'bucket 39 is RS1, quiescent');
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
    // 10.0.0.1 → bucket 39 (odd) → the second in the list, RS1; 10.0.0.4 → 77 (odd) → RS1;
    // 10.0.0.5 → 174 (even) → RS2.
    assert.equal(svc.schedule(packet('1.1.1.1', 1, '10.0.0.1'))?.address.text, RS1);
    assert.equal(svc.schedule(packet('1.1.1.1', 1, '10.0.0.5'))?.address.text, RS2);
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
