import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { IpvsEngine } from '../../src/ipvs/engine';
import { noSchedulerFlags } from '../../src/ipvs/schedulers/scheduler';
import { ip, settings } from './service-fixture';

describe('rate estimator', () => {
  function setup() {
    const clock = new VirtualClock();
    const engine = new IpvsEngine({ clock, rng: new SeededRng(1) });
    const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip('10.0.0.1'), port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    const dest = engine.addDestination(svc, ip('10.0.0.2'), 80, { ...settings(), forward: 'masq' });
    return { clock, engine, svc, dest };
  }

  it('smooths a steady 100 connections per second as the kernel does: 25, 44, 58, ... towards 100', () => {
    const { clock, engine, svc } = setup();
    const seen: number[] = [];
    for (let step = 0; step < 30; step++) {
      svc.stats.conns += 200;
      clock.advance(2000);
      engine.tick();
      seen.push(svc.stats.rate.cps);
    }
    assert.deepEqual(seen.slice(0, 4), [25, 44, 58, 68]);
    assert.equal(seen[seen.length - 1], 100);
  });

  it('reads bytes at 1/32 resolution and packets at 1/1024', () => {
    const { clock, engine, dest } = setup();
    dest.stats.inBytes += 2000;
    dest.stats.outPkts += 10;
    clock.advance(2000);
    engine.tick();
    assert.deepEqual([dest.stats.rate.inBps, dest.stats.rate.outPps], [250, 1]);
  });

  it('falls back towards zero when traffic stops, and -Z clears rates at once', () => {
    const { clock, engine, svc } = setup();
    svc.stats.conns += 2000;
    clock.advance(2000);
    engine.tick();
    assert.equal(svc.stats.rate.cps, 250);
    clock.advance(2000);
    engine.tick();
    assert.equal(svc.stats.rate.cps, 187, "(256000 − 64000 + 511) / 1024");
    engine.zero();
    assert.deepEqual({ ...svc.stats.rate }, { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
    assert.equal(svc.stats.conns, 0);
  });

  it('runs once per elapsed 2-second period, however late the tick', () => {
    const { clock, engine, svc } = setup();
    svc.stats.conns += 200;
    clock.advance(6000);
    engine.tick();
    // Three periods: the first saw 200 new connections, the next two none.
    assert.equal(svc.stats.rate.cps, 14);
  });
});
