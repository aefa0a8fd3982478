// The kernel plane's schedule maps: rr and wrr as the engine's sequence, the counting
// schedulers by weight without counts, and with counts as the engine's own picks, in order,
// for the next round of new connections.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import type { Destination } from '../../src/ipvs/destination';
import { followsLoad, scheduleMap, type ScheduleMap } from '../../src/ipvs/dataplane/nftables/schedule-map';
import { IpvsEngine } from '../../src/ipvs/engine';
import { noSchedulerFlags, type SchedulerName } from '../../src/ipvs/schedulers/scheduler';
import type { VirtualService } from '../../src/ipvs/service';

const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;

function service(scheduler: SchedulerName, weights: readonly number[]): { svc: VirtualService; rs: Destination[] } {
  const engine = new IpvsEngine({ clock: new VirtualClock(), rng: new SeededRng(1) });
  const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip('192.0.2.10'), port: 80 }, { scheduler, flags: noSchedulerFlags, onePacket: false });
  const rs = weights.map((weight, i) => engine.addDestination(svc, ip(`192.0.2.${21 + i}`), 80, { forward: 'masq', weight, upperThreshold: 0, lowerThreshold: 0 }));
  return { svc, rs };
}

/** Each server's share of the map, by its index in `rs`. */
function shares(map: ScheduleMap | undefined, rs: readonly Destination[]): number[] {
  assert.ok(map !== undefined);
  return rs.map((d) => map.slots.filter((s) => s.dest === d).reduce((n, s) => n + s.to - s.from + 1, 0));
}

describe('kernel plane schedule maps', () => {
  it('rr and wrr: the engine\'s sequence, drawn in order', () => {
    const { svc, rs } = service('wrr', [3, 2, 1]);
    const map = scheduleMap(svc);
    assert.equal(map?.draw.kind, 'sequence');
    assert.equal(map?.exact, true);
    assert.deepEqual(shares(map, rs), [3, 2, 1]);
  });

  it('a counting scheduler without counts: shares by weight', () => {
    const { svc, rs } = service('wlc', [2, 1, 1]);
    assert.ok(followsLoad(svc));
    assert.deepEqual(shares(scheduleMap(svc), rs), [2, 1, 1]);
  });

  it('wlc with counts: the next round goes where the engine would send it, the loaded server none', () => {
    const { svc, rs } = service('wlc', [1, 1, 1]);
    (rs[0] as Destination).activeConns = 60;
    const map = scheduleMap(svc, 16);
    assert.deepEqual(shares(map, rs), [0, 8, 8]);
    assert.equal((rs[0] as Destination).activeConns, 60, 'the counts are left as they were');
    assert.deepEqual([(rs[1] as Destination).activeConns, (rs[2] as Destination).activeConns], [0, 0]);
    // Once the others have caught up, all three share alike.
    (rs[1] as Destination).activeConns = 60;
    (rs[2] as Destination).activeConns = 60;
    assert.deepEqual(shares(scheduleMap(svc, 12), rs), [4, 4, 4]);
  });

  it('wlc with counts: drawn in order, so each new connection goes where the engine\'s next pick would', () => {
    const { svc, rs } = service('wlc', [1, 1, 1]);
    (rs[0] as Destination).activeConns = 60;
    (rs[2] as Destination).activeConns = 2;
    const map = scheduleMap(svc, 6);
    assert.equal(map?.draw.kind, 'sequence');
    // rs2 catches up with rs3 first; then, tied, the first in IPVS's list (the newest, rs3) goes first.
    const order = Array.from({ length: 6 }, (_, n) => rs.indexOf(map?.slots.find((s) => s.from <= n && n <= s.to)?.dest as Destination));
    assert.deepEqual(order, [1, 1, 2, 1, 2, 1]);
  });

  it('ovf: the highest weight until its connections pass its weight, then the next', () => {
    const { svc, rs } = service('ovf', [1, 10, 5]);
    (rs[1] as Destination).activeConns = 7;
    assert.deepEqual(shares(scheduleMap(svc, 8), rs), [0, 4, 4]);
  });

  it('lc counts every server alike; sed and nq weigh them', () => {
    const lc = service('lc', [1, 4]);
    (lc.rs[1] as Destination).activeConns = 4;
    assert.deepEqual(shares(scheduleMap(lc.svc, 4), lc.rs), [4, 0]);
    const sed = service('sed', [1, 4]);
    (sed.rs[1] as Destination).activeConns = 4;
    assert.deepEqual(shares(scheduleMap(sed.svc, 5), sed.rs), [1, 4]);
  });

  it('a scheduler that does not count (rr) ignores the picks', () => {
    const { svc } = service('rr', [1, 1]);
    assert.ok(!followsLoad(svc));
    assert.equal(scheduleMap(svc, 16)?.draw.kind, 'sequence');
  });
});
