// The IPVS plane, with no ip_vs module: its `ipvsadm -R` stream is replayed into the
// project's ipvsadm emulation (ipvs-sim) standing in for the kernel, and after every
// change the emulated kernel's `ipvsadm -S -n` must equal the engine's, byte for byte.
// Then the exact lines of the common changes, the recovery after a refused batch, the
// services of others left alone, and the sync daemon following the VRRP instance.
import assert from 'node:assert/strict';
import { spawnIpvsadm } from '../../src/common/ipvsadm';
import { SeededRng } from '../../src/common/rng';
import { parseIpAddr, prefixMask, type IpAddr } from '../../src/ipvs/address';
import { renderCommands } from '../../src/ipvs/dataplane/ipvs/render';
import { parseSavedTable } from '../../src/ipvs/dataplane/ipvs/saved-table';
import { daemonArgs, daemonCommands, parseDaemonList, type RunningDaemons } from '../../src/ipvs/dataplane/ipvs/sync-daemon';
import { tableOfServices, type TableService } from '../../src/ipvs/dataplane/ipvs/table';
import type { DestinationSettings, ForwardMethod } from '../../src/ipvs/destination';
import type { IpvsEngine } from '../../src/ipvs/engine';
import { noSchedulerFlags } from '../../src/ipvs/schedulers/scheduler';
import type { ServiceKey, ServiceSettings } from '../../src/ipvs/service';
import type { VrrpState } from '../../src/vrrp/instance';
import { EmulatedKernel, ipvsWorld, listOf, saveOf } from './emulated-kernel';
import { randomChange } from './engine-changes';

const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;
const tcp = (address: string, port: number): ServiceKey => ({ kind: 'address', protocol: 'tcp', address: ip(address), port });
const plain = (scheduler: ServiceSettings['scheduler']): ServiceSettings => ({ scheduler, flags: noSchedulerFlags, onePacket: false });
const server = (forward: ForwardMethod, weight = 1, more: Partial<DestinationSettings> = {}): DestinationSettings => ({ forward, weight, upperThreshold: 0, lowerThreshold: 0, ...more });

/**
 * The kernel's table read back and diffed against the engine: what would still be run.
 * ipvsadm 1.31's -S (print_sched_flags) writes no flag-3 for sh and mh, so the engine's
 * side is compared without it there.
 */
function leftToDo(engine: IpvsEngine, kernel: EmulatedKernel): string[] {
  const read = parseSavedTable(kernel.save());
  assert.ok('table' in read, 'problem' in read ? read.problem : '');
  const desired = [...tableOfServices(engine.listServices()).table].map(([key, svc]): [string, TableService] => [
    key,
    svc.scheduler === 'sh' || svc.scheduler === 'mh' ? { ...svc, flags: { ...svc.flags, flag3: false } } : svc,
  ]);
  return renderCommands(read.table, new Map(desired));
}

