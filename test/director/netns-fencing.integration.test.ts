// Fence races for real (root): two directors in network namespaces of their own, two_node,
// fencing mode power with the `netns` agent (it sets the target namespace's eth0 down), a
// client and a real server beside them on one bridge. The link between the directors is
// cut (a bridge filter in the hub, so neither sees its own interface go) again and again:
// each time exactly one director must end fenced, the VIP holder must survive and go on
// serving the client, and the fenced one, put back and cleared, rejoins. Then the master
// is frozen (SIGSTOP) and resumed, for a while shorter and longer than the fence takes:
// never both fenced. NETNS_CUTS and NETNS_FREEZES change how many rounds: 12 and 6 keep
// the whole suite within its time; NETNS_CUTS=100 NETNS_FREEZES=20 is the longer run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { controlRequest } from '../../src/director/control-client';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { collectTries, httpProber, httpResponder, NetnsLab, netnsUnavailable } from '../../src/lab/netns';
import { waitFor } from '../support/director-process';

const subnet = '10.214.0';
const VIP = `${subnet}.100`;
const cuts = Number(process.env['NETNS_CUTS'] ?? 12);
const freezes = Number(process.env['NETNS_FREEZES'] ?? 6);
const timing = { heartbeatMs: 50, deadtimeMs: 250, delayMaxMs: 300 };
/** When the losing side would fire at the latest: deadtime, its delay and its yield (three delay_max), and some slack. */
const raceOverMs = timing.deadtimeMs + 3 * timing.delayMaxMs + 500;

function config(namespacePrefix: string): string {
  return `
global_defs {
    data_plane userspace
}
cluster {
    cluster_id fencerace
    auth_key_file cluster.key
    heartbeat_interval ${timing.heartbeatMs}ms
    deadtime ${timing.deadtimeMs}ms
    initdead 1s
    vip_driver linux
    quorum {
        two_node
    }
    fencing {
        mode power
        action off
        delay_max ${timing.delayMaxMs}ms
        device cut {
            agent netns
            namespace ${namespacePrefix}-%n
            timeout 5s
        }
    }
    node d1 {
        address ${subnet}.1
        priority 150
    }
    node d2 {
        address ${subnet}.2
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 54
    version 3
@d1 priority 150
@d2 priority 100
    advert_int 0.1
    virtual_ipaddress {
        ${VIP}/24
    }
}
virtual_server ${VIP} 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server ${subnet}.4 8080 {
        weight 1
    }
}
`;
}

