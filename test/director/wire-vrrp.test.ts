// VRRP with no cluster, as keepalived runs it, on virtual time: directors on one fake
// segment whose sockets carry the very bytes the raw sockets would (IPv4 datagrams with
// their header, TTL 255; IPv6 messages with their ends and hop limit). Election by
// priority and address, takeover within Master_Down_Interval, priority 0 at the skew
// time, preempt and nopreempt, v2 with PASS, and the per-reason counters.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/timing';
import { passwordBytes, v2Auth } from '../../src/vrrp/wire/packet';
import type { OldUnicastChecksum } from '../../src/vrrp/config';
import { ip, node, Segment, settings, settledPair, state } from '../support/wire-segment';

describe('VRRP on the wire with no cluster (virtual time)', () => {
  it('elects the higher priority; takes over within Master_Down_Interval of a crash; a clean stop hands over at the skew time', () => {
    const { clock, segment, a, b } = settledPair();
    assert.deepEqual([state(a), state(b)], ['master', 'backup']);
    const crashAt = clock.nowMs();
    segment.cut.add('a');
    a.wire.close();
    clock.advance(10_000);
    const took = b.changes.find((c) => c.to === 'master')?.atMs;
    assert.ok(took !== undefined);
    assert.ok(took - crashAt <= masterDownIntervalMs(3, 1000, 100), `took over ${took - crashAt} ms after the crash`);

    // b holds; a returns with the higher priority and preempts; then stops cleanly.
    segment.cut.clear();
    const a2 = node(clock, segment, 'a', settings({ source: ip('10.9.0.1'), priority: 150 }));
    a2.wire.start();
    clock.advance(10_000);
    assert.deepEqual([state(a2), state(b)], ['master', 'backup'], 'preempt: the higher priority takes the instance back');
    const stopAt = clock.nowMs();
    a2.wire.release();
    clock.advance(5000);
    const again = b.changes.filter((c) => c.to === 'master').at(-1)?.atMs ?? Infinity;
    assert.ok(again - stopAt <= skewTimeMs(3, 1000, 100) + 1, `priority 0: took over ${again - stopAt} ms after the release`);
    assert.equal(a2.wire.status()[0]?.stats.pri_zero_sent, 1);
    assert.equal(b.wire.status()[0]?.stats.pri_zero_rcvd, 1);
  });

  it('nopreempt: a returning higher priority stays backup while the lower one holds', () => {
    const clock = new VirtualClock();
    const segment = new Segment(clock);
    const b = node(clock, segment, 'b', settings({ source: ip('10.9.0.2'), priority: 100, preempt: false }));
    b.wire.start();
    clock.advance(5000);
    const a = node(clock, segment, 'a', settings({ source: ip('10.9.0.1'), priority: 150, preempt: false }));
    a.wire.start();
    clock.advance(20_000);
    assert.deepEqual([state(a), state(b)], ['backup', 'master']);
  });

  it('two masters of equal priority (both state MASTER): the higher source address keeps it, in IPv6 too', () => {
    for (const family of [4, 6] as const) {
      const clock = new VirtualClock();
      const segment = new Segment(clock);
      const src = (n: number) => ip(family === 4 ? `10.9.0.${n}` : `fe80::${n}`);
      const over = { family, addresses: [ip(family === 4 ? '10.9.0.100' : 'fd00:9::100')], startAsMaster: true };
      const low = node(clock, segment, 'low', settings({ ...over, source: src(1) }));
      const high = node(clock, segment, 'high', settings({ ...over, source: src(2) }));
      low.wire.start();
      high.wire.start();
      clock.advance(20_000);
      assert.deepEqual([state(low), state(high)], ['backup', 'master'], `IPv${family}`);
    }
  });

  it('version 2 with PASS: the right password is heard; a wrong one is auth_failure and the backup takes over', () => {
    const clock = new VirtualClock();
    const segment = new Segment(clock);
    const v2 = (source: string, priority: number, pass: string) =>
      settings({ source: ip(source), priority, version: 2, authType: v2Auth.pass, authData: passwordBytes(pass) });
    const a = node(clock, segment, 'a', v2('10.9.0.1', 150, 'secret'));
    const b = node(clock, segment, 'b', v2('10.9.0.2', 100, 'secret'));
    const c = node(clock, segment, 'c', v2('10.9.0.3', 50, 'wrong'));
    for (const n of [a, b, c]) n.wire.start();
    clock.advance(10_000);
    assert.deepEqual([state(a), state(b), state(c)], ['master', 'backup', 'master']);
    assert.ok((c.wire.status()[0]?.stats.auth_failure ?? 0) > 0);
    assert.ok((b.wire.status()[0]?.stats.auth_failure ?? 0) > 0, 'b hears c, with the wrong password');
  });

  it('counts what it drops under keepalived\'s names, and the instance never moves for it', () => {
    const { clock, segment, a, b } = settledPair();
    const cases: Array<[string, (x: Buffer) => Buffer]> = [
      ['ip_ttl_err', (x) => withTtl(x, 64)],
      ['chk_err', (x) => flip(x, 26)],
      ['vers_err', (x) => set(x, 20, 0x41)],
      ['invalid_type_rcvd', (x) => set(x, 20, 0x32)],
      ['packet_len_err', (x) => x.subarray(0, x.length - 2)],
      ['vrid_err', (x) => set(x, 21, 77)],
    ];
    for (const [reason, tamper] of cases) {
      segment.tamper = (x) => fixTotalLength(tamper(Buffer.from(x)));
      const before = { ...b.wire.status()[0]?.stats } as Record<string, number>;
      const dropsBefore = b.wire.socketStatus()[0]?.drops.vrid_err ?? 0;
      clock.advance(10_000);
      const after = b.wire.status()[0]?.stats as Record<string, number>;
      const counted = reason === 'vrid_err' ? (b.wire.socketStatus()[0]?.drops.vrid_err ?? 0) - dropsBefore : (after[reason] ?? 0) - (before[reason] ?? 0);
      assert.ok(counted >= 9, `${reason}: ${counted} counted`);
      // With a's adverts all bad, b takes over as any keepalived would; a, which b's good adverts reach, yields nothing: it is higher.
      assert.equal(state(b), 'master', `${reason}: b no longer hears a`);
      segment.tamper = (x) => x;
      clock.advance(5000);
      assert.deepEqual([state(a), state(b)], ['master', 'backup'], `${reason}: healed`);
    }
  });

  it('v3 checksums without the pseudo-header: a pair that agrees works; one that does not counts chk_err', () => {
    for (const [aForm, bForm] of [['as-v2', 'as-v2'], ['as-v2', 'pseudo-header']] as const) {
      const clock = new VirtualClock();
      const segment = new Segment(clock);
      const a = node(clock, segment, 'a', settings({ source: ip('10.9.0.1'), priority: 150, checksum: aForm }));
      const b = node(clock, segment, 'b', settings({ source: ip('10.9.0.2'), priority: 100, checksum: bForm }));
      a.wire.start();
      b.wire.start();
      clock.advance(10_000);
      const agree = aForm === bForm;
      assert.deepEqual([state(a), state(b)], agree ? ['master', 'backup'] : ['master', 'master'], `${aForm}/${bForm}`);
      assert.equal((b.wire.status()[0]?.stats.chk_err ?? 0) > 0, !agree);
    }
  });

  describe('old_unicast_checksum (the group in the pseudo-header of a v3 unicast advert, as older keepalived sent it)', () => {
    const pair = (aMode: OldUnicastChecksum, aPriority: number, bMode: OldUnicastChecksum, bPriority: number) => {
      const clock = new VirtualClock();
      const segment = new Segment(clock);
      const a = node(clock, segment, 'a', settings({ source: ip('10.9.0.1'), priority: aPriority, unicastPeers: [ip('10.9.0.2')], oldUnicastChecksum: aMode }));
      const b = node(clock, segment, 'b', settings({ source: ip('10.9.0.2'), priority: bPriority, unicastPeers: [ip('10.9.0.1')], oldUnicastChecksum: bMode }));
      return { clock, segment, a, b };
    };
    const chkErr = (n: ReturnType<typeof pair>['a']): number => n.wire.status()[0]?.stats.chk_err ?? 0;

    it("a default instance hears the old form, switches to it, and is then heard by a peer that sends only it", () => {
      const { clock, segment, a, b } = pair('always', 150, 'on-hearing', 100);
      a.wire.start();
      clock.advance(5000);
      b.wire.start();
      clock.advance(10_000);
      assert.deepEqual([state(a), state(b), chkErr(b)], ['master', 'backup', 0]);
      // a dies: b takes over, its adverts now in the old form; a back at 150 hears them and preempts.
      segment.cut.add('a');
      clock.advance(5000);
      assert.equal(state(b), 'master');
      a.wire.close();
      const a2 = node(clock, segment, 'a2', settings({ source: ip('10.9.0.1'), priority: 150, unicastPeers: [ip('10.9.0.2')], oldUnicastChecksum: 'always' }));
      a2.wire.start();
      clock.advance(10_000);
      assert.deepEqual([state(a2), state(b), chkErr(a2), chkErr(b)], ['master', 'backup', 0, 0]);
    });

    it("a master in the new form and a backup that wants the old one: both masters until the backup's adverts teach the master, as between two keepalived", () => {
      const { clock, a, b } = pair('always', 100, 'on-hearing', 150);
      b.wire.start();
      clock.advance(5000);
      a.wire.start();
      clock.advance(20_000);
      assert.deepEqual([state(a), state(b), chkErr(b)], ['backup', 'master', 0]);
      assert.ok(chkErr(a) > 0, 'a counted b\'s new-form adverts until b switched');
    });

    it('never: the old form is never taken up, and each side goes on counting the other bad', () => {
      const { clock, a, b } = pair('always', 150, 'never', 100);
      a.wire.start();
      b.wire.start();
      clock.advance(20_000);
      assert.deepEqual([state(a), state(b)], ['master', 'master']);
      assert.ok(chkErr(b) > 0);
    });
  });
});

function set(x: Buffer, at: number, value: number): Buffer {
  x[at] = value;
  return x;
}

function flip(x: Buffer, at: number): Buffer {
  x[at] = (x[at] as number) ^ 0xff;
  return x;
}

function withTtl(x: Buffer, ttl: number): Buffer {
  x[8] = ttl;
  return x;
}

function fixTotalLength(x: Buffer): Buffer {
  if (x.length < 20) return x;
  x.writeUInt16BE(x.length, 2);
  return x;
}