describe('the IPVS plane, replayed into the ipvsadm emulation', () => {
  it('leaves the emulated kernel equal to the engine after every step, over 200 random scenarios, some batches refused part-way', async () => {
    const rng = new SeededRng(20261222);
    let failures = 0;
    for (let scenario = 0; scenario < 200; scenario++) {
      const { engine, kernel, plane } = ipvsWorld();
      assert.equal(await plane.start([]), undefined);
      const done: string[] = [];
      for (let step = 0; step < 6; step++) {
        const changes = 1 + rng.below(4);
        for (let i = 0; i < changes; i++) done.push(randomChange(rng, engine));
        const from = kernel.runs.length;
        const why = (): string => `scenario ${scenario} step ${step}\nchanges:\n${done.join('\n')}\nlines:\n${kernel.restoredLines(from).join('\n')}`;
        if (rng.below(6) === 0) {
          // The kernel refuses a line part-way: what went before stays, the rest never runs.
          kernel.breakNextRestore(rng.below(4));
          const problems = await plane.reconcile();
          kernel.breakNextRestore(undefined);
          const refused = problems.filter((p) => p.startsWith('ipvsadm -R refused part of the batch'));
          assert.ok(problems.length === refused.length && refused.length <= 1, `${problems.join('; ')}\n${why()}`);
          if (refused.length === 1) failures++;
        }
        assert.deepEqual(await plane.reconcile(), [], why());
        assert.equal(kernel.save(), saveOf(engine), why());
        assert.deepEqual(leftToDo(engine, kernel), [], why());
        const settled = kernel.runs.length;
        assert.deepEqual(await plane.reconcile(), []);
        assert.equal(kernel.runs.length, settled, `an unchanged engine runs nothing: ${why()}`);
      }
    }
    assert.ok(failures > 100, `only ${failures} batches refused part-way`);
  });

  describe('the lines of each change', () => {
    async function threeServices() {
      const world = ipvsWorld();
      const { engine, plane } = world;
      const web = engine.addService(tcp('192.0.2.10', 80), plain('wlc'));
      engine.addDestination(web, ip('10.0.0.2'), 80, server('masq'));
      engine.addDestination(web, ip('10.0.0.3'), 8080, server('masq', 2, { upperThreshold: 100, lowerThreshold: 50 }));
      const dns = engine.addService({ kind: 'address', protocol: 'udp', address: ip('2001:db8::10'), port: 53 }, { ...plain('rr'), persistenceS: 300, netmask: prefixMask(6, 64), onePacket: true });
      engine.addDestination(dns, ip('2001:db8::20'), 53, server('route'));
      const marked = engine.addService({ kind: 'fwmark', mark: 7, family: 4 }, { ...plain('sh'), flags: { flag1: true, flag2: true, flag3: false } });
      engine.addDestination(marked, ip('10.0.0.4'), 0, server('tunnel', 3, { tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }));
      assert.equal(await plane.start([]), undefined);
      assert.deepEqual(await plane.reconcile(), []);
      return { ...world, web, dns };
    }

    /** Reconciles; returns the lines of the one -R it ran, after checking the kernel equals the engine. */
    async function linesOf(world: Awaited<ReturnType<typeof threeServices>>): Promise<string[]> {
      const from = world.kernel.runs.length;
      assert.deepEqual(await world.plane.reconcile(), []);
      assert.deepEqual(world.kernel.runs.slice(from).map((r) => r.args.join(' ')), ['-R']);
      assert.equal(world.kernel.save(), saveOf(world.engine));
      return world.kernel.restoredLines(from);
    }

    it('a first render adds every service, then its servers in the order the engine added them', async () => {
      const { engine, kernel } = await threeServices();
      assert.deepEqual(kernel.restoredLines(), [
        '-A -t 192.0.2.10:80 -s wlc',
        '-a -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 1',
        '-a -t 192.0.2.10:80 -r 10.0.0.3:8080 -m -w 2 -x 100 -y 50',
        '-A -u [2001:db8::10]:53 -s rr -p 300 -M 64 -o',
        '-a -u [2001:db8::10]:53 -r [2001:db8::20]:53 -g -w 1',
        '-A -f 7 -s sh -b sh-fallback,sh-port',
        '-a -f 7 -r 10.0.0.4:0 -i -w 3 --tun-type gue --tun-port 6080 --tun-csum',
      ]);
      assert.equal(kernel.save(), saveOf(engine));
      assert.equal(kernel.session.out('-L -n --nosort'), listOf(engine), 'the kernel lists them in the engine\'s order');
    });

    it('a new weight is one -e, stating the method and thresholds again', async () => {
      const world = await threeServices();
      const d = world.web.findDestination(ip('10.0.0.3'), 8080);
      assert.ok(d !== undefined);
      world.web.editDestination(d, server('masq', 5, { upperThreshold: 100, lowerThreshold: 50 }));
      assert.deepEqual(await linesOf(world), ['-e -t 192.0.2.10:80 -r 10.0.0.3:8080 -m -w 5 -x 100 -y 50']);
    });

    it('a quiesced server is an -e to weight 0, not a delete', async () => {
      const world = await threeServices();
      const d = world.dns.findDestination(ip('2001:db8::20'), 53);
      assert.ok(d !== undefined);
      world.dns.editDestination(d, server('route', 0));
      assert.deepEqual(await linesOf(world), ['-e -u [2001:db8::10]:53 -r [2001:db8::20]:53 -g -w 0']);
    });

    it('a removed server is one -d', async () => {
      const world = await threeServices();
      const d = world.web.findDestination(ip('10.0.0.3'), 8080);
      assert.ok(d !== undefined);
      world.engine.removeDestination(world.web, d);
      assert.deepEqual(await linesOf(world), ['-d -t 192.0.2.10:80 -r 10.0.0.3:8080']);
    });

    it('a new scheduler is one -E, and persistence goes with an -E that leaves out -p', async () => {
      const world = await threeServices();
      world.web.edit(plain('wrr'));
      assert.deepEqual(await linesOf(world), ['-E -t 192.0.2.10:80 -s wrr']);
      world.dns.edit({ ...plain('rr'), onePacket: true });
      assert.deepEqual(await linesOf(world), ['-E -u [2001:db8::10]:53 -s rr -o']);
    });

    it('a removed service is one -D, which takes its servers with it', async () => {
      const world = await threeServices();
      world.engine.deleteService(world.dns);
      assert.deepEqual(await linesOf(world), ['-D -u [2001:db8::10]:53']);
    });

    it('a server moved from NAT to DR on another port is deleted and added: the kernel keys a DR server by the service\'s port', async () => {
      const world = await threeServices();
      const d = world.web.findDestination(ip('10.0.0.3'), 8080);
      assert.ok(d !== undefined);
      world.engine.removeDestination(world.web, d);
      world.engine.addDestination(world.web, ip('10.0.0.3'), 80, server('route', 2));
      assert.deepEqual(await linesOf(world), ['-d -t 192.0.2.10:80 -r 10.0.0.3:8080', '-a -t 192.0.2.10:80 -r 10.0.0.3:80 -g -w 2']);
    });

    it('what ipvsadm cannot state is named and left out; the rest goes in', async () => {
      const { engine, kernel, plane } = ipvsWorld();
      await plane.start([]);
      engine.addService(tcp('192.0.2.10', 0), plain('rr'));
      const web = engine.addService(tcp('192.0.2.11', 80), plain('rr'));
      engine.addDestination(web, ip('10.0.0.2'), 80, server('masq', 1, { upperThreshold: 10, lowerThreshold: 20 }));
      engine.addDestination(web, ip('10.0.0.3'), 80, server('masq'));
      engine.addDestination(web, ip('10.0.0.4'), 8080, server('route'));
      engine.addDestination(web, ip('10.0.0.4'), 8081, server('route'));
      engine.addDestination(web, ip('2001:db8::4'), 80, server('masq'));
      assert.deepEqual(await plane.reconcile(), [
        'TCP 192.0.2.10:0: ipvsadm takes port 0 only for a persistent service (HAD_IPVS_PLANE)',
        'TCP 192.0.2.11:80: real server 10.0.0.2:80: its lower threshold 20 is above its upper one 10, which the kernel refuses (HAD_IPVS_PLANE)',
        'TCP 192.0.2.11:80: real server 10.0.0.4:8081: the kernel would key it as 10.0.0.4:80, as another of the service\'s (a DR or TUN server takes the service\'s port) (HAD_IPVS_PLANE)',
        'TCP 192.0.2.11:80: real server [2001:db8::4]:80: only a tunnelling server may be of another address family than its service (HAD_IPVS_PLANE)',
      ]);
      assert.deepEqual(kernel.restoredLines(), ['-A -t 192.0.2.11:80 -s rr', '-a -t 192.0.2.11:80 -r 10.0.0.3:80 -m -w 1', '-a -t 192.0.2.11:80 -r 10.0.0.4:80 -g -w 1']);
    });
  });

  describe('other services, refusals and recovery', () => {
    it('start deletes only the services under the configured keys; close deletes only its own', async () => {
      const kernel = new EmulatedKernel();
      kernel.session.setup('-A -t 192.0.2.10:80 -s rr', '-a -t 192.0.2.10:80 -r 10.0.0.9 -m', '-A -t 198.51.100.1:80 -s wlc', '-a -t 198.51.100.1:80 -r 10.9.9.9 -g');
      const { engine, plane, warnings } = ipvsWorld(kernel);
      const key = tcp('192.0.2.10', 80);
      assert.equal(await plane.start([key]), undefined);
      assert.deepEqual(kernel.runs.map((r) => r.args.join(' ')), ['-S -n', '-R']);
      assert.deepEqual(kernel.restoredLines(), ['-D -t 192.0.2.10:80']);
      const web = engine.addService(key, plain('wrr'));
      engine.addDestination(web, ip('10.0.0.2'), 80, server('masq', 4));
      assert.deepEqual(await plane.reconcile(), []);
      assert.equal(kernel.save(), '-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 4\n-A -t 198.51.100.1:80 -s wlc\n-a -t 198.51.100.1:80 -r 10.9.9.9:80 -g -w 1\n');
      await plane.close(0);
      assert.deepEqual(warnings, []);
      assert.equal(kernel.save(), '-A -t 198.51.100.1:80 -s wlc\n-a -t 198.51.100.1:80 -r 10.9.9.9:80 -g -w 1\n');
      assert.deepEqual(await plane.reconcile(), [], 'a closed plane does nothing');
      assert.equal(kernel.save(), '-A -t 198.51.100.1:80 -s wlc\n-a -t 198.51.100.1:80 -r 10.9.9.9:80 -g -w 1\n');
    });

    it('after a refused batch, the next reconcile reads the kernel with -S -n and restates every service and server', async () => {
      const { engine, kernel, plane } = ipvsWorld();
      await plane.start([]);
      const web = engine.addService(tcp('192.0.2.10', 80), plain('wlc'));
      engine.addDestination(web, ip('10.0.0.2'), 80, server('masq', 1, { upperThreshold: 50 }));
      engine.addDestination(web, ip('10.0.0.3'), 80, server('masq'));
      assert.deepEqual(await plane.reconcile(), []);
      // Another tool takes a key the configuration is about to declare, and edits ours.
      kernel.session.setup('-A -t 192.0.2.20:443 -s rr', '-a -t 192.0.2.20:443 -r 10.9.9.9 -m', '-A -t 198.51.100.1:80 -s rr', '-e -t 192.0.2.10:80 -r 10.0.0.3 -m -w 9');
      const api = engine.addService(tcp('192.0.2.20', 443), plain('lc'));
      engine.addDestination(api, ip('10.0.0.5'), 443, server('masq', 2));
      const d = web.findDestination(ip('10.0.0.2'), 80);
      assert.ok(d !== undefined);
      web.editDestination(d, server('masq', 7, { upperThreshold: 50 }));
      let from = kernel.runs.length;
      const problems = await plane.reconcile();
      assert.deepEqual(kernel.restoredLines(from), ['-e -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 7 -x 50', '-A -t 192.0.2.20:443 -s lc', '-a -t 192.0.2.20:443 -r 10.0.0.5:443 -m -w 2']);
      // ipvsadm -R exits with its last line's status (0 here): the refusal shows on stderr only.
      assert.deepEqual(problems, ['ipvsadm -R refused part of the batch (the kernel\'s table is read again at the next reconcile): Service already exists']);

      from = kernel.runs.length;
      assert.deepEqual(await plane.reconcile(), []);
      assert.deepEqual(kernel.runs.slice(from).map((r) => r.args.join(' ')), ['-S -n', '-R']);
      assert.deepEqual(kernel.restoredLines(from), [
        '-E -t 192.0.2.10:80 -s wlc',
        '-e -t 192.0.2.10:80 -r 10.0.0.2:80 -m -w 7 -x 50',
        '-e -t 192.0.2.10:80 -r 10.0.0.3:80 -m -w 1',
        '-E -t 192.0.2.20:443 -s lc',
        '-d -t 192.0.2.20:443 -r 10.9.9.9:443',
        '-e -t 192.0.2.20:443 -r 10.0.0.5:443 -m -w 2',
      ]);
      kernel.session.setup('-D -t 198.51.100.1:80');
      assert.equal(kernel.save(), saveOf(engine), 'the kernel equals the engine but for the other tool\'s service, which stayed');
      from = kernel.runs.length;
      assert.deepEqual(await plane.reconcile(), []);
      assert.equal(kernel.runs.length, from, 'back to rendering from what it applied');
    });

    it('a kernel that cannot be read is reported, and read again at the next reconcile', async () => {
      const { engine, kernel, plane } = ipvsWorld();
      kernel.refuseNext('-S', { code: 2, stdout: '', stderr: "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n" });
      assert.equal(await plane.start([tcp('192.0.2.10', 80)]), "the kernel's IPVS table could not be read: ipvsadm -S -n: Can't initialize ipvs: Protocol not available; Are you sure that IP Virtual Server is built in the kernel or as module?");
      engine.addService(tcp('192.0.2.10', 80), plain('rr'));
      assert.deepEqual(await plane.reconcile(), []);
      assert.deepEqual(kernel.runs.map((r) => r.args.join(' ')), ['-S -n', '-S -n', '-R']);
      assert.equal(kernel.save(), saveOf(engine));
    });
  });
});

