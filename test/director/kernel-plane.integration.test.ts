// `hadirector run` with the kernel plane (root): a keepalived-style file (one director, a
// vrrp_instance holding the VIP, an LVS-DR and an LVS-NAT virtual_server, TCP_CHECKs)
// run in a namespace of its own. It becomes master, brings the VIP up, writes its
// nftables rules, and clients in other namespaces are balanced in the engine's rr order
// through DR and NAT; a real server killed leaves the rotation at the health check's
// pace, and after that no request fails.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { nftUnavailable } from '../../src/common/nft';
import { controlRequest } from '../../src/director/control-client';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { DataplaneNetns, virtualServerBlock } from '../../src/lab/dataplane-netns';
import { netnsUnavailable } from '../../src/lab/netns';
import { waitFor } from '../support/director-process';

const subnet = '10.221.0';
const vip = `${subnet}.100`;

const config = `
global_defs {
    data_plane kernel
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 61
    priority 150
    advert_int 0.2
    version 3
    virtual_ipaddress {
        ${vip}/24
    }
}
${virtualServerBlock(vip, 80, 'rr', 'DR', [1, 2, 3].map((n) => ({ address: `${subnet}.${10 + n}`, weight: 1 })))}
${virtualServerBlock(vip, 8080, 'wrr', 'NAT', [1, 2, 3].map((n) => ({ address: `${subnet}.${10 + n}`, weight: 4 - n })))}
virtual_server ${vip} 8082 {
    delay_loop 1
    lb_algo wlc
    lb_kind NAT
    protocol TCP
${[1, 2, 3].map((n) => `    real_server ${subnet}.${10 + n} 8080 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }`).join('\n')}
}`;

interface Status {
  readonly dataPlane?: string;
  readonly vrrp?: ReadonlyArray<{ readonly state: string }>;
}

