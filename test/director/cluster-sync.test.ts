import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { VirtualClock } from '../../src/common/clock';
import { createLogger } from '../../src/common/log';
import { SeededRng } from '../../src/common/rng';
import { adoptSliceEntries, ClusterSync } from '../../src/director/cluster-sync';
import { ip } from '../ipvs/service-fixture';
import { IpvsEngine } from '../../src/ipvs/engine';
import { noSchedulerFlags } from '../../src/ipvs/schedulers/scheduler';
import type { SyncBody } from '../../src/sync/wire';

const VIP = '192.0.2.10';
const OTHER_VIP = '192.0.2.20';

function director(name: string, peer: string, clock: VirtualClock, lines: string[], preemptWaitMs = 5000) {
  const engine = new IpvsEngine({ clock, rng: new SeededRng(1) });
  for (const vip of [VIP, OTHER_VIP]) {
    const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip(vip), port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false, persistenceS: 300 });
    for (const rs of ['10.0.0.1', '10.0.0.2']) engine.addDestination(svc, ip(rs), 8080, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
  }
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
  const sync = new ClusterSync(engine, name, [peer], clock, createLogger({ level: 'info', format: 'text', stream }), {}, preemptWaitMs);
  return { engine, sync };
}

/** Two directors whose sync messages go through a queue the test delivers. */
function pair(preemptWaitMs?: number) {
  const clock = new VirtualClock();
  const lines: string[] = [];
  const d1 = director('d1', 'd2', clock, lines, preemptWaitMs);
  const d2 = director('d2', 'd1', clock, lines, preemptWaitMs);
  const queue: Array<{ to: typeof d1; from: string; body: SyncBody }> = [];
  let linkUp = true;
  d1.sync.start({ sendSync: (body) => linkUp && queue.push({ to: d2, from: 'd1', body }) });
  d2.sync.start({ sendSync: (body) => linkUp && queue.push({ to: d1, from: 'd2', body }) });
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10);
      for (let n = 0; queue.length > 0 && n < 10_000; n++) {
        const m = queue.shift() as (typeof queue)[number];
        m.to.sync.receive(m.from, m.body);
      }
    }
  };
  return { clock, lines, d1, d2, run, cut: () => (linkUp = false) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('connection sync on a director', () => {
  it('says in its acks how many batches its socket holds: about 12 with the usual net.core.rmem_max', () => {
    const clock = new VirtualClock();
    const { sync } = director('d1', 'd2', clock, []);
    const acks: number[] = [];
    // What the kernel grants for a 4 MiB request under the default rmem_max of 212,992 (doubled).
    sync.start({ sendSync: (body) => body.message.kind === 'ack' && acks.push(body.message.windowBatches), syncReceiveBufferBytes: () => 425_984 });
    sync.receive('d2', { to: 'd1', message: { kind: 'page', epoch: 9, page: { atSeq: 0, index: 0, pages: 1, entries: [], servedSeq: 0 } } });
    clock.advance(300);
    sync.stop();
    assert.ok(acks.length > 0);
    assert.deepEqual(new Set(acks), new Set([12]));
  });

  it('a director that would preempt waits for a whole copy of the holder\'s table, then may', async () => {
    const { d1, d2, lines, run } = pair();
    for (let n = 1; n <= 3; n++) d2.engine.connect({ protocol: 'tcp', caddr: ip(`203.0.113.${n}`), cport: 40000, vaddr: ip(VIP), vport: 80 });
    assert.match(d1.sync.preemptHold('VI_1', 'd2') ?? '', /waiting for a whole copy of d2's connection table: not begun/);
    run(1000);
    assert.equal(d1.sync.preemptHold('VI_1', 'd2'), undefined);
    await settle();
    assert.ok(lines.some((l) => /VI_1: waits for a whole copy of d2's connection table before preempting it/.test(l)));
    assert.ok(lines.some((l) => /VI_1: the copy of d2's connection table is whole \(6 entries\): may preempt/.test(l)), lines.join('\n'));
  });

  it('preempts anyway after preempt_wait when the copy cannot be had, and says with what', async () => {
    const { d1, lines, run, cut } = pair(5000);
    cut();
    assert.notEqual(d1.sync.preemptHold('VI_1', 'd2'), undefined);
    run(4990);
    assert.notEqual(d1.sync.preemptHold('VI_1', 'd2'), undefined);
    run(20);
    assert.equal(d1.sync.preemptHold('VI_1', 'd2'), undefined);
    assert.equal(d1.sync.preemptHold('VI_1', 'd2'), undefined);
    await settle();
    assert.equal(lines.filter((l) => /warn.*VI_1: preempting d2 after 5000 ms without a whole copy of its connection table: not begun/.test(l)).length, 1, lines.join('\n'));
  });

  it('a takeover loads the copies\' entries for the instance\'s addresses only, with the time they have left', () => {
    const { d1, d2, run } = pair();
    d2.engine.connect({ protocol: 'tcp', caddr: ip('203.0.113.1'), cport: 40000, vaddr: ip(VIP), vport: 80 });
    d2.engine.connect({ protocol: 'tcp', caddr: ip('203.0.113.2'), cport: 40000, vaddr: ip(OTHER_VIP), vport: 80 });
    run(1000);
    d1.sync.takeOver('VI_1', [VIP]);
    const template = d1.engine.conns.lookup('tcp', ip('203.0.113.1'), 0, VIP, 80);
    assert.equal(template?.template, true);
    assert.equal(template?.dest.address.text, d2.engine.conns.lookup('tcp', ip('203.0.113.1'), 0, VIP, 80)?.dest.address.text);
    assert.ok((template?.expiresAtMs ?? 0) - 1000 > 298_000 && (template?.expiresAtMs ?? 0) <= 301_000, 'about 299 s of 300 left');
    assert.equal(d1.engine.conns.lookup('tcp', ip('203.0.113.2'), 0, OTHER_VIP, 80), undefined, 'another instance\'s address');
  });

  it('a large table is loaded a slice per turn, and a packet meanwhile finds its entry in the copies', async () => {
    const { d1, d2, run, clock, lines } = pair();
    const client = (n: number) => ip(`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
    for (let n = 0; n < 25_000; n++) d2.engine.connect({ protocol: 'tcp', caddr: client(n), cport: 40000, vaddr: ip(VIP), vport: 80 });
    run(1500);
    assert.equal(d1.sync.status().copies[0]?.entries, 50_000, 'templates and connections');
    d1.sync.takeOver('VI_1', [VIP]);
    assert.equal(d1.engine.conns.size, adoptSliceEntries, 'one slice before the addresses come up');
    const notYet = Array.from({ length: 25_000 }, (_, n) => n).find((n) => d1.engine.conns.lookup('tcp', client(n), 0, VIP, 80) === undefined) as number;
    const late = d1.engine.connect({ protocol: 'tcp', caddr: client(notYet), cport: 40001, vaddr: ip(VIP), vport: 80 });
    assert.ok(late.ok);
    assert.equal(d1.engine.conns.size, adoptSliceEntries + 2, 'its template adopted on the spot, and its new connection');
    assert.equal(late.conn.dest.address.text, d2.engine.conns.lookup('tcp', client(notYet), 0, VIP, 80)?.dest.address.text, 'on the server of its template');
    for (let turn = 0; turn < 100 && d1.engine.pendingAdoption !== undefined; turn++) clock.advance(1);
    assert.equal(d1.engine.pendingAdoption, undefined, 'all loaded');
    assert.equal(d1.engine.conns.size, 50_001);
    await settle();
    assert.ok(lines.some((l) => /VI_1: loaded 49999 connection entries from the copies \(d2 in sync\) in 0 ms; not loaded: 1 present/.test(l)), lines.filter((l) => /loaded/.test(l)).join('\n'));
  });
});
