// The VRRP receiver is untrusted input: 100,000 hostile packets (test/support/hostile-vrrp.ts)
// at a running pair (master and backup, VRRP v3 on a fake segment), each kind counted
// under its own reason, none crashing anything, none moving either instance. Replays of
// the master's own adverts are accepted, as in keepalived (VRRP has no replay
// protection), and change nothing either. test/director/vrrp-flood.integration.test.ts
// sends the same kinds on a real wire to running directors.
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/common/rng';
import { vrrpMulticast4 } from '../../src/vrrp/wire/packet';
import { dropReasons, type DropReason, type ReceivedDatagram } from '../../src/vrrp/wire/receive';
import { hostileKinds } from '../support/hostile-vrrp';
import type { WireStats } from '../../src/director/wire-carrier';
import { ip, settledPair, state } from '../support/wire-segment';

const total = 100_000;
const group = ip(vrrpMulticast4);
const stranger = ip('10.9.0.66');

const kinds = hostileKinds({ stranger, group, me: ip('10.9.0.2'), vrid: 51, vip: ip('10.9.0.100') });

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
