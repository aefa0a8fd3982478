// Partitions between real directors on loopback, cut with nftables rules on the test's
// own addresses (root only): with the directors cut from each other but both hearing the
// witness, the master keeps the VIP and the backup waits; with the master cut off from
// everyone, it lets go and the backup takes over. Sampled every 10 ms: never two holders.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { controlRequest } from '../../src/director/control-client';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { loopbackInstance } from '../support/cluster-config';
import { loopbackNet, waitFor } from '../support/director-process';

const lan = loopbackNet();
const port = 16200 + (process.pid % 50);
const table = `hadirector_test_${process.pid}`;
const addr = { d1: `${lan}.81`, d2: `${lan}.82`, w1: `${lan}.83` } as const;

const config = `
cluster {
    cluster_id partition
    auth_key_file cluster.key
    port ${port}
    heartbeat_interval 500ms
    deadtime 2s
    fencing {
        mode self_release
    }
    node d1 {
        address ${addr.d1}
        priority 150
    }
    node d2 {
        address ${addr.d2}
    }
    node w1 {
        address ${addr.w1}
        priority 0
        witness
    }
}
${loopbackInstance(52, `${lan}.110`)}`;

const nft = (...args: string[]): void => {
  execFileSync('nft', args, { stdio: 'pipe' });
};

/** Drops the cluster's datagrams between two nodes, both ways. */
function cut(a: keyof typeof addr, b: keyof typeof addr): void {
  for (const [from, to] of [[a, b], [b, a]] as const) nft('add', 'rule', 'inet', table, 'input', 'ip', 'saddr', addr[from], 'ip', 'daddr', addr[to], 'udp', 'dport', String(port), 'drop');
}

const canRun = (): string | undefined => {
  if (process.getuid?.() !== 0) return 'needs root (nftables rules cut the links)';
  if (!['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].some((p) => fs.existsSync(p))) return 'needs nft (apt-get install nftables)';
  return undefined;
};

describe('partitions between directors (integration, nftables)', function () {
  this.timeout(90_000);
  const lab = new ClusterLab(config);
  const holders: string[][] = [];
  let sampling = false;
  let sampler: Promise<void> = Promise.resolve();

  const master = async (name: 'd1' | 'd2'): Promise<boolean> => {
    try {
      const r = await controlRequest(lab.socket(name), { op: 'status' }, 1000);
      return r.ok && (r.result as { vrrp?: Array<{ state: string }> }).vrrp?.[0]?.state === 'master';
    } catch {
      return false;
    }
  };
  const sample = async (): Promise<void> => {
    for (let n = 0; sampling && n < 20_000; n++) {
      const started = Date.now();
      const [a, b] = await Promise.all([master('d1'), master('d2')]);
      holders.push([...(a ? ['d1'] : []), ...(b ? ['d2'] : [])]);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - (Date.now() - started))));
    }
  };

  before(async function () {
    const why = canRun();
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    nft('add', 'table', 'inet', table);
    nft('add', 'chain', 'inet', table, 'input', '{ type filter hook input priority 0; policy accept; }');
    for (const n of ['d1', 'd2', 'w1']) lab.start(n);
    await waitFor('d1 to hold VI_1', () => master('d1').then((m) => (m ? true : undefined)), 20_000, 50);
    sampling = true;
    sampler = sample();
  });

  after(async () => {
    sampling = false;
    await sampler;
    try {
      nft('delete', 'table', 'inet', table);
    } catch {
      // never created: the suite was skipped
    }
    await lab.stop();
  });

  it('directors cut from each other, both hearing the witness: the master keeps the VIP, the backup waits', async () => {
    cut('d1', 'd2');
    await new Promise((resolve) => setTimeout(resolve, 6000));
    assert.deepEqual(holders.slice(-20).map((h) => h.join(',')), Array.from({ length: 20 }, () => 'd1'));
    assert.match((await lab.viewOf('d2')) ?? '', /quorate/);
  });

  it('the master cut off from everyone lets go, and the backup with the witness takes over', async () => {
    cut('d1', 'w1');
    await waitFor('d2 to hold VI_1', () => master('d2').then((m) => (m ? true : undefined)), 15_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await master('d1'), false);
    assert.match(lab.log('d1'), /VI_1: MASTER -> FAULT: no quorum has heard this node/);
  });

  it('never had two holders at once (sampled every 10 ms)', () => {
    assert.ok(holders.length > 200, `${holders.length} samples`);
    const both = holders.filter((h) => h.length > 1).length;
    assert.equal(both, 0, `${both} samples with two holders`);
  });
});
