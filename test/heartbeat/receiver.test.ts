import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SeededRng } from '../../src/common/rng';
import { encodeEnvelope, protocolVersion, tagBytes, type Envelope } from '../../src/heartbeat/envelope';
import { Receiver, replayWindow } from '../../src/heartbeat/receiver';

const key = Buffer.from('0123456789abcdef0123456789abcdef');
const nodes = new Set(['d1', 'd2', 'w1']);

function envelope(over: Partial<Envelope> = {}): Envelope {
  return {
    version: protocolVersion,
    clusterId: 'lab',
    sender: 'd2',
    bootEpoch: 1_764_000_000_000,
    sequence: 1,
    sentWallUs: 1_764_000_000_000_000,
    heartbeat: { link: 'ring0', to: 'd1', echoOriginWallUs: 0, echoReceiveWallUs: 0, hears: ['d1', 'w1'], viewId: 3, uptimeMs: 1234, heard: [], holds: [], wants: [], fences: [], left: [] },
    ...over,
  };
}

const receiver = () => new Receiver('lab', key, nodes, 'd1');

describe('cluster datagrams: the receive gate', () => {
  it('round-trips an authenticated envelope, uint64 fields included', () => {
    const e = envelope({ sequence: 2 ** 40 });
    assert.deepEqual(receiver().accept(encodeEnvelope(e, key)), e);
  });

  it('carries fence marks, a fenced one with how long ago the fence completed', () => {
    const fences = [{ node: 'w1', epoch: 7, state: 'fencing' as const }, { node: 'd1', epoch: 2 ** 40, state: 'fenced' as const, agoMs: 1500 }];
    const e = envelope({ heartbeat: { ...(envelope().heartbeat as NonNullable<Envelope['heartbeat']>), fences } });
    assert.deepEqual(receiver().accept(encodeEnvelope(e, key)), e);
  });

  it('drops and counts by reason: bad tag, foreign cluster, unknown node, itself, other version', () => {
    const r = receiver();
    const other = Buffer.from('another key of thirty-two bytes!');
    assert.equal(r.accept(encodeEnvelope(envelope(), other)), 'bad-tag');
    assert.equal(r.accept(encodeEnvelope(envelope({ clusterId: 'prod' }), key)), 'foreign-cluster');
    assert.equal(r.accept(encodeEnvelope(envelope({ sender: 'mallory' }), key)), 'unknown-node');
    assert.equal(r.accept(encodeEnvelope(envelope({ sender: 'd1' }), key)), 'from-self');
    assert.equal(r.accept(encodeEnvelope(envelope({ version: 9 }), key)), 'version');
    assert.deepEqual(
      Object.fromEntries([...r.dropped].filter(([, n]) => n > 0)),
      { 'bad-tag': 1, 'foreign-cluster': 1, 'unknown-node': 1, 'from-self': 1, version: 1 },
    );
    assert.equal(r.accepted, 0);
  });

  it('drops a replay, takes reordering within the window, and an old epoch never', () => {
    const r = receiver();
    const at = (sequence: number, bootEpoch = 1_764_000_000_000) => r.accept(encodeEnvelope(envelope({ sequence, bootEpoch }), key));
    assert.equal(typeof at(10), 'object');
    assert.equal(at(10), 'replay');
    assert.equal(typeof at(8), 'object', 'a late datagram on another link');
    assert.equal(at(8), 'replay');
    assert.equal(typeof at(10 + replayWindow), 'object');
    assert.equal(at(10), 'replay', 'fell out of the window');
    assert.equal(typeof at(1, 1_764_000_000_001), 'object', 'a restart begins a new epoch');
    assert.equal(at(500), 'old-epoch');
  });

  it('takes an older epoch only when the envelope proves it was sent now', () => {
    const r = new Receiver('lab', key, nodes, 'd1');
    const at = (sequence: number, bootEpoch: number, echo = 0) =>
      r.accept(encodeEnvelope(envelope({ sequence, bootEpoch, heartbeat: { link: 'ring0', to: 'd1', echoOriginWallUs: echo, echoReceiveWallUs: echo, hears: [], viewId: 1, uptimeMs: 1, heard: [], holds: [], wants: [], fences: [], left: [] } }), key), new Map([['d2', [777]]]));
    assert.equal(typeof at(5, 2000), 'object');
    assert.equal(at(1, 1000), 'old-epoch', 'a restart with the clock stepped back, not yet proven');
    assert.equal(typeof at(2, 1000, 777), 'object', 'it echoes what we just sent: fresh');
    assert.equal(at(6, 2000), 'old-epoch', 'a recording of the run before the restart is refused');
    assert.equal(typeof at(1, 3000), 'object', 'a later restart with a clock past every epoch seen');
  });

  it('checks the tag before anything else: a tampered byte is bad-tag, a cut datagram short or bad-tag', () => {
    const r = receiver();
    const good = encodeEnvelope(envelope(), key);
    const tampered = Buffer.from(good);
    tampered[5] = (tampered[5] as number) ^ 0x40;
    assert.equal(r.accept(tampered), 'bad-tag');
    assert.equal(r.accept(good.subarray(0, tagBytes)), 'short');
    assert.equal(r.accept(good.subarray(0, good.length - 1)), 'bad-tag');
    assert.equal(r.accept(Buffer.alloc(70_000)), 'oversize');
  });

  it('rejects an authentic envelope whose fields are out of bounds as malformed', () => {
    const r = receiver();
    assert.equal(r.accept(encodeEnvelope(envelope({ sender: 'x'.repeat(65) }), key)), 'malformed');
    assert.equal(r.accept(encodeEnvelope(envelope({ heartbeat: { link: 'ring0', to: 'd1', echoOriginWallUs: 0, echoReceiveWallUs: 0, hears: Array.from({ length: 65 }, () => 'd1'), viewId: 1, uptimeMs: 1, heard: [], holds: [], wants: [], fences: [], left: [] } }), key)), 'malformed');
    // Authentic garbage: a valid tag over bytes that are not an Envelope.
    const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert.equal(r.accept(Buffer.concat([junk, crypto.createHmac('sha256', key).update(junk).digest()])), 'malformed');
  });

  it('with auth none, takes untagged envelopes', () => {
    const r = new Receiver('lab', null, nodes, 'd1');
    assert.equal(typeof r.accept(encodeEnvelope(envelope(), null)), 'object');
  });

  it('survives 100,000 forged, replayed, truncated, mutated and random datagrams, counting each', () => {
    const r = receiver();
    const rng = new SeededRng(6);
    const genuine = Array.from({ length: 50 }, (_, i) => encodeEnvelope(envelope({ sequence: i + 1 }), key));
    for (const g of genuine.slice(0, 25)) r.accept(g);
    const noTagKey = Buffer.from('x'.repeat(32));
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      const kind = rng.below(5);
      let datagram: Buffer;
      if (kind === 0) datagram = Buffer.from(Array.from({ length: rng.below(200) }, () => rng.below(256)));
      else if (kind === 1) datagram = genuine[rng.below(25)] as Buffer; // replays
      else if (kind === 2) datagram = (genuine[rng.below(50)] as Buffer).subarray(0, rng.below(80));
      else if (kind === 3) {
        datagram = Buffer.from(genuine[rng.below(50)] as Buffer);
        datagram[rng.below(datagram.length)] = rng.below(256);
      } else datagram = encodeEnvelope(envelope({ sequence: 1000 + i, sender: ['d2', 'w1', 'zz'][rng.below(3)] as string }), noTagKey);
      const verdict = r.accept(datagram);
      if (typeof verdict !== 'string') accepted++;
    }
    const drops = [...r.dropped.values()].reduce((a, b) => a + b, 0);
    assert.equal(drops + r.accepted, 100_025);
    // Only genuine, unseen envelopes get through: the 25 never sent before, at most once each
    // (a mutation can only pass by leaving the bytes as they were).
    assert.ok(accepted <= 25, `${accepted} accepted`);
    assert.ok((r.dropped.get('replay') ?? 0) > 10_000);
    assert.ok((r.dropped.get('bad-tag') ?? 0) > 40_000);
  });
});
