// The linux VIP driver for real, in network namespaces the test makes (root only): two
// directors, a client and a real server on one bridge. The master adds the VIP to its
// eth0 and announces it; when its host dies (kill -9, link down) the backup adds the
// VIP, sends gratuitous ARP (and unsolicited neighbour adverts for its IPv6 VIP), and the
// client's neighbour entries for the VIPs move to the backup's MAC while its requests go on; the old master comes back, removes the VIP
// its killed run left behind, and takes over again (preempt). A master whose link goes
// down goes to FAULT (its interface is tracked) and lets the VIP go.
import assert from 'node:assert/strict';
import { controlRequest } from '../../src/director/control-client';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { waitFor } from '../support/director-process';
import { collectTries, httpProber, httpResponder, NetnsLab, netnsUnavailable, pairConfig } from '../../src/lab/netns';

const subnet = '10.213.0';
const VIP = `${subnet}.100`;
const VIP6 = 'fd00:213::100';

const config = pairConfig({ clusterId: 'netns', subnet, virtualRouterId: 53, heartbeatMs: 200, deadtimeMs: 1000, initdeadMs: 1000, advertMs: 200, vip6: VIP6 });

describe('VIP failover in network namespaces (integration, linux VIP driver, root)', function () {
  this.timeout(120_000);
  const net = new NetnsLab(subnet);
  let lab: ClusterLab | undefined;
  const tries: Array<{ ok: boolean; startedMs: number; endedMs: number }> = [];

  const state = async (name: string): Promise<string | undefined> => {
    try {
      const r = await controlRequest((lab as ClusterLab).socket(name), { op: 'status' }, 1000);
      return r.ok ? (r.result as { vrrp?: Array<{ state: string }> }).vrrp?.[0]?.state : undefined;
    } catch {
      return undefined;
    }
  };
  const okSince = (sinceMs: number): number => tries.filter((t) => t.ok && t.startedMs > sinceMs).length;
  /** The longest run of failed tries after `sinceMs`, from the last success before it to the next success. */
  const outageAfter = (sinceMs: number): number => {
    let lastOk = tries.filter((t) => t.ok && t.startedMs <= sinceMs).at(-1)?.startedMs ?? sinceMs;
    let longest = 0;
    for (const t of tries.filter((x) => x.startedMs > sinceMs)) {
      if (t.ok) {
        longest = Math.max(longest, t.startedMs - lastOk);
        lastOk = t.startedMs;
      }
    }
    return longest;
  };

  before(async function () {
    const why = netnsUnavailable();
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    net.create({ d1: 1, d2: 2, cl: 3, rs: 4 });
    net.spawn('rs', process.execPath, ['-e', httpResponder, `${subnet}.4`, '8080']);
    lab = new ClusterLab(config);
    for (const d of ['d1', 'd2']) lab.start(d, ['ip', 'netns', 'exec', net.ns(d)]);
    await waitFor('d1 to be master', async () => ((await state('d1')) === 'master' ? true : undefined), 20_000, 50);
    collectTries(net.spawn('cl', process.execPath, ['-e', httpProber, VIP, '80', '20', '5000']), tries);
  });

  after(async () => {
    await lab?.stop();
    net.destroy();
  });

  it('the master holds the VIP on its eth0, and the client reaches the real server through it', async () => {
    await waitFor('the client to be served', () => (okSince(0) >= 10 ? true : undefined), 10_000);
    assert.ok(net.addresses('d1').includes(`${VIP}/24`), net.addresses('d1').join(' '));
    assert.ok(!net.addresses('d2').includes(`${VIP}/24`), net.addresses('d2').join(' '));
    assert.equal(net.neighbour('cl', VIP), net.mac('d1'));
    assert.ok(net.addresses('d1', 6).includes(`${VIP6}/64`), net.addresses('d1', 6).join(' '));
    // As if the client had talked to the IPv6 VIP: only unsolicited adverts change this entry from now on.
    net.setNeighbour('cl', VIP6, net.mac('d1'));
  });

  it('the master host dies: the backup takes the VIP, the client\'s neighbour entry moves to its MAC, requests go on', async () => {
    const killedAt = Date.now();
    net.link('d1', 'down');
    await (lab as ClusterLab).kill9('d1');
    await waitFor('d2 to be master', async () => ((await state('d2')) === 'master' ? true : undefined), 10_000, 20);
    assert.ok(net.addresses('d2').includes(`${VIP}/24`), net.addresses('d2').join(' '));
    await waitFor("the client's neighbour entry to point at d2", () => (net.neighbour('cl', VIP) === net.mac('d2') ? true : undefined), 5000);
    await waitFor("the client's IPv6 neighbour entry to point at d2", () => (net.neighbour('cl', VIP6) === net.mac('d2') ? true : undefined), 5000);
    await waitFor('20 answers after the failover', () => (okSince(killedAt) >= 20 ? true : undefined), 10_000);
    const outage = outageAfter(killedAt);
    console.log(`      (outage ${outage} ms: deadtime 1 s, advert 200 ms)`);
    assert.ok(outage < 3000, `outage ${outage} ms`);
    assert.match((lab as ClusterLab).log('d2'), /VI_1: BACKUP -> MASTER/);
  });

  it('the old master returns: it removes the VIP its killed run left, then takes over again', async () => {
    assert.ok(net.addresses('d1').includes(`${VIP}/24`), 'kill -9 left the VIP on d1');
    net.link('d1', 'up');
    const back = Date.now();
    (lab as ClusterLab).start('d1', ['ip', 'netns', 'exec', net.ns('d1')]);
    await waitFor('d1 to be master again', async () => ((await state('d1')) === 'master' ? true : undefined), 20_000, 20);
    await waitFor('d2 to let go', async () => ((await state('d2')) === 'backup' && !net.addresses('d2').includes(`${VIP}/24`) ? true : undefined), 5000, 20);
    await waitFor("the client's neighbour entry to point at d1", () => (net.neighbour('cl', VIP) === net.mac('d1') ? true : undefined), 5000);
    await waitFor("the client's IPv6 neighbour entry to point at d1", () => (net.neighbour('cl', VIP6) === net.mac('d1') ? true : undefined), 5000);
    assert.ok(!net.addresses('d2', 6).includes(`${VIP6}/64`), net.addresses('d2', 6).join(' '));
    await waitFor('20 answers after the handover', () => (okSince(back) >= 20 ? true : undefined), 10_000);
    assert.ok(net.addresses('d1').includes(`${VIP}/24`));
    console.log(`      (longest gap after the return: ${outageAfter(back)} ms)`);
  });

  it("the master's link goes down: it goes to FAULT and the backup takes over; back up, it takes over again", async () => {
    net.link('d1', 'down');
    await waitFor('d1 in FAULT', async () => ((await state('d1')) === 'fault' ? true : undefined), 5000, 20);
    await waitFor('d2 to be master', async () => ((await state('d2')) === 'master' ? true : undefined), 10_000, 20);
    assert.ok(!net.addresses('d1').includes(`${VIP}/24`), 'd1 let its VIP go');
    assert.match((lab as ClusterLab).log('d1'), /track_interface eth0: down/);
    net.link('d1', 'up');
    await waitFor('d1 to be master again', async () => ((await state('d1')) === 'master' ? true : undefined), 20_000, 20);
    await waitFor('d2 to let go', async () => ((await state('d2')) === 'backup' ? true : undefined), 5000, 20);
  });
});
