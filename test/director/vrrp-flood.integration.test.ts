// 100,000 hostile VRRP packets on a real wire at two running directors (hadirector, no
// cluster block, master and backup of one VRRPv3 instance) in network namespaces the test
// makes (root only). A third namespace sends them on a raw socket
// (test/support/vrrp-flood.ts): every kind of test/support/hostile-vrrp.ts that can
// cross a wire, paced by what the directors have counted so that no socket buffer
// overflows. Each packet must be counted under its reason at each director it reaches,
// nothing may move (master stays master, backup stays backup, the VIP stays where it
// was), and both daemons must still be running and still fail over at the end.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { controlRequest } from '../../src/director/control-client';
import type { WireInstanceStatus } from '../../src/director/wire-vrrp';
import type { WireSocketStatus } from '../../src/director/wire-carrier';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import { NetnsLab, netnsUnavailable } from '../../src/lab/netns';
import { vrrpMulticast4 } from '../../src/vrrp/wire/packet';
import { dropReasons, type DropReason } from '../../src/vrrp/wire/receive';
import { masterDownIntervalMs } from '../../src/vrrp/timing';
import { waitFor } from '../support/director-process';
import { hostileKinds, type Counted } from '../support/hostile-vrrp';
import { repoRoot } from '../support/paths';

const subnet = '10.216.0';
const VIP = `${subnet}.100`;
const vrid = 61;
const total = 100_000;
/** Packets per order: well below what a receive buffer holds, so none is lost before it is counted. */
const batch = 64;
const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;

type Director = 'd1' | 'd2';

interface Snapshot {
  readonly state: string;
  readonly stats: WireInstanceStatus['stats'];
  readonly drops: WireSocketStatus['drops'];
}

function conf(priority: number): string {
  return `vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id ${vrid}
    priority ${priority}
    advert_int 1
    version 3
    virtual_ipaddress {
        ${VIP}/24
    }
}
`;
}

/** Where a kind is counted, read from a snapshot. */
function countOf(s: Snapshot, counted: Counted): number {
  if (counted === 'some check') return dropReasons.reduce((sum, r) => sum + (s.stats[r] ?? 0) + (s.drops[r] ?? 0), 0);
  if (counted.startsWith('socket:')) return s.drops[counted.slice('socket:'.length) as DropReason] ?? 0;
  return s.stats[counted as DropReason] ?? 0;
}

