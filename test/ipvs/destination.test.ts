import assert from 'node:assert/strict';
import { Destination } from '../../src/ipvs/destination';
import { ip, settings } from './service-fixture';

describe('destination counters and the overload rule', () => {
  it('is overloaded once active plus inactive connections reach the upper threshold', () => {
    const d = new Destination(ip('10.0.0.1'), 80, settings({ upper: 3 }));
    d.bindConnection('active');
    d.bindConnection('inactive');
    assert.equal(d.overloaded, false);
    d.bindConnection('template');
    assert.equal(d.overloaded, false, 'persistence templates do not count');
    d.bindConnection('active');
    assert.equal(d.overloaded, true);
  });

  it('without a lower threshold, clears the overload below three quarters of the upper', () => {
    const d = new Destination(ip('10.0.0.1'), 80, settings({ upper: 4 }));
    for (let i = 0; i < 4; i++) d.bindConnection('active');
    assert.equal(d.overloaded, true);
    d.unbindConnection('active');
    assert.equal(d.overloaded, true, '3 × 4 = 12 is not below 4 × 3 = 12');
    d.unbindConnection('active');
    assert.equal(d.overloaded, false);
  });

  it('with a lower threshold, clears the overload below it', () => {
    const d = new Destination(ip('10.0.0.1'), 80, settings({ upper: 10, lower: 2 }));
    for (let i = 0; i < 10; i++) d.bindConnection('inactive');
    for (let i = 0; i < 7; i++) d.unbindConnection('inactive');
    assert.equal(d.overloaded, true, '3 left, not below 2');
    d.unbindConnection('inactive');
    d.unbindConnection('inactive');
    assert.equal(d.overloaded, false);
  });

  it('an edit that raises or removes the upper threshold lifts the overload at once', () => {
    const d = new Destination(ip('10.0.0.1'), 80, settings({ upper: 1 }));
    d.bindConnection('active');
    assert.equal(d.overloaded, true);
    d.update(settings({ upper: 1 }));
    assert.equal(d.overloaded, true, 'the same threshold keeps it');
    d.update(settings({ upper: 5 }));
    assert.equal(d.overloaded, false);
  });

  it('keeps the last non-zero weight when quiesced, and weighs active connections as 256 inactive', () => {
    const d = new Destination(ip('10.0.0.1'), 80, settings({ weight: 7 }));
    d.update(settings({ weight: 0 }));
    assert.deepEqual([d.weight, d.lastWeight], [0, 7]);
    d.activeConns = 2;
    d.inactConns = 3;
    assert.equal(d.connOverhead(), 515);
  });

  it('moves a connection between active and inactive on a state change', () => {
    const d = new Destination(ip('10.0.0.1'), 80, settings());
    d.bindConnection('active');
    d.moveConnection('active', 'inactive');
    assert.deepEqual([d.activeConns, d.inactConns], [0, 1]);
  });
});
