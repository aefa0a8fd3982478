// The drill's cluster in network namespaces (root), on config/hadirector.conf rewritten
// for them: d1 becomes master and holds the VIP on its eth0, the client in its own
// namespace is served through it by the real servers, and its neighbour entry for the VIP
// is d1's MAC; d1 killed with -9, d2 fences it (its links down: a power-off), takes the
// VIP and its gratuitous ARP moves the client's entry to d2; d1 switched on (links up,
// the VIP its killed run left gone) and started again takes over again; a cut link between d2 and the witness makes each dead to the other until
// restored; and stop() leaves no namespace behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { controlRequest } from '../../src/director/control-client';
import type { DrillTraffic } from '../../src/drill/cluster';
import { NetnsDrillCluster, drillSubnet } from '../../src/drill/netns-cluster';
import { nftUnavailable } from '../../src/common/nft';
import { netnsUnavailable } from '../../src/lab/netns';
import { waitFor } from '../support/director-process';
import { repoRoot } from '../support/paths';

interface Status {
  readonly vrrp?: ReadonlyArray<{ readonly state: string }>;
  readonly cluster?: { readonly peers: ReadonlyArray<{ readonly peer: string; readonly state: string }> };
}

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.length > 0);

describe('the drill cluster in network namespaces (integration, root)', function () {
  this.timeout(60_000);
  let cluster: NetnsDrillCluster | undefined;
  let traffic: DrillTraffic | undefined;
  const c = (): NetnsDrillCluster => cluster as NetnsDrillCluster;

  const status = async (node: string): Promise<Status | undefined> => {
    try {
      const r = await controlRequest(c().socket(node), { op: 'status' }, 1000);
      return r.ok ? (r.result as Status) : undefined;
    } catch {
      return undefined;
    }
  };
  const state = async (node: string): Promise<string | undefined> => (await status(node))?.vrrp?.[0]?.state;
  const peerState = async (node: string, peer: string): Promise<string | undefined> => (await status(node))?.cluster?.peers.find((p) => p.peer === peer)?.state;
  const holders = async (): Promise<string> => [...(await c().vipHolders())].sort().join(',');
  const okSince = (tMs: number): number => (traffic?.samples ?? []).filter((s) => s.ok && s.tMs >= tMs).length;

  before(async function () {
    const why = netnsUnavailable() ?? nftUnavailable();
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    const made = NetnsDrillCluster.of(path.join(repoRoot(), 'config', 'hadirector.conf'));
    if (!(made instanceof NetnsDrillCluster)) throw new Error(made.problem);
    cluster = made;
    await cluster.start();
  });

  after(async () => {
    await traffic?.stop();
    await cluster?.stop();
    if (cluster !== undefined) fs.rmSync(cluster.dir, { recursive: true, force: true });
  });

  it('d1 becomes master and alone holds the VIP; the client is served through it by the real servers, its neighbour entry d1', async () => {
    const [t0, t0Wall] = [performance.now(), Date.now()];
    await waitFor('d1 to be master', async () => ((await state('d1')) === 'master' ? true : undefined), 20_000, 50);
    await waitFor('the VIP on d1 alone', async () => ((await holders()) === 'd1' ? true : undefined), 5000, 50);
    traffic = c().clients.traffic({ nowMs: () => Math.round(performance.now() - t0), t0Wall }, 20);
    traffic.start();
    await waitFor('20 answers through the VIP', () => (okSince(0) >= 20 ? true : undefined), 10_000);
    const served = new Set(traffic.samples.filter((s) => s.ok).map((s) => s.server));
    assert.ok([...served].every((s) => s === `${drillSubnet}.21:8081` || s === `${drillSubnet}.22:8082`), [...served].join(' '));
    await waitFor("the client's neighbour entry to be d1's", async () => ((await c().clientNeighbour()) === 'd1' ? true : undefined), 5000, 50);
    assert.equal(c().vip.host, `${drillSubnet}.100`);
    console.log(`      (d1 master and served after ${Math.round(performance.now() - t0)} ms; answers from ${[...served].join(', ')})`);
  });

  it('kill -9 d1: d2 takes the VIP, the client\'s neighbour entry moves to d2 and requests go on', async () => {
    const killed = performance.now();
    const killedAtMs = traffic?.samples.at(-1)?.tMs ?? 0;
    await c().signal('d1', 'SIGKILL');
    assert.equal(c().running('d1'), false);
    await waitFor('d2 to be master', async () => ((await state('d2')) === 'master' ? true : undefined), 15_000, 50);
    await waitFor('the VIP on d2', async () => ((await c().vipHolders()).has('d2') ? true : undefined), 5000, 50);
    const takeover = Math.round(performance.now() - killed);
    await waitFor("the client's neighbour entry to be d2's", async () => ((await c().clientNeighbour()) === 'd2' ? true : undefined), 5000, 50);
    await waitFor('20 answers after the takeover', () => (okSince(killedAtMs) >= 20 ? true : undefined), 10_000);
    // The kernel keeps what the killed process added, but d2 fenced d1 first: its links are down, its VIP out of reach.
    assert.equal(await holders(), 'd2');
    console.log(`      (d2 master ${takeover} ms after the kill, neighbour entry d2 after ${Math.round(performance.now() - killed)} ms)`);
  });

  it('d1 switched on (its links up, the VIP its killed run left gone) and started again takes over again', async () => {
    const back = performance.now();
    await c().powerOn('d1');
    assert.equal(await holders(), 'd2', 'a host switched on has no address but its own');
    c().startNode('d1');
    await waitFor('d1 to be master again', async () => ((await state('d1')) === 'master' ? true : undefined), 20_000, 50);
    await waitFor('the VIP on d1 alone', async () => ((await holders()) === 'd1' ? true : undefined), 5000, 50);
    await waitFor("the client's neighbour entry to be d1's", async () => ((await c().clientNeighbour()) === 'd1' ? true : undefined), 5000, 50);
    assert.equal(await state('d2'), 'backup');
    console.log(`      (d1 master again ${Math.round(performance.now() - back)} ms after its start)`);
  });

  // d2 and the witness, not d1 and d2: cut off from d2, d1 and the witness are the
  // majority and d1 fences d2 (its process killed), which is the cluster's business.
  it('a cut link between d2 and w1 makes each dead to the other, and only to the other; restored, up again', async () => {
    const cut = performance.now();
    assert.equal(await c().cutLink('d2', 'w1'), undefined);
    await waitFor('d2 to count w1 dead', async () => ((await peerState('d2', 'w1')) === 'dead' ? true : undefined), 10_000, 50);
    await waitFor('w1 to count d2 dead', async () => ((await peerState('w1', 'd2')) === 'dead' ? true : undefined), 10_000, 50);
    const dead = Math.round(performance.now() - cut);
    assert.deepEqual([await peerState('d1', 'd2'), await peerState('d1', 'w1'), await peerState('d2', 'd1'), await peerState('w1', 'd1')], ['up', 'up', 'up', 'up']);
    const restored = performance.now();
    await c().restoreLinks();
    await waitFor('d2 to count w1 up', async () => ((await peerState('d2', 'w1')) === 'up' ? true : undefined), 10_000, 50);
    await waitFor('w1 to count d2 up', async () => ((await peerState('w1', 'd2')) === 'up' ? true : undefined), 10_000, 50);
    assert.ok(c().nodes.every((n) => c().running(n)), 'no one was fenced');
    console.log(`      (dead to each other ${dead} ms after the cut, up again ${Math.round(performance.now() - restored)} ms after the restore)`);
  });

  it('traffic stops with every request answered or given up; stop() leaves no namespace behind', async () => {
    await traffic?.stop();
    const samples = traffic?.samples ?? [];
    assert.ok(samples.length > 100, `${samples.length} requests`);
    assert.ok(samples.every((s, i) => i === 0 || (samples[i - 1]?.tMs ?? 0) <= s.tMs), 'in the order sent');
    const prefix = c().namespacePrefix;
    assert.ok(namespaces().some((n) => n.startsWith(`${prefix}-`)));
    await c().stop();
    assert.deepEqual(namespaces().filter((n) => n.startsWith(`${prefix}-`)), []);
    for (const node of c().nodes) assert.equal(c().running(node), false, node);
    const errors = new Map<string, number>();
    for (const s of samples) if (!s.ok) errors.set(s.error ?? '?', (errors.get(s.error ?? '?') ?? 0) + 1);
    console.log(`      (${samples.length} requests, failed: ${[...errors].map(([e, n]) => `${n} ${e}`).join(', ') || 'none'})`);
  });
});
