import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { localityExpirationDefaultMs, type LocalityLeastConnectionScheduler } from '../../src/ipvs/schedulers/locality';
import { dest, packet, serviceWith, settings } from './service-fixture';

const C1 = '192.168.10.1';
const C2 = '192.168.10.2';
const toSite = (site: string): ReturnType<typeof packet> => packet('10.0.0.9', 40000, site);

describe('lblc and lblcr schedulers', () => {
  it('lblc keeps sending one destination address to the cache server first chosen by wlc', () => {
    const svc = serviceWith('lblc', [C1, C2]);
    const first = svc.schedule(toSite('203.0.113.5'));
    assert.equal(first?.address.text, C2, 'wlc over an idle list picks the first (newest)');
    first?.bindConnection('active');
    first?.bindConnection('active');
    // C2 has 2 active connections, above its weight 1, while idle C1 is under half of its own.
    assert.equal(svc.schedule(toSite('203.0.113.5'))?.address.text, C1, 'overloaded against an idle peer: rescheduled');
    assert.equal(svc.schedule(toSite('203.0.113.6'))?.address.text, C1, 'a new site goes to the least loaded');
  });

  it('lblc stays with a busy cache server while no other is under half its weight', () => {
    const svc = serviceWith('lblc', [{ addr: C1, weight: 2 }, { addr: C2, weight: 2 }]);
    const first = svc.schedule(toSite('203.0.113.5'));
    for (const d of svc.destinations) {
      d.bindConnection('active');
      d.bindConnection('active');
    }
    first?.bindConnection('active');
    assert.equal(svc.schedule(toSite('203.0.113.5')), first);
  });

  it('lblc moves a site off a quiesced or deleted server', () => {
    const svc = serviceWith('lblc', [C1, C2]);
    assert.equal(svc.schedule(toSite('203.0.113.5'))?.address.text, C2);
    svc.editDestination(dest(svc, C2), settings({ weight: 0 }));
    assert.equal(svc.schedule(toSite('203.0.113.5'))?.address.text, C1);
    svc.removeDestination(dest(svc, C1));
    svc.editDestination(dest(svc, C2), settings({ weight: 1 }));
    assert.equal(svc.schedule(toSite('203.0.113.5'))?.address.text, C2);
  });

  it('lblc forgets a mapping unused for a day, at the full check every 30 minutes', () => {
    const clock = new VirtualClock();
    const svc = serviceWith('lblc', [C1, C2], { clock });
    svc.schedule(toSite('203.0.113.5'));
    const lblc = svc.scheduler as LocalityLeastConnectionScheduler;
    assert.equal(lblc.size, 1);
    clock.advance(localityExpirationDefaultMs - 60_000);
    svc.schedule(toSite('198.51.100.1'));
    assert.equal(lblc.size, 2, 'not yet a day');
    clock.advance(31 * 60_000);
    svc.schedule(toSite('198.51.100.1'));
    assert.equal(lblc.size, 1, 'the day-old mapping is gone after the next full check');
  });

  it('lblcr grows a set for a busy site and serves the least loaded member', () => {
    const svc = serviceWith('lblcr', [C1, C2]);
    const first = svc.schedule(toSite('203.0.113.5'));
    assert.equal(first?.address.text, C2);
    first?.bindConnection('active');
    first?.bindConnection('active');
    const second = svc.schedule(toSite('203.0.113.5'));
    assert.equal(second?.address.text, C1, 'C2 is over its weight while C1 is idle: C1 joins the set');
    second?.bindConnection('active');
    second?.bindConnection('active');
    // Both over weight, none under half: the set's least loaded member still serves.
    assert.equal(svc.schedule(toSite('203.0.113.5'))?.address.text, C1);
  });

  it('lblcr sheds the busiest member of a set unchanged for the expiration time', () => {
    const clock = new VirtualClock();
    const svc = serviceWith('lblcr', [C1, C2], { clock });
    svc.schedule(toSite('203.0.113.5'))?.bindConnection('active');
    dest(svc, C2).bindConnection('active');
    svc.schedule(toSite('203.0.113.5'));
    clock.advance(localityExpirationDefaultMs + 1);
    dest(svc, C2).bindConnection('active');
    // The set {C1, C2} sheds C2 (busier); the least loaded was computed before: C1.
    assert.equal(svc.schedule(toSite('203.0.113.5'))?.address.text, C1);
    assert.equal(svc.schedule(toSite('203.0.113.5'))?.address.text, C1);
  });
});
