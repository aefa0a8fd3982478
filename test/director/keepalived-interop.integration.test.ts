// hadirector and Debian's keepalived as one VRRP pair, with no cluster block, in network
// namespaces the test makes (root only, keepalived installed): keepalived master and
// hadirector backup, then the other way round, each killed (kill -9: the backup takes
// over within Master_Down_Interval) and each stopped cleanly (priority 0: within the skew
// time); preempt and nopreempt as keepalived does them; VRRP version 2 with PASS, and
// version 3; use_vmac on both. The client's neighbour entry for the VIP follows the VIP every
// time. Then the
// same pair with a cluster block on the hadirector side (itself and a witness): it elects
// and fails over as keepalived does, never fences keepalived, and takes over only with
// quorum; and a keepalived pair migrated to a cluster of three one director at a time, as
// docs/migrating-from-keepalived.md says.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../support/director-process';
import { controlRequest } from '../../src/director/control-client';
import type { WireInstanceStatus } from '../../src/director/wire-vrrp';
import { NetnsLab, netnsUnavailable } from '../../src/lab/netns';
import { masterDownIntervalMs, skewTimeMs } from '../../src/vrrp/timing';
import { repoRoot } from '../support/paths';

const subnet = '10.214.0';
const VIP = `${subnet}.100`;
/** use_vmac's macvlan for VRID 61, and its MAC (RFC 5798 §7.3). */
const vmacName = 'vrrp.61';
const vmacMac = '00:00:5e:00:01:3d';
const keepalivedPaths = ['/usr/sbin/keepalived', '/sbin/keepalived', '/usr/bin/keepalived'];
/** What process start-up, iproute2 and the polling add to a takeover, at most. */
const marginMs = 700;
/** VRRPv3's advert interval here: sub-second, as v3 allows (v2 counts whole seconds). */
const v3AdvertS = 0.5;

interface Pair {
  readonly version: 2 | 3;
  readonly advertS: number;
  readonly ka: Side;
  readonly hd: Side;
  /** Adverts go unicast to the other side (unicast_src_ip, unicast_peer). */
  readonly unicast?: boolean;
}

type Who = 'ka' | 'hd' | 'w';
/** No cluster block; hadirector's side in a cluster of its own, itself and a witness (keepalived is no node of it); or all three. */
type Block = 'none' | 'hd+w' | 'all';

const clusterBlock = (block: Block): string => (block === 'none' ? '' : `cluster {
    cluster_id mixed
    auth_key_file cluster.key
    heartbeat_interval 200ms
    deadtime 1s
    initdead 1s
    vip_driver linux
${block === 'all' ? `    node ka {\n        address ${subnet}.1\n    }\n` : ''}    node hd {
        address ${subnet}.2
    }
    node w {
        address ${subnet}.4
        witness
    }
}
`);

interface Side {
  readonly priority: number;
  readonly nopreempt?: boolean;
  readonly checksumAsV2?: boolean;
  readonly vmac?: boolean;
  /** old_unicast_checksum: unicast v3 checksums with the group in the pseudo-header. */
  readonly oldUnicastChecksum?: boolean;
}

const hostNumber = { ka: 1, hd: 2 } as const;

function instance(pair: Pair, who: 'ka' | 'hd'): string {
  const { version, advertS } = pair;
  const me = pair[who];
  const other = who === 'ka' ? 'hd' : 'ka';
  const flags = [me.nopreempt === true && 'nopreempt', me.vmac === true && 'use_vmac', me.checksumAsV2 === true && 'v3_checksum_as_v2', me.oldUnicastChecksum === true && 'old_unicast_checksum'].filter((f) => f !== false);
  const unicast = pair.unicast === true ? `    unicast_src_ip ${subnet}.${hostNumber[who]}\n    unicast_peer {\n        ${subnet}.${hostNumber[other]}\n    }\n` : '';
  return `vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority ${me.priority}
    advert_int ${advertS}
    version ${version}
${flags.map((f) => `    ${f}\n`).join('')}${unicast}${version === 2 ? '    authentication {\n        auth_type PASS\n        auth_pass s3cr3t\n    }\n' : ''}    virtual_ipaddress {
        ${VIP}/24
    }
}
`;
}