describe('the IPVS plane\'s sync daemon', () => {
  const spec = { iface: 'eth1', syncId: 5 };

  it('runs the backup daemon but while the instance is MASTER, stopping the other first, as keepalived does', () => {
    const none: RunningDaemons = new Map();
    const asBackup: RunningDaemons = new Map([['backup', { spec, read: false }]]);
    const asMaster: RunningDaemons = new Map([['master', { spec, read: false }]]);
    const args = (running: RunningDaemons, state: VrrpState): string[] => daemonCommands(running, state, spec).map((c) => daemonArgs(c).join(' '));
    assert.deepEqual(args(none, 'init'), ['--start-daemon backup --mcast-interface eth1 --syncid 5']);
    assert.deepEqual(args(none, 'master'), ['--start-daemon master --mcast-interface eth1 --syncid 5']);
    assert.deepEqual(args(asBackup, 'master'), ['--stop-daemon backup', '--start-daemon master --mcast-interface eth1 --syncid 5']);
    assert.deepEqual(args(asMaster, 'backup'), ['--stop-daemon master', '--start-daemon backup --mcast-interface eth1 --syncid 5']);
    assert.deepEqual(args(asMaster, 'fault'), ['--stop-daemon master', '--start-daemon backup --mcast-interface eth1 --syncid 5']);
    assert.deepEqual(args(asBackup, 'fault'), []);
    assert.deepEqual(args(asMaster, 'master'), []);
    assert.deepEqual(daemonCommands(asMaster, 'master', { ...spec, syncId: 6 }).map((c) => daemonArgs(c).join(' ')), ['--stop-daemon master', '--start-daemon master --mcast-interface eth1 --syncid 6']);
  });

  it('follows the VRRP instance through the emulation: -L --daemon shows the one daemon its state wants', async () => {
    const { kernel, plane } = ipvsWorld();
    const daemons = (): string => kernel.session.out('-L --daemon');
    assert.equal(await plane.syncTransition('backup', 'eth1', 5), undefined);
    assert.equal(daemons(), 'backup sync daemon (mcast=eth1, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
    assert.equal(await plane.syncTransition('master', 'eth1', 5), undefined);
    assert.equal(daemons(), 'master sync daemon (mcast=eth1, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
    const from = kernel.runs.length;
    assert.equal(await plane.syncTransition('master', 'eth1', 5), undefined);
    assert.equal(kernel.runs.length, from, 'still MASTER: nothing to run');
    assert.equal(await plane.syncTransition('fault', 'eth1', 5), undefined);
    assert.equal(daemons(), 'backup sync daemon (mcast=eth1, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
    assert.equal(await plane.syncTransition('master', 'eth1', 5, { maxLen: 1000, group: '239.1.2.3', port: 9000, ttl: 2 }), undefined);
    assert.equal(daemons(), 'master sync daemon (mcast=eth1, syncid=5, maxlen=1000, group=239.1.2.3, port=9000, ttl=2)\n');
    assert.deepEqual(
      kernel.runs.map((r) => r.args.join(' ')),
      [
        '-L --daemon',
        '--start-daemon backup --mcast-interface eth1 --syncid 5',
        '--stop-daemon backup',
        '--start-daemon master --mcast-interface eth1 --syncid 5',
        '--stop-daemon master',
        '--start-daemon backup --mcast-interface eth1 --syncid 5',
        '--stop-daemon backup',
        '--start-daemon master --mcast-interface eth1 --syncid 5 --sync-maxlen 1000 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 2',
      ],
    );
    await plane.close(0);
    assert.equal(daemons(), '', 'close stops it');
  });

  it('keeps a daemon already running as asked (a restarted director), and restarts one running otherwise', async () => {
    const kernel = new EmulatedKernel();
    kernel.session.setup('--start-daemon master --mcast-interface eth1 --syncid 5', '--start-daemon backup --mcast-interface eth1 --syncid 5');
    const { plane } = ipvsWorld(kernel);
    assert.equal(await plane.syncTransition('master', 'eth1', 5), undefined);
    assert.deepEqual(kernel.runs.map((r) => r.args.join(' ')), ['-L --daemon', '--stop-daemon backup']);
    assert.equal(await plane.syncTransition('master', 'eth2', 5), undefined);
    assert.deepEqual(kernel.runs.slice(2).map((r) => r.args.join(' ')), ['--stop-daemon master', '--start-daemon master --mcast-interface eth2 --syncid 5']);
    assert.equal(kernel.session.out('-L --daemon'), 'master sync daemon (mcast=eth2, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
  });

  it('reports a refused command and reads the daemons again before the next transition', async () => {
    const { kernel, plane } = ipvsWorld();
    kernel.refuseNext('--start-daemon', { code: 255, stdout: '', stderr: 'No such device\n' });
    assert.equal(await plane.syncTransition('backup', 'eth9', 1), 'ipvsadm --start-daemon backup --mcast-interface eth9 --syncid 1: No such device');
    assert.equal(await plane.syncTransition('backup', 'eth9', 1), undefined);
    assert.deepEqual(kernel.runs.map((r) => r.args[0]), ['-L', '--start-daemon', '-L', '--start-daemon']);
  });

  it('reads what ipvsadm 1.31 prints of a daemon, optional fields and all', () => {
    const read = parseDaemonList('master sync daemon (mcast=eth0, syncid=3)\nbackup sync daemon (mcast=bond0.12, syncid=200, maxlen=1472, group=ff02::1:2, port=8848, ttl=1)\n');
    assert.deepEqual([...read], [
      ['master', { spec: { iface: 'eth0', syncId: 3 }, read: true }],
      ['backup', { spec: { iface: 'bond0.12', syncId: 200, maxLen: 1472, group: 'ff02::1:2', port: 8848, ttl: 1 }, read: true }],
    ]);
  });
});

describe('the system ipvsadm runner', () => {
  it('answers a missing program with exit 127 and the reason, never a rejection', async () => {
    const r = await spawnIpvsadm(['-S', '-n'], '', ['/nonexistent/hadirector-test-wrapper']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /ENOENT/);
  });
});
