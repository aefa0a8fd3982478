// The VRRP receiver is untrusted input: 100,000 hostile packets at a running pair (master
// and backup, VRRP v3 on a fake segment), each kind counted under its own reason, none
// crashing anything, none moving either instance. Hostile packets claim priority 254
// from an unknown address, so any one wrongly accepted would turn the master into a
// backup at once. Replays of the master's own adverts are accepted, as in keepalived
// (VRRP has no replay protection), and change nothing either.
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/common/rng';
import { encodeAdvert, encodeIpv4Header, vrrpMulticast4 } from '../../src/vrrp/wire/packet';
import { dropReasons, type DropReason, type ReceivedDatagram } from '../../src/vrrp/wire/receive';
import type { WireStats } from '../../src/director/wire-carrier';
import { ip, settledPair, state } from '../support/wire-segment';

const total = 100_000;
const group = ip(vrrpMulticast4);
const stranger = ip('10.9.0.66');

/** A well-formed v3 advert from the stranger at priority 254: accepted, it would win. */
function hostileBase(vrid = 51): Buffer {
  const vrrp = encodeAdvert({ version: 3, vrid, priority: 254, advertIntervalMs: 1000, addresses: [ip('10.9.0.100')] }, { family: 4, src: stranger, dst: group });
  return Buffer.concat([encodeIpv4Header(stranger, group, vrrp.length), vrrp]);
}

/** Each kind of hostile packet, and where it must be counted. */
const kinds: Array<{ name: string; counted: DropReason | 'socket:packet_len_err' | 'socket:vrid_err' | 'some check'; make: (rng: SeededRng) => Buffer }> = [
  { name: 'truncated below an IPv4 header', counted: 'socket:packet_len_err', make: (rng) => hostileBase().subarray(0, rng.below(20)) },
  { name: 'truncated inside the VRRP header', counted: 'socket:packet_len_err', make: (rng) => withLength(hostileBase().subarray(0, 20 + rng.below(8))) },
  { name: 'oversized (trailing bytes the IP length covers)', counted: 'packet_len_err', make: (rng) => withLength(Buffer.concat([hostileBase(), Buffer.alloc(1 + rng.below(2000), 7)])) },
  { name: 'an IP length longer than the datagram', counted: 'socket:packet_len_err', make: () => lengthField(hostileBase(), 200) },
  { name: 'TTL not 255', counted: 'ip_ttl_err', make: (rng) => at(hostileBase(), 8, rng.below(255)) },
  { name: 'wrong version', counted: 'vers_err', make: (rng) => at(hostileBase(), 20, ((4 + rng.below(12)) << 4) | 1) },
  { name: 'wrong VRID', counted: 'socket:vrid_err', make: (rng) => at(hostileBase(), 21, 52 + rng.below(200)) },
  { name: 'bad checksum', counted: 'chk_err', make: (rng) => flipChecksum(hostileBase(), 1 + rng.below(255)) },
  { name: 'not an advert (type)', counted: 'invalid_type_rcvd', make: (rng) => at(hostileBase(), 20, 0x30 | (2 + rng.below(14))) },
  { name: 'unicast to a multicast instance', counted: 'addr_list_err', make: () => unicast() },
  { name: 'random bytes behind a valid IPv4 header', counted: 'some check', make: (rng) => garbage(rng) },
];

function at(b: Buffer, offset: number, value: number): Buffer {
  b[offset] = value;
  return b;
}

function flipChecksum(b: Buffer, mask: number): Buffer {
  return at(b, 26, (b[26] as number) ^ mask);
}

function lengthField(b: Buffer, length: number): Buffer {
  b.writeUInt16BE(length, 2);
  return b;
}

function withLength(b: Buffer): Buffer {
  return b.length >= 4 ? lengthField(Buffer.from(b), b.length) : b;
}