describe('fence races in network namespaces (integration, two_node, netns agent, root)', function () {
  this.timeout(900_000);
  const net = new NetnsLab(subnet);
  let lab: ClusterLab | undefined;
  const tries: Array<{ ok: boolean; startedMs: number; endedMs: number }> = [];

  const the = (): ClusterLab => lab as ClusterLab;
  const status = async (node: string): Promise<{ state?: string; deposed?: string; members: string[] } | undefined> => {
    try {
      const r = await controlRequest(the().socket(node), { op: 'status' }, 1000);
      if (!r.ok) return undefined;
      const s = r.result as { vrrp?: Array<{ state: string }>; cluster?: { deposed?: string; view: { members: string[] } } };
      return { ...(s.vrrp?.[0]?.state !== undefined ? { state: s.vrrp[0].state } : {}), ...(s.cluster?.deposed !== undefined ? { deposed: s.cluster.deposed } : {}), members: s.cluster?.view.members ?? [] };
    } catch {
      return undefined;
    }
  };
  const linkUp = (host: string): boolean => /<[^>]*\bUP\b[^>]*>/.test(execFileSync('ip', ['-n', net.ns(host), 'link', 'show', 'eth0'], { encoding: 'utf8' }));
  const hub = (...args: string[]): void => {
    execFileSync('ip', ['netns', 'exec', net.ns('hub'), 'nft', ...args], { stdio: 'pipe' });
  };
  const clear = async (at: string, target: string): Promise<void> => {
    const r = await controlRequest(the().socket(at), { op: 'fence', action: 'clear', target }, 2000);
    assert.ok(r.ok, JSON.stringify(r));
  };
  /** Both directors running as they should: d1 master, d2 backup, neither standing down, each seeing the other. */
  const steady = async (): Promise<void> => {
    let last = '';
    try {
      await waitFor('d1 master and d2 backup, together and cleared', async () => {
        const [a, b] = await Promise.all([status('d1'), status('d2')]);
        last = JSON.stringify({ d1: a, d2: b, links: { d1: linkUp('d1'), d2: linkUp('d2') } });
        return a?.state === 'master' && b?.state === 'backup' && a.deposed === undefined && b.deposed === undefined && a.members.length === 2 && b.members.length === 2 ? true : undefined;
      }, 20_000, 20);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${last}\n--- d1\n${the().log('d1').slice(-4000)}\n--- d2\n${the().log('d2').slice(-4000)}`);
    }
  };
  /** Puts a fenced director's link back and clears it, on both nodes. */
  const repair = async (node: string): Promise<void> => {
    net.link(node, 'up');
    await clear('d1', node);
    await clear('d2', node);
  };
  const servedSince = (sinceMs: number): number => tries.filter((t) => t.ok && t.startedMs > sinceMs).length;

  before(async function () {
    const why = netnsUnavailable() ?? (['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].some((p) => fs.existsSync(p)) ? undefined : 'needs nft (apt-get install nftables)');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    net.create({ d1: 1, d2: 2, cl: 3, rs: 4 });
    net.spawn('rs', process.execPath, ['-e', httpResponder, `${subnet}.4`, '8080']);
    lab = new ClusterLab(config(net.prefix));
    for (const d of ['d1', 'd2']) lab.start(d, ['ip', 'netns', 'exec', net.ns(d)]);
    // The hub's bridge filter that cuts d1 from d2 (and only that): off until a round sets it.
    hub('add', 'table', 'bridge', 'race');
    hub('add', 'chain', 'bridge', 'race', 'forward', '{ type filter hook forward priority 0; policy accept; }');
    await steady();
    collectTries(net.spawn('cl', process.execPath, ['-e', httpProber, VIP, '80', '50', String(1_000_000), '300']), tries);
    await waitFor('the client to be served', () => (servedSince(0) >= 5 ? true : undefined), 10_000);
  });

  after(async () => {
    await lab?.stop();
    net.destroy();
  });

  it(`${cuts} cut links: each ends with exactly one director fenced, and the VIP holder serving`, async () => {
    const started = Date.now();
    for (let round = 1; round <= cuts; round++) {
      await steady();
      const cutAt = Date.now();
      hub('add', 'rule', 'bridge', 'race', 'forward', 'iifname', 'v1', 'oifname', 'v2', 'drop');
      hub('add', 'rule', 'bridge', 'race', 'forward', 'iifname', 'v2', 'oifname', 'v1', 'drop');
      await waitFor(`round ${round}: a director fenced`, () => (!linkUp('d1') || !linkUp('d2') ? true : undefined), 10_000, 10);
      // Past the moment the loser would have fired back, had it not stood down.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + raceOverMs - Date.now())));
      const down = ['d1', 'd2'].filter((d) => !linkUp(d));
      assert.deepEqual(down, ['d2'], `round ${round}: fenced ${JSON.stringify(down)}`);
      await waitFor(`round ${round}: the client served by d1 after the cut`, () => (servedSince(cutAt + 100) >= 3 ? true : undefined), 5000, 20);
      hub('flush', 'chain', 'bridge', 'race', 'forward');
      await repair('d2');
    }
    const history = await the().fenceHistory('d1');
    assert.equal(history.filter((r) => r.target === 'd2' && r.origin === 'automatic' && r.result === 'success').length, cuts);
    assert.equal((await the().fenceHistory('d2')).filter((r) => r.result === 'success' && r.action !== 'clear').length, 0, 'd2 never fenced d1');
    console.log(`      (${cuts} cuts in ${((Date.now() - started) / 1000).toFixed(0)} s: d2 fenced each time, d1 never)`);
  });

  it(`${freezes} freezes of the master, short and long, resumed: never both fenced`, async () => {
    const pid = Number(fs.readFileSync(path.join(the().dir, 'd1.pid'), 'utf8'));
    const outcomes = new Map<string, number>();
    for (let round = 1; round <= freezes; round++) {
      await steady();
      // From shorter than deadtime to well past the fence and takeover.
      const forMs = 100 + Math.round(((round - 1) / Math.max(1, freezes - 1)) * 3000);
      process.kill(pid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, forMs));
      process.kill(pid, 'SIGCONT');
      await new Promise((resolve) => setTimeout(resolve, raceOverMs));
      const down = ['d1', 'd2'].filter((d) => !linkUp(d));
      assert.ok(down.length < 2, `round ${round} (frozen ${forMs} ms): both fenced`);
      const outcome = down.length === 0 ? 'neither fenced' : `${down[0]} fenced`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (down.includes('d1')) {
        assert.equal((await status('d2'))?.state, 'master', `round ${round}: d2 took over from the fenced d1`);
        await repair('d1');
      }
    }
    assert.equal(outcomes.has('d2 fenced'), false, `the survivor was fenced: ${JSON.stringify([...outcomes])}`);
    console.log(`      (${[...outcomes].map(([o, n]) => `${o}: ${n}`).join(', ')})`);
  });
});
