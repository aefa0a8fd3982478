// Connection-table sync rides on one link; when a peer is no longer heard on it but is
// on another, sync to that peer moves there, and comes back when the link does.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import type { ControlPlane } from '../../src/director/control-plane';
import { newSync } from '../../src/sync/config';
import { decodeEnvelope } from '../../src/heartbeat/envelope';
import type { SyncBody } from '../../src/sync/wire';
import { defaultSimNodes, defaultSimTiming } from '../sim/cluster-sim';
import { NodeClock, VirtualNetwork } from '../sim/network';
import { simClusterConfig, simKey, simPlane } from '../sim/sim-plane';

const isSync = (d: Buffer): boolean => {
  const e = decodeEnvelope(d, simKey);
  return typeof e !== 'string' && e.sync !== undefined;
};

describe('the sync link', () => {
  it('moves to another link while a peer is not heard on it, and back when it is', () => {
    const clock = new VirtualClock();
    const rng = new SeededRng(5);
    const net = new VirtualNetwork(clock, rng);
    const planes = new Map<string, ControlPlane>();
    const syncSent: string[] = [];
    const received: string[] = [];
    const moves: string[] = [];
    const cluster = { ...simClusterConfig({ nodes: defaultSimNodes, timing: defaultSimTiming }), sync: { ...newSync(), link: 'ring1' } };
    for (const member of defaultSimNodes) {
      const name = member.name;
      const plane = simPlane({
        name,
        cluster,
        links: ['ring0', 'ring1'],
        net,
        clock: new NodeClock(clock),
        rng,
        bootEpoch: 1,
        sent: (peer, link, d) => {
          if (name === 'd1' && peer === 'd2' && isSync(d)) syncSent.push(link);
        },
        host: { syncReceived: (sender, body) => received.push(`${name}<-${sender} ${body.message.kind}`) },
        log: {
          error: () => undefined,
          info: (m) => moves.push(`${name}: ${m}`),
          warn: (m) => moves.push(`${name}: ${m}`),
        },
      });
      planes.set(name, plane);
      plane.start();
    }
    const d1 = planes.get('d1') as ControlPlane;
    const ack: SyncBody = { to: '', message: { kind: 'ack', epoch: 1, copyEpoch: 2, appliedSeq: 3, windowBatches: 0 } };
    /** d1 sends one sync message; on which link it went to d2, and whether d2 got it. */
    const sendOnce = (): { link: string | undefined; got: boolean } => {
      syncSent.length = 0;
      received.length = 0;
      d1.sendSync(ack);
      clock.advance(50);
      return { link: syncSent.join(','), got: received.includes('d2<-d1 ack') };
    };
    const syncMoves = () => moves.filter((m) => m.includes('sync to'));
    clock.advance(5000);
    assert.deepEqual(sendOnce(), { link: 'ring1', got: true }, 'on the sync link');

    net.downLinks.add('ring1');
    clock.advance(defaultSimTiming.deadtimeMs + 1000);
    assert.deepEqual(sendOnce(), { link: 'ring0', got: true }, 'ring1 is down: on ring0, and it arrives');
    assert.deepEqual(syncMoves(), ['d1: sync to d2 goes on link ring0: d2 is not heard on the sync link ring1']);

    net.downLinks.delete('ring1');
    clock.advance(2000);
    assert.deepEqual(sendOnce(), { link: 'ring1', got: true }, 'back on the sync link');
    assert.deepEqual(syncMoves(), ['d1: sync to d2 goes on link ring0: d2 is not heard on the sync link ring1', 'd1: sync to d2 is back on link ring1']);
    for (const p of planes.values()) p.crash();
  });
});