function unicast(): Buffer {
  const me = ip('10.9.0.2');
  const vrrp = encodeAdvert({ version: 3, vrid: 51, priority: 254, advertIntervalMs: 1000, addresses: [ip('10.9.0.100')] }, { family: 4, src: stranger, dst: me });
  return Buffer.concat([encodeIpv4Header(stranger, me, vrrp.length), vrrp]);
}

function garbage(rng: SeededRng): Buffer {
  const body = Buffer.alloc(rng.below(600));
  for (let i = 0; i < body.length; i++) body[i] = rng.below(256);
  return Buffer.concat([encodeIpv4Header(stranger, group, body.length), body]);
}

function sumDrops(stats: WireStats | undefined): number {
  return dropReasons.reduce((sum, r) => sum + (stats?.[r] ?? 0), 0);
}

describe('VRRP receiver under hostile packets', function () {
  this.timeout(60_000);

  it(`${total} hostile packets at a master and its backup: no crash, no state change, each counted under its reason`, () => {
    const { clock, segment, a, b } = settledPair();
    assert.deepEqual([state(a), state(b)], ['master', 'backup']);
    // The master's own advert, as the backup last heard it: replayed below.
    let replay: Buffer | undefined;
    segment.tamper = (bytes) => {
      replay = Buffer.from(bytes);
      return bytes;
    };
    clock.advance(1000);
    segment.tamper = (bytes) => bytes;
    assert.ok(replay !== undefined);

    const rng = new SeededRng(20);
    const perKind = Math.floor(total / (kinds.length + 1));
    const inject = (name: string, d: ReceivedDatagram) => (segment.receivers.get(`${name}/4`) as (d: ReceivedDatagram) => void)(d);
    for (const [target, name] of [[a, 'a'], [b, 'b']] as const) {
      for (const kind of kinds) {
        const before = { ...target.wire.status()[0]?.stats } as WireStats;
        const socketBefore = { ...target.wire.socketStatus()[0]?.drops };
        const n = Math.floor(perKind / 2);
        for (let i = 0; i < n; i++) inject(name, { family: 4, bytes: kind.make(rng) });
        const after = target.wire.status()[0]?.stats as WireStats;
        const socketAfter = target.wire.socketStatus()[0]?.drops ?? {};
        const counted = kind.counted;
        if (counted === 'some check') {
          // Garbage: whatever check it fails, it fails one, and none is heard.
          const socketDelta = Object.values(socketAfter).reduce((s, v) => s + (v ?? 0), 0) - Object.values(socketBefore).reduce((s, v) => s + (v ?? 0), 0);
          assert.equal(sumDrops(after) - sumDrops(before) + socketDelta, n, `${kind.name} at ${name}: every one counted`);
        } else if (counted === 'socket:packet_len_err' || counted === 'socket:vrid_err') {
          const reason = counted.slice('socket:'.length) as DropReason;
          assert.equal((socketAfter[reason] ?? 0) - (socketBefore[reason] ?? 0), n, `${kind.name} at ${name}`);
        } else {
          assert.equal(after[counted] - before[counted], n, `${kind.name} at ${name}: counted as ${counted}`);
        }
        assert.equal(after.advert_rcvd, before.advert_rcvd, `${kind.name} at ${name}: none heard`);
        assert.deepEqual([state(a), state(b)], ['master', 'backup'], `${kind.name} at ${name}: nothing moved`);
      }
    }
    const replays = total - 2 * kinds.length * Math.floor(perKind / 2);
    const heardBefore = b.wire.status()[0]?.stats.advert_rcvd ?? 0;
    for (let i = 0; i < replays; i++) inject('b', { family: 4, bytes: Buffer.from(replay) });
    assert.equal((b.wire.status()[0]?.stats.advert_rcvd ?? 0) - heardBefore, replays, 'replays are heard as the master\'s adverts');
    assert.deepEqual([state(a), state(b)], ['master', 'backup']);
    // And the pair still works: the master's crash is still taken over.
    segment.cut.add('a');
    clock.advance(10_000);
    assert.equal(state(b), 'master');
  });
});
