// Connection-table sync rides on one link; when a peer is no longer heard on it but is
// on another, sync to that peer moves there, and comes back when the link does.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { ClusterNode } from '../../src/cluster/node';
import { decodeEnvelope } from '../../src/heartbeat/envelope';
import type { SyncBody } from '../../src/sync/wire';
import { defaultSimNodes, defaultSimTiming } from '../sim/cluster-sim';
import { NodeClock, VirtualNetwork } from '../sim/network';

const key = Buffer.from('simulation key, 32 bytes long!!!');
const isSync = (d: Buffer): boolean => {
  const e = decodeEnvelope(d, key);
  return typeof e !== 'string' && e.sync !== undefined;
};

describe('the sync link', () => {
  it('moves to another link while a peer is not heard on it, and back when it is', () => {
    const clock = new VirtualClock();
    const net = new VirtualNetwork(clock, new SeededRng(5));
    const nodes = new Map<string, ClusterNode>();
    const syncSent: string[] = [];
    const received: string[] = [];
    const moves: string[] = [];
    for (const member of defaultSimNodes) {
      const name = member.name;
      const nodeClock = new NodeClock(clock);
      const node = new ClusterNode({
        self: name,
        clusterId: 'sim',
        key,
        nodes: defaultSimNodes,
        links: ['ring0', 'ring1'],
        syncLink: 'ring1',
        timing: defaultSimTiming,
        quorum: { twoNode: false, waitForAll: false },
        skew: { warnMs: 500, criticalMs: 1000 },
        clock: nodeClock,
        bootEpoch: 1,
        transport: {
          send: (peer, link, d) => {
            if (name === 'd1' && peer === 'd2' && isSync(d)) syncSent.push(link);
            net.send(name, peer, link, d);
          },
        },
        events: {
          peerChanged: () => undefined,
          viewChanged: () => undefined,
          skewChanged: () => undefined,
          syncReceived: (sender, body) => received.push(`${name}<-${sender} ${body.message.kind}`),
          syncLinkChanged: (peer, link, syncLink) => moves.push(`${name}: ${peer} on ${link} (sync link ${syncLink})`),
        },
      });
      nodes.set(name, node);
      net.attach(name, (d) => nodeClock.whenRunning(() => node.receive(d)));
      node.start();
    }
    const d1 = nodes.get('d1') as ClusterNode;
    const ack: SyncBody = { to: '', message: { kind: 'ack', epoch: 1, copyEpoch: 2, appliedSeq: 3, windowBatches: 0 } };
    /** d1 sends one sync message; on which link it went to d2, and whether d2 got it. */
    const sendOnce = (): { link: string | undefined; got: boolean } => {
      syncSent.length = 0;
      received.length = 0;
      d1.sendSync(ack);
      clock.advance(50);
      return { link: syncSent.join(','), got: received.includes('d2<-d1 ack') };
    };
    clock.advance(5000);
    assert.deepEqual(sendOnce(), { link: 'ring1', got: true }, 'on the sync link');

    net.downLinks.add('ring1');
    clock.advance(defaultSimTiming.deadtimeMs + 1000);
    assert.deepEqual(sendOnce(), { link: 'ring0', got: true }, 'ring1 is down: on ring0, and it arrives');
    assert.deepEqual(moves, ['d1: d2 on ring0 (sync link ring1)']);

    net.downLinks.delete('ring1');
    clock.advance(2000);
    assert.deepEqual(sendOnce(), { link: 'ring1', got: true }, 'back on the sync link');
    assert.deepEqual(moves, ['d1: d2 on ring0 (sync link ring1)', 'd1: d2 on ring1 (sync link ring1)']);
    for (const n of nodes.values()) n.stop();
  });
});