describe('hadirector run with the kernel data plane (integration, network namespaces, root)', function () {
  this.timeout(120_000);
  const world = new DataplaneNetns(subnet);
  let lab: ClusterLab | undefined;

  const status = async (): Promise<Status | undefined> => {
    try {
      const r = await controlRequest((lab as ClusterLab).socket('director'), { op: 'status' }, 1000);
      return r.ok ? (r.result as Status) : undefined;
    } catch {
      return undefined;
    }
  };

  before(async function () {
    const why = netnsUnavailable() ?? nftUnavailable('the kernel plane is nftables rules');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    world.start({ realServers: 3, vipOnDirector: false });
    assert.ok(await world.realServersReady(15_000), 'the real servers answer');
    lab = new ClusterLab(config);
    lab.start('director', ['ip', 'netns', 'exec', world.lab.ns('director')]);
    await waitFor('the director to be master on the kernel plane', async () => {
      const s = await status();
      return s?.vrrp?.[0]?.state === 'master' && s.dataPlane === 'kernel' ? true : undefined;
    }, 20_000, 50);
    await waitFor('the VIP on its eth0', () => (world.lab.addresses('director').includes(`${vip}/24`) ? true : undefined), 5000, 20);
  });

  after(async () => {
    await lab?.stop();
    world.destroy();
  });

  it('DR: the clients go round the real servers in rr order, newest first as IPVS lists them', () => {
    const answers = world.requests('drclient', 80, 300, { firstPort: 30000 });
    assert.deepEqual(answers, Array.from({ length: 300 }, (_, i) => ['rs3', 'rs2', 'rs1'][i % 3]), (lab as ClusterLab).log('director').slice(-2000));
  });

  it('NAT: wrr 3:2:1 in the engine\'s order', () => {
    const answers = world.requests('natclient', 8080, 300, { firstPort: 30000 });
    // IPVS's wrr over its list [rs3 w1, rs2 w2, rs1 w3]: the pass at weight 3 takes rs1,
    // at 2 rs2 and rs1, at 1 rs3, rs2 and rs1.
    assert.deepEqual(answers, Array.from({ length: 300 }, (_, i) => ['rs1', 'rs2', 'rs1', 'rs3', 'rs2', 'rs1'][i % 6]));
  });

  it('ipvsadm -L -n --stats and -L -c show the kernel\'s counters and connections', async () => {
    const ipvsadm = async (...args: string[]): Promise<string> => {
      const r = await controlRequest((lab as ClusterLab).socket('director'), { op: 'ipvsadm', args }, 2000);
      return r.ok ? (r.result as { stdout: string }).stdout : '';
    };
    // The counters are read on the director's second tick: wait for the 600 connections above.
    const stats = await waitFor('the kernel\'s counters in ipvsadm -L -n --stats', async () => {
      const text = await ipvsadm('-L', '-n', '--stats');
      const conns = [...text.matchAll(/^(?:TCP|  ->)\s+\S+\s+(\d+)/gm)].map((m) => Number(m[1]));
      return conns.length === 12 && conns[0] === 300 && conns[4] === 300 ? text : undefined;
    }, 5000, 200);
    const rows = stats.split('\n').filter((l) => /^(TCP|  ->) +\d/.test(l)).map((l) => l.trim().split(/\s+/));
    // Rows: the DR service, its three servers, the NAT service, its three (ipvsadm sorts by address), then the wlc one.
    const [dr, ...drServers] = rows.slice(0, 4);
    const [nat, ...natServers] = rows.slice(4, 8);
    assert.deepEqual(drServers.map((r) => r[2]), ['100', '100', '100'], 'DR: a third of the connections each');
    assert.ok(Number(dr?.[3]) >= 300 * 3, `DR: the clients' packets counted (${dr?.[3]})`);
    assert.deepEqual([dr?.[4], dr?.[6]], ['0', '0'], 'DR: no packet comes back through the director');
    assert.deepEqual(natServers.map((r) => r[2]).sort(), ['100', '150', '50'], 'NAT: wrr 3:2:1');
    assert.ok(Number(nat?.[4]) >= 300 * 2 && Number(nat?.[6]) > 0, `NAT: the replies come back through the director (${nat?.join(' ')})`);
    // The counters are read first in a poll, conntrack's entries after them: the listing may lag the stats by a moment.
    const natEntry = /TCP\s+\S+\s+\S+\s+10\.221\.0\.2:\d+\s+10\.221\.0\.100:8080\s+10\.221\.0\.1[123]:8080/;
    await waitFor('a NAT connection from conntrack in ipvsadm -L -n -c', async () => (natEntry.test(await ipvsadm('-L', '-n', '-c')) ? true : undefined), 5000, 200);
  });

  it('wlc follows the connection counts conntrack reports: new connections go to the servers with fewer', async () => {
    const ipvsadm = async (...args: string[]): Promise<string> => {
      const r = await controlRequest((lab as ClusterLab).socket('director'), { op: 'ipvsadm', args }, 2000);
      assert.ok(r.ok, JSON.stringify(r));
      return (r.result as { stdout: string }).stdout;
    };
    const service = `${vip}:8082`;
    const servers = ['rs1', 'rs2', 'rs3'];
    const setWeights = async (weights: readonly number[]): Promise<void> => {
      for (const [i, w] of weights.entries()) await ipvsadm('-e', '-t', service, '-r', `${subnet}.${11 + i}:8080`, '-m', '-w', String(w));
    };
    /** Each server's ActiveConn in ipvsadm -L -n, as the director last read conntrack. */
    const active = async (): Promise<number[]> => {
      const text = await ipvsadm('-L', '-n', '-t', service);
      return servers.map((_, i) => Number(new RegExp(`${subnet}\\.${11 + i}:8080\\s+Masq\\s+\\d+\\s+(\\d+)`).exec(text)?.[1] ?? -1));
    };
    const open: Array<{ close(): void }> = [];
    try {
      // rs1 alone takes 60 long connections first.
      await setWeights([1, 0, 0]);
      const loaded = await world.sessions('natclient', 8082, 60, 33000);
      open.push(loaded);
      assert.deepEqual(new Set(loaded.first), new Set(['rs1']));
      await setWeights([1, 1, 1]);
      await waitFor('the 60 connections in the table', async () => ((await active())[0] === 60 ? true : undefined), 5000, 100);
      // Then three rounds of 30, each after the director has read the last one's.
      const placed: string[] = [];
      for (let round = 0; round < 3; round++) {
        const s = await world.sessions('natclient', 8082, 30, 33100 + round * 100);
        open.push(s);
        placed.push(...s.first);
        const total = 60 + 30 * (round + 1);
        await waitFor(`round ${round + 1} in the table`, async () => ((await active()).reduce((a, b) => a + b, 0) === total ? true : undefined), 5000, 100);
      }
      const counts = servers.map((rs) => placed.filter((p) => p === rs).length);
      // The engine's own wlc would place the 90 as 0, 45, 45; by weight alone, about 30 each.
      // The map is the engine's picks in order, so it places them so even between two reads.
      console.log(`      (wlc on the kernel plane: the 90 new connections went ${counts.join('/')} to rs1/rs2/rs3; exact wlc 0/45/45, by weight alone about 30/30/30)`);
      assert.ok(!placed.includes('fail'), 'every connection answered');
      assert.ok((counts[0] ?? 90) <= 2, `rs1, already loaded, took next to none (${counts[0]})`);
      assert.ok(Math.abs((counts[1] ?? 0) - (counts[2] ?? 0)) <= 4, `rs2 and rs3 shared the rest (${counts.join('/')})`);
    } finally {
      for (const s of open) s.close();
    }
  });

  it('a real server killed leaves the rotation at the health check\'s pace, and then no request fails', async () => {
    await world.stopRealServer('rs2');
    const killedAt = performance.now();
    let port = 31000;
    let clean: number | undefined;
    for (let round = 0; round < 40 && clean === undefined; round++) {
      const answers = world.requests('drclient', 80, 9, { firstPort: port });
      port += 9;
      if (!answers.includes('fail') && !answers.includes('rs2')) clean = performance.now() - killedAt;
    }
    assert.ok(clean !== undefined, 'rs2 left the rotation');
    // delay_loop 1 s, connect_timeout 1 s: the check fails within about two seconds, and the rules follow at once.
    assert.ok(clean < 4000, `rs2 left after ${Math.round(clean)} ms`);
    console.log(`      (rs2 out of the rotation ${Math.round(clean)} ms after it was killed)`);
    const after = world.requests('drclient', 80, 200, { firstPort: port });
    assert.deepEqual(new Set(after), new Set(['rs1', 'rs3']), 'DR: no failure, rs1 and rs3 only');
    const nat = world.requests('natclient', 8080, 200, { firstPort: 32000 });
    assert.deepEqual(new Set(nat), new Set(['rs1', 'rs3']), 'NAT: no failure, rs1 and rs3 only');
  });
});