describe('100,000 hostile VRRP packets on the wire at two running directors (integration, network namespaces, root)', function () {
  this.timeout(240_000);
  const net = new NetnsLab(subnet);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-flood-'));
  const running = new Map<Director, ChildProcess>();
  let flood: ChildProcess | undefined;

  before(function () {
    const why = netnsUnavailable();
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    net.create({ d1: 1, d2: 2, x: 9 });
  });

  after(() => {
    flood?.kill('SIGKILL');
    net.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(who: Director, priority: number): void {
    const file = path.join(dir, `${who}.conf`);
    fs.writeFileSync(file, conf(priority));
    running.set(who, net.spawn(who, process.execPath, [path.join(repoRoot(), 'bin', 'hadirector'), 'run', '-f', file, '--node', who, '--control', path.join(dir, `${who}.sock`), '--pid-file', path.join(dir, `${who}.pid`)]));
  }

  async function snapshot(who: Director): Promise<Snapshot> {
    const r = await controlRequest(path.join(dir, `${who}.sock`), { op: 'status' }, 2000);
    if (!r.ok) throw new Error(`${who}: status: ${JSON.stringify(r)}`);
    const status = r.result as { vrrp: WireInstanceStatus[]; vrrpSockets: WireSocketStatus[] };
    const vi = status.vrrp[0] as WireInstanceStatus;
    return { state: vi.state, stats: vi.stats, drops: status.vrrpSockets[0]?.drops ?? {} };
  }

  const holds = (who: Director): boolean => net.addresses(who).includes(`${VIP}/24`);

  it('every packet is counted under its reason at each director it reaches; nothing moves; the pair still fails over', async () => {
    start('d1', 150);
    await waitFor('d1 to be master', async () => ((await snapshot('d1').catch(() => undefined))?.state === 'master' && holds('d1') ? true : undefined), masterDownIntervalMs(3, 1000, 150) + 10_000, 50);
    start('d2', 100);
    await waitFor('d2 to be backup and hear d1', async () => {
      const s = await snapshot('d2').catch(() => undefined);
      return s?.state === 'backup' && (s.stats.advert_rcvd ?? 0) >= 2 ? true : undefined;
    }, 10_000, 50);

    const addresses = { stranger: `${subnet}.66`, group: vrrpMulticast4, vip: VIP, vrid };
    flood = spawn('ip', ['netns', 'exec', net.ns('x'), process.execPath, path.join(repoRoot(), 'build', 'test', 'support', 'vrrp-flood.js'), 'eth0', JSON.stringify(addresses)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let floodErrors = '';
    flood.stderr?.on('data', (d: Buffer) => (floodErrors += d.toString()));
    const replies = readline.createInterface({ input: flood.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    const order = async (kind: number, count: number, seed: number, me: string): Promise<void> => {
      flood?.stdin?.write(`${JSON.stringify({ kind, count, seed, me })}\n`);
      const reply = await Promise.race([replies.next(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the flood sender did not answer: ${floodErrors}`)), 10_000))]);
      const answer = JSON.parse(String(reply.value)) as { sent: number; failed: number; error: string };
      assert.equal(answer.failed, 0, `the flood sender could not send: ${answer.error}`);
    };

    const kinds = hostileKinds({ stranger: ip(addresses.stranger), group: ip(vrrpMulticast4), me: ip(net.address('d1')), vrid, vip: ip(VIP) })
      .map((k, index) => ({ ...k, index }))
      .filter((k) => k.onTheWire);
    const perKind = Math.floor(total / kinds.length);
    let sentTotal = 0;
    const t0 = Date.now();
    for (const [k, kind] of kinds.entries()) {
      const count = k === kinds.length - 1 ? total - perKind * (kinds.length - 1) : perKind;
      const unicast = kind.counted === 'addr_list_err';
      const before = { d1: await snapshot('d1'), d2: await snapshot('d2') };
      // Multicast reaches both directors; the unicast kind goes half to each.
      const expected = { d1: 0, d2: 0 };
      for (let sent = 0, seed = 1; sent < count; seed++) {
        const n = Math.min(batch, count - sent);
        const to: Director = unicast && sent >= count / 2 ? 'd2' : 'd1';
        await order(kind.index, n, k * 1_000_000 + seed, net.address(to));
        sent += n;
        if (unicast) expected[to] += n;
        else {
          expected.d1 += n;
          expected.d2 += n;
        }
        await waitFor(`${kind.name}: ${sent} of ${count} counted at both`, async () => {
          const now = { d1: await snapshot('d1'), d2: await snapshot('d2') };
          return (['d1', 'd2'] as const).every((d) => countOf(now[d], kind.counted) - countOf(before[d], kind.counted) >= expected[d]) ? now : undefined;
        }, 5000, 5);
      }
      const after = { d1: await snapshot('d1'), d2: await snapshot('d2') };
      for (const d of ['d1', 'd2'] as const) {
        assert.equal(countOf(after[d], kind.counted) - countOf(before[d], kind.counted), expected[d], `${kind.name} at ${d}: each counted once, as ${kind.counted}`);
      }
      assert.deepEqual([after.d1.state, after.d2.state, holds('d1'), holds('d2')], ['master', 'backup', true, false], `${kind.name}: nothing moved`);
      console.log(`      (${kind.name}: ${count} sent, counted as ${kind.counted}: d1 +${expected.d1}, d2 +${expected.d2})`);
      sentTotal += count;
    }
    const tookS = (Date.now() - t0) / 1000;
    console.log(`      (${sentTotal} hostile packets in ${tookS.toFixed(1)} s, ${Math.round(sentTotal / tookS)} per second, each counted; d1 still master, d2 still backup)`);
    assert.equal(sentTotal, total);
    flood.stdin?.end();

    for (const [who, child] of running) assert.equal(child.exitCode, null, `${who} is still running`);
    // And the pair still works: d1 killed, d2 takes over.
    const killedAt = Date.now();
    process.kill(-(running.get('d1')?.pid as number), 'SIGKILL');
    await waitFor('d2 to take over', async () => ((await snapshot('d2')).state === 'master' && holds('d2') ? true : undefined), masterDownIntervalMs(3, 1000, 100) + 5000, 20);
    console.log(`      (after the flood, d1 killed: d2 holds ${VIP} after ${Date.now() - killedAt} ms)`);
  });
});