describe('hadirector and keepalived as one VRRP pair (integration, network namespaces, root)', function () {
  this.timeout(180_000);
  const net = new NetnsLab(subnet);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-ka-'));
  const running = new Map<Who, ChildProcess>();

  before(function () {
    const why = netnsUnavailable() ?? (keepalivedPaths.some((p) => fs.existsSync(p)) ? undefined : 'needs keepalived (apt-get install keepalived)');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    net.create({ ka: 1, hd: 2, cl: 3, w: 4 });
    fs.copyFileSync(path.join(repoRoot(), 'config', 'cluster.key'), path.join(dir, 'cluster.key'));
  });

  after(() => {
    net.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    for (const who of ['ka', 'hd', 'w'] as const) await crash(who);
  });

  /** Host ka runs keepalived and hd hadirector, unless `hadirectorOnKa` (the last steps of a migration). */
  function start(who: 'ka' | 'hd', pair: Pair, block: Block = 'none', hadirectorOnKa = false): void {
    const file = path.join(dir, `${who}.conf`);
    fs.writeFileSync(file, `global_defs {\n    router_id ${who}\n}\n${clusterBlock(block)}${instance(pair, who)}`);
    // A killed keepalived leaves its pid files; a pid since reused by another process would make it refuse to start.
    if (who === 'ka') for (const f of ['ka.pid', 'ka-vrrp.pid']) fs.rmSync(path.join(dir, f), { force: true });
    running.set(who, who === 'ka' && !hadirectorOnKa ? net.spawn('ka', 'keepalived', ['-n', '-l', '-D', '-P', '-f', file, '-p', path.join(dir, 'ka.pid'), '-r', path.join(dir, 'ka-vrrp.pid')]) : startHadirector(who, file));
  }

  function startHadirector(who: Who, file: string): ChildProcess {
    return net.spawn(who, process.execPath, [path.join(repoRoot(), 'bin', 'hadirector'), 'run', '-f', file, '--node', who, '--control', path.join(dir, `${who}.sock`), '--pid-file', path.join(dir, `${who}.pid`)]);
  }

  /** The witness of hadirector's cluster, with its own file. */
  function startWitness(block: Block = 'hd+w'): void {
    const file = path.join(dir, 'w.conf');
    fs.writeFileSync(file, clusterBlock(block));
    running.set('w', startHadirector('w', file));
  }

  /** A killed director's host is gone with it: its addresses and its VMAC too. */
  async function crash(who: Who): Promise<void> {
    await stop(who, 'SIGKILL');
    execFileSync('ip', ['-n', net.ns(who), 'addr', 'flush', 'dev', 'eth0', 'to', `${VIP}/32`], { stdio: 'pipe' });
    spawnSync('ip', ['-n', net.ns(who), 'link', 'del', 'dev', vmacName], { stdio: 'pipe' });
  }

  async function stop(who: Who, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = running.get(who);
    running.delete(who);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    // SIGKILL takes the whole group (keepalived's VRRP child too); SIGTERM goes to the daemon, which stops cleanly.
    if (signal === 'SIGKILL') process.kill(-child.pid, 'SIGKILL');
    else signalDaemon(who, signal);
    await gone;
  }

  /** The daemon itself (not `ip netns exec`), by its pid file. */
  function signalDaemon(who: Who, signal: NodeJS.Signals): void {
    const pid = Number(fs.readFileSync(path.join(dir, `${who}.pid`), 'utf8').trim());
    process.kill(pid, signal);
  }

  const holds = (who: string): boolean => net.addresses(who).includes(`${VIP}/24`);
  const holder = (): string => ['ka', 'hd'].filter(holds).join('+') || 'none';

  /** Waits until `who` alone holds the VIP; how long that took since `t0`. */
  async function heldBy(who: 'ka' | 'hd', deadlineMs: number, t0 = Date.now()): Promise<number> {
    try {
      await waitFor(`${who} alone to hold ${VIP}`, () => (holder() === who ? true : undefined), deadlineMs, 20);
    } catch (err) {
      const logs = [...running].map(([name, child]) => `--- ${name}:\n${net.outputOf(child).split('\n').slice(-15).join('\n')}`).join('\n');
      throw new Error(`${(err as Error).message} (now: ${holder()})\n${logs}`);
    }
    return Date.now() - t0;
  }

  /** Stops `from` cleanly (SIGTERM: priority 0); how long until `to` alone holds the VIP, from the signal. */
  async function handOver(from: 'ka' | 'hd', to: 'ka' | 'hd'): Promise<number> {
    const t0 = Date.now();
    const stopping = stop(from, 'SIGTERM');
    const took = await heldBy(to, 5000, t0);
    await stopping;
    return took;
  }

  /** The client's neighbour entry for the VIP: it must be the holder's MAC once the holder announced itself. */
  async function clientFollows(who: 'ka' | 'hd'): Promise<void> {
    const mac = net.mac(who);
    await waitFor(`the client's neighbour entry for ${VIP} to be ${who}'s (${mac})`, () => (net.neighbour('cl', VIP) === mac ? true : undefined), 5000, 20);
  }

  function primeClient(): void {
    // An entry the gratuitous ARP of the next master must update (the kernel does not create one from it).
    net.setNeighbour('cl', VIP, '02:00:00:00:00:01');
  }

  for (const version of [2, 3] as const) {
    const advertS = version === 3 ? v3AdvertS : 1;
    const mdi = (priority: number) => masterDownIntervalMs(version, advertS * 1000, priority);
    const skew = (priority: number) => skewTimeMs(version, advertS * 1000, priority);

    it(`v${version}: keepalived master, hadirector backup: kill -9 keepalived, hadirector takes over within Master_Down_Interval; SIGTERM hadirector, keepalived back within the skew time`, async () => {
      const pair: Pair = { version, advertS, ka: { priority: 150 }, hd: { priority: 100 } };
      primeClient();
      start('ka', pair);
      await heldBy('ka', 10_000);
      start('hd', pair);
      await waitFor('hadirector to be backup', () => (/VI_1: INIT -> BACKUP/.test(net.outputOf(running.get('hd') as ChildProcess)) ? true : undefined), 10_000, 20);
      await clientFollows('ka');
      // Let hadirector hear a few adverts and stay backup.
      await new Promise((resolve) => setTimeout(resolve, 3 * advertS * 1000));
      assert.equal(holder(), 'ka');
      const crashedAt = Date.now();
      await crash('ka');
      const took = await heldBy('hd', mdi(100) + 5000, crashedAt);
      console.log(`      (v${version}: keepalived killed: hadirector holds the VIP after ${took} ms; Master_Down_Interval ${mdi(100).toFixed(0)} ms)`);
      assert.ok(took <= mdi(100) + marginMs, `took ${took} ms`);
      await clientFollows('hd');
      // keepalived returns at the lower priority (it preempts only a lower one): hadirector keeps the VIP...
      start('ka', { ...pair, ka: { priority: 90 } });
      await new Promise((resolve) => setTimeout(resolve, mdi(90) + 1000));
      assert.equal(holder(), 'hd', 'a lower priority keepalived stays backup');
      // ...until it stops cleanly: priority 0, keepalived takes over at its skew time.
      const back = await handOver('hd', 'ka');
      console.log(`      (v${version}: hadirector stopped (priority 0): keepalived holds the VIP after ${back} ms; skew time ${skew(90).toFixed(0)} ms)`);
      assert.ok(back <= skew(90) + marginMs, `took ${back} ms`);
      await clientFollows('ka');
    });

    it(`v${version}: hadirector master, keepalived backup: kill -9 hadirector, keepalived takes over within Master_Down_Interval; hadirector preempts it; SIGTERM keepalived, hadirector takes over within the skew time`, async () => {
      const pair: Pair = { version, advertS, ka: { priority: 100 }, hd: { priority: 150 } };
      primeClient();
      start('hd', pair);
      await heldBy('hd', 10_000);
      start('ka', pair);
      await new Promise((resolve) => setTimeout(resolve, 3 * advertS * 1000));
      assert.equal(holder(), 'hd', 'keepalived stays backup');
      await clientFollows('hd');
      const crashedAt = Date.now();
      await crash('hd');
      const took = await heldBy('ka', mdi(100) + 5000, crashedAt);
      console.log(`      (v${version}: hadirector killed: keepalived holds the VIP after ${took} ms; Master_Down_Interval ${mdi(100).toFixed(0)} ms)`);
      assert.ok(took <= mdi(100) + marginMs, `took ${took} ms`);
      await clientFollows('ka');
      // hadirector returns at the higher priority and preempts (keepalived's default).
      start('hd', pair);
      const preempted = await heldBy('hd', mdi(150) + 5000);
      console.log(`      (v${version}: hadirector back at priority 150 preempts keepalived after ${preempted} ms)`);
      await clientFollows('hd');
      const back = await handOver('hd', 'ka');
      console.log(`      (v${version}: hadirector stopped (priority 0): keepalived holds the VIP after ${back} ms; skew time ${skew(100).toFixed(0)} ms)`);
      assert.ok(back <= skew(100) + marginMs, `took ${back} ms`);
      await clientFollows('ka');
      // keepalived holds; hadirector returns lower and waits; keepalived stops cleanly: priority 0.
      start('hd', { ...pair, hd: { priority: 50 } });
      await new Promise((resolve) => setTimeout(resolve, mdi(50) + 1000));
      assert.equal(holder(), 'ka', 'a lower priority hadirector stays backup');
      const released = await handOver('ka', 'hd');
      console.log(`      (v${version}: keepalived stopped (priority 0): hadirector holds the VIP after ${released} ms; skew time ${skew(50).toFixed(0)} ms)`);
      assert.ok(released <= skew(50) + marginMs, `took ${released} ms`);
      await clientFollows('hd');
    });
  }

  it('nopreempt on both: a returning higher priority (either daemon) stays backup while the other holds', async () => {
    const pair: Pair = { version: 3, advertS: v3AdvertS, ka: { priority: 100, nopreempt: true }, hd: { priority: 150, nopreempt: true } };
    start('ka', pair);
    await heldBy('ka', 10_000);
    start('hd', pair);
    await new Promise((resolve) => setTimeout(resolve, masterDownIntervalMs(3, v3AdvertS * 1000, 150) + 2000));
    assert.equal(holder(), 'ka', 'hadirector (150, nopreempt) does not take it from keepalived (100)');
    await crash('ka');
    await heldBy('hd', 10_000);
    const kaHigh: Pair = { ...pair, ka: { priority: 200, nopreempt: true } };
    start('ka', kaHigh);
    await new Promise((resolve) => setTimeout(resolve, masterDownIntervalMs(3, v3AdvertS * 1000, 200) + 2000));
    assert.equal(holder(), 'hd', 'keepalived (200, nopreempt) does not take it from hadirector (150)');
  });

  it('v3 checksums without the pseudo-header (v3_checksum_as_v2, which keepalived 2.2.7 does not know): keepalived counts them as bad, hadirector still hears keepalived', async () => {
    const stats = async (): Promise<WireInstanceStatus['stats'] | undefined> => {
      const r = await controlRequest(path.join(dir, 'hd.sock'), { op: 'status' }, 2000);
      return r.ok ? (r.result as { vrrp: WireInstanceStatus[] }).vrrp[0]?.stats : undefined;
    };
    const pair: Pair = { version: 3, advertS: v3AdvertS, ka: { priority: 150 }, hd: { priority: 200, checksumAsV2: true } };
    start('ka', pair);
    await heldBy('ka', 10_000);
    start('hd', pair);
    // hadirector (200) takes over from keepalived; keepalived, finding every advert's checksum wrong, never hears it.
    const kaLog = () => net.outputOf(running.get('ka') as ChildProcess);
    await waitFor('keepalived to find hadirector\'s checksum wrong', () => (/Invalid VRRPv3 checksum/.test(kaLog()) ? true : undefined), 10_000, 50);
    const heard = await waitFor('hadirector to hear keepalived', async () => (((await stats().catch(() => undefined))?.advert_rcvd ?? 0) >= 2 ? stats() : undefined), 10_000, 100);
    console.log(`      (hadirector without the pseudo-header: keepalived logs "Invalid VRRPv3 checksum"; hadirector heard ${heard?.advert_rcvd} of keepalived's adverts, chk_err ${heard?.chk_err})`);
    assert.equal(heard?.chk_err, 0, 'with v3_checksum_as_v2 received checksums are not checked, as in keepalived');
  });

  it("unicast v3 with keepalived's old_unicast_checksum (the group in the pseudo-header): hadirector hears it, answers in it, as keepalived does, and each backs up the other", async () => {
    const stats = async (): Promise<WireInstanceStatus['stats'] | undefined> => {
      const r = await controlRequest(path.join(dir, 'hd.sock'), { op: 'status' }, 2000).catch(() => undefined);
      return r?.ok === true ? (r.result as { vrrp: WireInstanceStatus[] }).vrrp[0]?.stats : undefined;
    };
    const pair: Pair = { version: 3, advertS: v3AdvertS, unicast: true, ka: { priority: 150, oldUnicastChecksum: true }, hd: { priority: 100 } };
    const hdLog = () => net.outputOf(running.get('hd') as ChildProcess);
    start('ka', pair);
    await heldBy('ka', 10_000);
    start('hd', pair);
    await waitFor('hadirector to take up the old form', () => (/VI_1: 10\.214\.0\.1 sends the old unicast VRRPv3 checksum/.test(hdLog()) ? true : undefined), 10_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 4 * v3AdvertS * 1000));
    assert.equal(holder(), 'ka');
    const heard = await stats();
    assert.ok((heard?.advert_rcvd ?? 0) >= 3, 'hadirector hears keepalived');
    assert.equal(heard?.chk_err, 0);
    const crashedAt = Date.now();
    await crash('ka');
    const took = await heldBy('hd', masterDownIntervalMs(3, v3AdvertS * 1000, 100) + 5000, crashedAt);
    assert.ok(took <= masterDownIntervalMs(3, v3AdvertS * 1000, 100) + marginMs, `took ${took} ms`);
    // keepalived back at 150 hears hadirector's adverts (now in the old form) and preempts it.
    start('ka', pair);
    const preempted = await heldBy('ka', masterDownIntervalMs(3, v3AdvertS * 1000, 150) + 5000);
    const kaLog = net.outputOf(running.get('ka') as ChildProcess);
    console.log(`      (old_unicast_checksum: hadirector heard ${heard?.advert_rcvd} adverts, chk_err 0; took over after ${took} ms; keepalived back preempted after ${preempted} ms, its invalid checksums: ${(kaLog.match(/Invalid VRRPv3 checksum/g) ?? []).length})`);
    assert.doesNotMatch(kaLog, /Invalid VRRPv3 checksum/, "keepalived finds hadirector's adverts in its own form");
  });

  it(`use_vmac on both: the VIP lives on ${vmacName} with MAC ${vmacMac}; the client's neighbour entry is the VMAC after every takeover and the client reaches the VIP across kill -9, preemption and SIGTERM`, async () => {
    const pair: Pair = { version: 3, advertS: v3AdvertS, ka: { priority: 150, vmac: true }, hd: { priority: 100, vmac: true } };
    const mdi = masterDownIntervalMs(3, v3AdvertS * 1000, 100);
    const onVmac = (who: 'ka' | 'hd'): boolean => net.addresses(who, 4, vmacName).includes(`${VIP}/24`);
    const vmacHolder = (): string => (['ka', 'hd'] as const).filter(onVmac).join('+') || 'none';
    const heldOnVmac = async (who: 'ka' | 'hd', deadlineMs: number, t0 = Date.now()): Promise<number> => {
      await waitFor(`${who} alone to hold ${VIP} on ${vmacName} (now: ${vmacHolder()})`, () => (vmacHolder() === who && holder() === 'none' ? true : undefined), deadlineMs, 20);
      return Date.now() - t0;
    };
    const clientOnVmac = (): Promise<unknown> => waitFor(`the client's neighbour entry for ${VIP} to be the VMAC (now ${net.neighbour('cl', VIP)})`, () => (net.neighbour('cl', VIP) === vmacMac ? true : undefined), 5000, 20);
    // A TCP SYN to a closed port: the holder's RST ("Connection refused") shows the client reached the VIP.
    const reaches = (): boolean => /Connection refused/.test(spawnSync('ip', ['netns', 'exec', net.ns('cl'), 'timeout', '2', 'bash', '-c', `echo > /dev/tcp/${VIP}/9`], { encoding: 'utf8' }).stderr);
    /** Reaches the VIP from the client, the holder knowing no neighbour: its reply needs an ARP request first. */
    const clientReaches = async (holder: 'ka' | 'hd'): Promise<void> => {
      spawnSync('ip', ['-n', net.ns(holder), 'neigh', 'flush', 'all']);
      await waitFor(`the client to reach ${VIP} on ${holder}`, () => (reaches() ? true : undefined), 5000, 50);
    };
    const conf = (who: 'ka' | 'hd', key: string): string => execFileSync('ip', ['netns', 'exec', net.ns(who), 'cat', `/proc/sys/net/ipv4/conf/eth0/${key}`], { encoding: 'utf8' }).trim();
    const hdBefore = [conf('hd', 'arp_ignore'), conf('hd', 'arp_announce')];

    primeClient();
    start('ka', pair);
    await heldOnVmac('ka', 10_000);
    start('hd', pair);
    await waitFor('hadirector to be backup', () => (/VI_1: INIT -> BACKUP/.test(net.outputOf(running.get('hd') as ChildProcess)) ? true : undefined), 10_000, 20);
    await clientOnVmac();
    await clientReaches('ka');
    // keepalived's reply goes out by eth0 after an ARP request that names the VIP as its sender: the client may take eth0's MAC.
    console.log(`      (use_vmac: the client reached keepalived's VIP; its entry then: ${net.neighbour('cl', VIP) === vmacMac ? 'the VMAC' : `keepalived's eth0 MAC ${net.neighbour('cl', VIP)}`})`);
    const link = JSON.parse(execFileSync('ip', ['-n', net.ns('hd'), '-d', '-j', 'link', 'show', 'dev', vmacName], { encoding: 'utf8' }))[0] as { address: string; link: string; linkinfo: { info_kind: string; info_data: { mode: string } } };
    assert.deepEqual([link.address, link.link, link.linkinfo.info_kind, link.linkinfo.info_data.mode], [vmacMac, 'eth0', 'macvlan', 'private'], "hadirector's VMAC is keepalived's");
    assert.deepEqual([conf('hd', 'arp_ignore'), conf('hd', 'arp_announce')], ['1', '2'], 'the base interface answers no ARP for the VIP and never names it in its own requests');

    const crashedAt = Date.now();
    await crash('ka');
    const took = await heldOnVmac('hd', mdi + 5000, crashedAt);
    await clientOnVmac();
    await clientReaches('hd');
    console.log(`      (use_vmac: keepalived killed: hadirector holds ${VIP} on ${vmacName} after ${took} ms (Master_Down_Interval ${mdi.toFixed(0)} ms); the client reaches it, its entry still ${net.neighbour('cl', VIP)})`);
    assert.ok(took <= mdi + marginMs, `took ${took} ms`);
    assert.equal(net.neighbour('cl', VIP), vmacMac, "hadirector's ARP request before its reply does not teach the client eth0's MAC for the VIP");

    start('ka', pair);
    const preempted = await heldOnVmac('ka', masterDownIntervalMs(3, v3AdvertS * 1000, 150) + 5000);
    await clientOnVmac();
    await clientReaches('ka');
    console.log(`      (use_vmac: keepalived back at 150 preempts after ${preempted} ms; the client's entry was the VMAC and the client reaches it)`);

    await stop('hd', 'SIGTERM');
    assert.equal(spawnSync('ip', ['-n', net.ns('hd'), 'link', 'show', 'dev', vmacName], { stdio: 'ignore' }).status === 0, false, `hadirector deletes ${vmacName} when it stops`);
    assert.deepEqual([conf('hd', 'arp_ignore'), conf('hd', 'arp_announce')], hdBefore, "eth0's ARP settings are put back");
  });

  describe('with a cluster block on the hadirector side (itself and a witness)', () => {
    const mdi = (priority: number) => masterDownIntervalMs(3, v3AdvertS * 1000, priority);
    const hdLog = () => net.outputOf(running.get('hd') as ChildProcess);
    const fenceHistory = async (who: Who = 'hd'): Promise<unknown[]> => {
      const r = await controlRequest(path.join(dir, `${who}.sock`), { op: 'fence', action: 'history' }, 2000);
      return r.ok ? (r.result as unknown[]) : [];
    };
    /** Both of hadirector's nodes started, and the cluster quorate. */
    async function startCluster(pair: Pair): Promise<void> {
      start('hd', pair, 'hd+w');
      startWitness();
      await waitFor('hadirector\'s cluster to be quorate', () => (/view \d+: \[hd, w\] quorate/.test(hdLog()) ? true : undefined), 10_000, 20);
    }

    it('keepalived master, hadirector backup: kill -9 keepalived, hadirector takes over within Master_Down_Interval and fences no one', async () => {
      const pair: Pair = { version: 3, advertS: v3AdvertS, ka: { priority: 150 }, hd: { priority: 100 } };
      primeClient();
      start('ka', pair);
      await heldBy('ka', 10_000);
      await startCluster(pair);
      assert.match(hdLog(), /cluster mixed: quorum and fencing among hd, w \(witness\); VRRP on the wire too, on eth0 \(IPv4 224\.0\.0\.18\): a VRRP router there that is no node of the cluster \(a keepalived director\) is followed as keepalived would follow it, and is never fenced/);
      await waitFor('hadirector to tell the keepalived router apart', () => (/VI_1: 10\.214\.0\.1 speaks VRRP on the wire and is no node of the cluster/.test(hdLog()) ? true : undefined), 10_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(holder(), 'ka');
      const crashedAt = Date.now();
      await crash('ka');
      const took = await heldBy('hd', mdi(100) + 5000, crashedAt);
      console.log(`      (cluster block: keepalived killed: hadirector holds the VIP after ${took} ms; Master_Down_Interval ${mdi(100).toFixed(0)} ms)`);
      assert.ok(took <= mdi(100) + marginMs, `took ${took} ms`);
      await clientFollows('hd');
      assert.deepEqual(await fenceHistory(), [], 'keepalived is no node: nothing is fenced');
    });

    it('hadirector master, keepalived backup: SIGTERM hadirector, keepalived takes over within the skew time; keepalived preempts a lower hadirector', async () => {
      const pair: Pair = { version: 3, advertS: v3AdvertS, ka: { priority: 100 }, hd: { priority: 150 } };
      primeClient();
      await startCluster(pair);
      await heldBy('hd', 10_000);
      start('ka', pair);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(holder(), 'hd', 'keepalived stays backup');
      await clientFollows('hd');
      const back = await handOver('hd', 'ka');
      console.log(`      (cluster block: hadirector stopped (priority 0): keepalived holds the VIP after ${back} ms; skew time ${skewTimeMs(3, v3AdvertS * 1000, 100).toFixed(0)} ms)`);
      assert.ok(back <= skewTimeMs(3, v3AdvertS * 1000, 100) + marginMs, `took ${back} ms`);
      await clientFollows('ka');
      // keepalived at 200 against hadirector at 150 back: hadirector stays backup.
      await stop('ka', 'SIGTERM');
      start('hd', pair, 'hd+w');
      await heldBy('hd', 10_000);
      start('ka', { ...pair, ka: { priority: 200 } });
      const preempted = await heldBy('ka', mdi(200) + 5000);
      console.log(`      (cluster block: keepalived at a higher priority preempts hadirector after ${preempted} ms)`);
    });

    it('without quorum (its witness gone) hadirector takes nothing from a dead keepalived master', async () => {
      const pair: Pair = { version: 3, advertS: v3AdvertS, ka: { priority: 150 }, hd: { priority: 100 } };
      start('ka', pair);
      await heldBy('ka', 10_000);
      await startCluster(pair);
      await stop('w', 'SIGKILL');
      await waitFor('hadirector to lose quorum', () => (/view \d+: \[hd\] WITHOUT QUORUM/.test(hdLog()) ? true : undefined), 10_000, 20);
      await crash('ka');
      await new Promise((resolve) => setTimeout(resolve, mdi(100) + 2000));
      assert.equal(holder(), 'none', 'no quorum, no takeover');
    });

    it('a keepalived pair migrated one director at a time, as docs/migrating-from-keepalived.md says: one holder throughout, two hand-overs within the skew time, no one fenced, one cluster of three at the end', async () => {
      const pair: Pair = { version: 3, advertS: 1, ka: { priority: 150 }, hd: { priority: 100 } };
      const members = async (who: Who): Promise<string> => {
        const r = await controlRequest(path.join(dir, `${who}.sock`), { op: 'status' }, 1000).catch(() => undefined);
        const s = r?.ok === true ? (r.result as { cluster?: { view: { members: string[]; quorate: boolean } } }).cluster : undefined;
        return s === undefined ? '' : `${s.view.members.join(',')}${s.view.quorate ? ' quorate' : ''}`;
      };
      const view = (who: Who, expected: string): Promise<unknown> => waitFor(`${who}'s view to be ${expected}`, async () => ((await members(who)) === expected ? true : undefined), 15_000, 50);
      const noFences = async (...at: Who[]): Promise<void> => {
        for (const who of at) assert.deepEqual(await fenceHistory(who), [], `${who} fenced no one`);
      };
      const doubles: string[] = [];
      const sampler = setInterval(() => {
        if (holder() === 'ka+hd') doubles.push(new Date().toISOString());
      }, 100);
      sampler.unref();
      // A keepalived pair, hadirector already in place of its backup (the first steps of the guide).
      primeClient();
      start('ka', pair);
      await heldBy('ka', 10_000);
      start('hd', pair);
      await waitFor('hadirector to be backup', () => (/VI_1: INIT -> BACKUP/.test(net.outputOf(running.get('hd') as ChildProcess)) ? true : undefined), 10_000, 20);

      // 1. hd and the witness w get a cluster of their own; hd, a backup, is restarted.
      startWitness('hd+w');
      await stop('hd', 'SIGTERM');
      start('hd', pair, 'hd+w');
      await view('hd', 'hd,w quorate');
      // 2. w is given the full block (ka listed, still keepalived) and restarted.
      await stop('w', 'SIGTERM');
      startWitness('all');
      await view('w', 'hd,w quorate');
      await view('hd', 'hd,w quorate');
      await new Promise((resolve) => setTimeout(resolve, 5000));
      assert.equal(holder(), 'ka', 'keepalived keeps the VIP through steps 1 and 2');
      await noFences('hd', 'w');

      // 3. keepalived on ka is stopped (priority 0: hd takes over, with quorum) and replaced by hadirector with the full block.
      const first = await handOver('ka', 'hd');
      start('ka', pair, 'all', true);
      await view('ka', 'ka,w quorate');
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      assert.equal(holder(), 'hd', "ka (150) waits: hd is a node it cannot yet know is safe, heard only on the wire");
      assert.match(net.outputOf(running.get('ka') as ChildProcess), /node hd is heard on the wire/);
      await noFences('ka', 'hd', 'w');

      // 4. hd is given the full block and restarted: a clean stop, then it joins.
      const second = await handOver('hd', 'ka');
      start('hd', pair, 'all');
      await view('hd', 'hd,ka,w quorate');
      await view('ka', 'hd,ka,w quorate');
      await view('w', 'hd,ka,w quorate');
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(holder(), 'ka');
      await clientFollows('ka');
      await noFences('ka', 'hd', 'w');
      clearInterval(sampler);
      assert.deepEqual(doubles, [], 'never two holders');
      console.log(`      (migration: keepalived stopped, hd holds the VIP after ${first} ms; hd restarted with the full block, ka holds it after ${second} ms; skew times ${skewTimeMs(3, 1000, 100).toFixed(0)} / ${skewTimeMs(3, 1000, 150).toFixed(0)} ms; no fence, one cluster of three)`);
      assert.ok(first <= skewTimeMs(3, 1000, 100) + marginMs, `took ${first} ms`);
      assert.ok(second <= skewTimeMs(3, 1000, 150) + marginMs, `took ${second} ms`);
    });
  });
});
