import assert from 'node:assert/strict';
import { trackedPriority, type TrackBinding, type TrackReading } from '../../src/track/weights';

const b = (kind: TrackBinding['kind'], name: string, weight: number, reverse = false): TrackBinding => ({ kind, name, weight, reverse });

function outcome(base: number, bindings: TrackBinding[], readings: Record<string, TrackReading>) {
  return trackedPriority(base, bindings, (x) => readings[x.name]);
}

describe('tracked priority (keepalived weight semantics)', () => {
  it('without a weight a failure is a FAULT, and success changes nothing', () => {
    assert.deepEqual(outcome(100, [b('script', 's', 0)], { s: { up: true } }), { priority: 100, faults: [] });
    assert.deepEqual(outcome(100, [b('interface', 'eth1', 0)], { eth1: { up: false } }), { priority: 100, faults: ['track_interface eth1 is down'] });
  });

  it('a positive weight is added while up; a negative one subtracted while down', () => {
    assert.equal(outcome(100, [b('script', 's', 20)], { s: { up: true } }).priority, 120);
    assert.equal(outcome(100, [b('script', 's', 20)], { s: { up: false } }).priority, 100);
    assert.equal(outcome(100, [b('script', 's', -30)], { s: { up: false } }).priority, 70);
    assert.equal(outcome(100, [b('script', 's', -30)], { s: { up: true } }).priority, 100);
  });

  it('reverse turns the adjustment round, on the same condition', () => {
    assert.equal(outcome(100, [b('script', 's', 20, true)], { s: { up: true } }).priority, 80);
    assert.equal(outcome(100, [b('script', 's', -30, true)], { s: { up: false } }).priority, 130);
  });

  it('a file adds its value times the weight; weight 0 makes any value but 0 a FAULT; -254 or less is a FAULT', () => {
    assert.equal(outcome(100, [b('file', 'f', 1)], { f: { value: -60 } }).priority, 40);
    assert.equal(outcome(100, [b('file', 'f', 5, true)], { f: { value: 4 } }).priority, 80);
    assert.deepEqual(outcome(100, [b('file', 'f', 0)], { f: { value: 0 } }).faults, []);
    assert.deepEqual(outcome(100, [b('file', 'f', 0)], { f: { value: 3 } }).faults, ['track_file f reads 3']);
    assert.equal(outcome(100, [b('file', 'f', 2)], { f: { value: -127 } }).faults.length, 1);
    assert.equal(outcome(100, [b('file', 'f', 2)], { f: { value: -126 } }).faults.length, 0);
  });

  it('stays within 1..254, and the owner (255) never moves', () => {
    assert.equal(outcome(200, [b('script', 'a', 100), b('script', 'c', 100)], { a: { up: true }, c: { up: true } }).priority, 254);
    assert.equal(outcome(10, [b('script', 'a', -100)], { a: { up: false } }).priority, 1);
    assert.deepEqual(outcome(255, [b('script', 'a', -100), b('interface', 'eth0', 0)], { a: { up: false }, eth0: { up: false } }), { priority: 255, faults: ['track_interface eth0 is down'] });
  });

  it('sums several trackers, and ignores one not yet read', () => {
    assert.equal(outcome(100, [b('script', 'a', 10), b('process', 'p', -25), b('file', 'f', 1), b('script', 'new', -50)], { a: { up: true }, p: { up: false }, f: { value: 3 } }).priority, 88);
  });

  it("another source's weight (host health) counts inside the same clamp, its FAULT reasons after the trackers'; the owner's 255 never moves", () => {
    const host = { weight: -60, faults: ['host red: memory red 95'] };
    assert.deepEqual(trackedPriority(100, [b('script', 'a', 20)], () => ({ up: true }), { weight: -60, faults: [] }), { priority: 60, faults: [] });
    assert.equal(trackedPriority(50, [], () => undefined, { weight: -200, faults: [] }).priority, 1);
    assert.deepEqual(trackedPriority(100, [b('script', 'a', 0)], () => ({ up: false }), host), { priority: 40, faults: ['track_script a is down', 'host red: memory red 95'] });
    assert.deepEqual(trackedPriority(255, [], () => undefined, host), { priority: 255, faults: ['host red: memory red 95'] });
  });
});
