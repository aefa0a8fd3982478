// Three `hadirector run` processes on loopback: kill -9 one and the other two agree on
// the new view and DC within deadtime + one interval; it rejoins when restarted; kill two
// and the survivor reports no quorum. Garbage sent to a node's cluster port is dropped,
// counted, and survived.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { SeededRng } from '../../src/common/rng';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { loopbackNet, waitFor } from '../support/director-process';

const lan = loopbackNet();
const port = 16400 + (process.pid % 50);
const intervalMs = 500;
const deadtimeMs = 2000;
const names = ['d1', 'd2', 'w1'] as const;
type Name = (typeof names)[number];
const addressOf: Record<Name, string> = { d1: `${lan}.31`, d2: `${lan}.32`, w1: `${lan}.33` };

const config = `
cluster {
    cluster_id it
    auth_key_file cluster.key
    port ${port}
    heartbeat_interval ${intervalMs}ms
    deadtime ${deadtimeMs}ms
    node d1 {
        address ${addressOf.d1}
        priority 150
    }
    node d2 {
        address ${addressOf.d2}
    }
    node w1 {
        address ${addressOf.w1}
        priority 0
        witness
    }
}
`;

const threeNodes = (clusterPort: number): string => config.replace(`port ${port}`, `port ${clusterPort}`);

describe('three directors on loopback (integration)', function () {
  this.timeout(60_000);
  const lab = new ClusterLab(config);
  const agree = (who: Name[], expected: string) => lab.agree(who, expected);
  const status = (name: Name) => lab.status(name);
  const viewOf = (name: Name) => lab.viewOf(name);

  before(async () => {
    for (const n of names) lab.start(n);
    await waitFor('all three to agree', agree([...names], '[d1,d2,w1] quorate dc=d1'), 15_000);
  });

  after(() => lab.stop());

  it('agrees on a new view and DC within deadtime + one interval after kill -9 of the DC', async () => {
    const killedAt = Date.now();
    await lab.kill9('d1');
    await waitFor('d2 and w1 to agree without d1', agree(['d2', 'w1'], '[d2,w1] quorate dc=d2'), 10_000, 20);
    const tookMs = Date.now() - killedAt;
    console.log(`      (new view and DC agreed ${tookMs} ms after kill -9; deadtime ${deadtimeMs} ms, interval ${intervalMs} ms)`);
    assert.ok(tookMs <= deadtimeMs + intervalMs + 200, `took ${tookMs} ms`);
  });

  it('takes the restarted node back, and it becomes DC again by priority', async () => {
    lab.start('d1');
    await waitFor('all three again', agree([...names], '[d1,d2,w1] quorate dc=d1'), 15_000);
  });

  it('drops and counts garbage sent to a node\'s cluster port, and stays up', async () => {
    const socket = dgram.createSocket('udp4');
    const rng = new SeededRng(9);
    const before = Object.values((await status('d2'))?.dropped ?? {}).reduce((a, b) => a + b, 0);
    try {
      // In batches, so the socket's receive buffer does not overflow and lose them first.
      for (let batch = 0; batch < 20; batch++) {
        for (let i = 0; i < 100; i++) socket.send(Buffer.from(Array.from({ length: 1 + rng.below(300) }, () => rng.below(256))), port, addressOf.d2);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await waitFor('the drops to be counted', async () => {
        const dropped = Object.values((await status('d2'))?.dropped ?? {}).reduce((a, b) => a + b, 0);
        return dropped - before >= 1900 ? true : undefined;
      }, 10_000);
    } finally {
      socket.close();
    }
    assert.equal(await viewOf('d2'), '[d1,d2,w1] quorate dc=d1');
  });

  it('leaves the survivor without quorum when two are killed', async () => {
    await lab.kill9('d1');
    await lab.kill9('w1');
    await waitFor('d2 alone, without quorum', agree(['d2'], '[d2] no-quorum dc=-'), deadtimeMs + intervalMs + 2000, 20);
    assert.match(lab.log('d2'), /WITHOUT QUORUM/);
  });
});

describe('clock skew between directors (integration, faketime)', function () {
  this.timeout(60_000);
  const lab = new ClusterLab(threeNodes(port + 60));

  before(function () {
    if (!fs.existsSync('/usr/bin/faketime')) {
      console.log('      (skipped: faketime is not installed; apt-get install faketime)');
      this.skip();
    }
  });

  after(() => lab.stop());

  it('raises a critical skew alert on the peers of a node whose clock is 1.5 s ahead, within three heartbeats of meeting it', async () => {
    lab.start('d1');
    lab.start('w1');
    lab.start('d2', ['faketime', '-f', '+1.5s']);
    await waitFor('the three to meet', lab.agree([...names], '[d1,d2,w1] quorate dc=d1'), 15_000);
    const metAt = Date.now();
    const skewOf = async (on: Name, peer: Name) => (await lab.status(on))?.peers.find((p) => p.peer === peer);
    const d2SeenByD1 = await waitFor('d1 to alert on d2', async () => ((await skewOf('d1', 'd2'))?.skew === 'critical' ? skewOf('d1', 'd2') : undefined), 10_000, 20);
    const tookMs = Date.now() - metAt;
    assert.ok(tookMs <= 3 * intervalMs + 500, `alert after ${tookMs} ms`);
    assert.ok(Math.abs((d2SeenByD1?.offsetMs ?? 0) - 1500) < 200, `offset ${d2SeenByD1?.offsetMs}`);
    await waitFor('w1 to alert on d2', async () => ((await skewOf('w1', 'd2'))?.skew === 'critical' ? true : undefined), 5000, 20);
    assert.equal((await skewOf('w1', 'd1'))?.skew, 'ok');
    assert.match(lab.log('d1'), /clock skew with d2: \+1[45]\d\d ms \(critical\)/);
    // d2 meets each peer at its own moment: wait for its alert on d1 too.
    await waitFor('d2 to log its alert on d1', () => (/clock skew with d1: -1[45]\d\d ms \(critical\)/.test(lab.log('d2')) ? true : undefined), 5000, 20);
  });
});

describe('three directors on a multicast link (integration)', function () {
  this.timeout(60_000);
  const mport = port + 120;
  const lab = new ClusterLab(`
cluster {
    cluster_id mcast
    auth_key_file cluster.key
    heartbeat_interval ${intervalMs}ms
    deadtime ${deadtimeMs}ms
    link ring0 {
        port ${mport}
        mcast_group 239.192.${process.pid % 250}.${(process.pid >> 8) % 250}
    }
    node d1 {
        address ring0 ${lan}.51
        priority 150
    }
    node d2 {
        address ring0 ${lan}.52
    }
    node w1 {
        address ring0 ${lan}.53
        priority 0
        witness
    }
}
`);

  after(() => lab.stop());

  it('meets over the group, and sees a node go when it is killed', async () => {
    for (const n of names) lab.start(n);
    await waitFor('all three to agree over multicast', lab.agree([...names], '[d1,d2,w1] quorate dc=d1'), 15_000);
    await lab.kill9('w1');
    await waitFor('d1 and d2 without w1', lab.agree(['d1', 'd2'], '[d1,d2] quorate dc=d1'), deadtimeMs + intervalMs + 2000, 20);
    const dropped = (await lab.status('d1'))?.dropped ?? {};
    assert.equal(dropped['from-self'], 0, 'its own datagrams, looped back by the group, are not counted as drops');
  });
});
