import assert from 'node:assert/strict';
import type os from 'node:os';
import { linkState, mountOf, SiHostFactSource, type OsApi, type SiApi } from '../../src/host/si-source';

const mounts = [
  { mount: '/', use: 40 },
  { mount: '/var', use: 70 },
  { mount: '/var/log', use: 91.5 },
  { mount: '/srv/data', use: 10 },
];

/** systeminformation as a script: fixed answers, and a count of each call. */
class FakeSi implements SiApi {
  readonly calls = new Map<string, number>();
  operstates: Record<string, string> = { eth0: 'up', eth1: 'down' };
  failMem = false;

  private count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  currentLoad(): Promise<{ currentLoad: number }> {
    this.count('currentLoad');
    return Promise.resolve({ currentLoad: 37.5 });
  }

  mem(): Promise<{ total: number; available: number; swaptotal: number; swapused: number }> {
    this.count('mem');
    if (this.failMem) return Promise.reject(new Error('no /proc/meminfo'));
    return Promise.resolve({ total: 8000, available: 2000, swaptotal: 0, swapused: 0 });
  }

  fsSize(): Promise<typeof mounts> {
    this.count('fsSize');
    return Promise.resolve(mounts);
  }

  networkStats(ifaces: string): Promise<Array<{ operstate: string }>> {
    this.count('networkStats');
    return Promise.resolve(ifaces.split(',').map((i) => ({ operstate: this.operstates[i] ?? 'unknown' })));
  }

  networkInterfaces(): Promise<Array<{ iface: string; speed: number | null }>> {
    this.count('networkInterfaces');
    return Promise.resolve([
      { iface: 'eth0', speed: 10000 },
      { iface: 'eth1', speed: -1 },
    ]);
  }
}

const address = (address: string, cidr: string, mac: string): os.NetworkInterfaceInfo => ({ address, cidr, mac, netmask: '255.255.255.0', family: 'IPv4', internal: false });

const fakeOs: OsApi = {
  loadavg: () => [4, 2, 1],
  cpuCount: () => 4,
  uptime: () => 1234.5,
  networkInterfaces: () => ({
    eth0: [address('192.0.2.10', '192.0.2.10/24', '52:54:00:12:34:56'), address('192.0.2.100', '192.0.2.100/32', '52:54:00:12:34:56')],
  }),
};

describe('host facts from systeminformation', () => {
  describe('mountOf', () => {
    it('finds the longest mount point that contains the path', () => {
      assert.equal(mountOf('/var/log/hadirector', mounts), '/var/log');
      assert.equal(mountOf('/var/lib/hadirector', mounts), '/var');
      assert.equal(mountOf('/etc/hadirector', mounts), '/');
      assert.equal(mountOf('/var/log', mounts), '/var/log');
    });

    it('matches whole path components: /variable is not under /var', () => {
      assert.equal(mountOf('/variable/x', mounts), '/');
      assert.equal(mountOf('/srv/database', mounts), '/');
    });

    it('normalises the path first, and finds nothing without a root mount', () => {
      assert.equal(mountOf('/var/log/../lib/x', mounts), '/var');
      assert.equal(mountOf('/etc', [{ mount: '/var' }]), undefined);
    });
  });

  it('operstate up is up, down/lowerlayerdown/notpresent down, anything else (lo says unknown) unknown', () => {
    assert.deepEqual(['up', 'down', 'lowerlayerdown', 'notpresent', 'unknown', 'dormant', undefined].map(linkState), ['up', 'down', 'down', 'down', 'unknown', 'unknown', 'unknown']);
  });

  it('maps one sample: load per CPU, memory by available, swap 0 without swap, each path to its mount, links with speed, MAC and every address', async () => {
    const facts = await new SiHostFactSource(new FakeSi(), fakeOs).sample(['/etc/hadirector', '/var/log/hadirector'], ['eth0', 'eth1', 'eth9']);
    assert.deepEqual(facts, {
      load1PerCpu: 1,
      load5PerCpu: 0.5,
      load15PerCpu: 0.25,
      cpuPercent: 37.5,
      memoryUsedPercent: 75,
      swapUsedPercent: 0,
      fileSystems: [
        { path: '/etc/hadirector', mount: '/', usedPercent: 40 },
        { path: '/var/log/hadirector', mount: '/var/log', usedPercent: 91.5 },
      ],
      interfaces: [
        { name: 'eth0', link: 'up', speedMbps: 10000, mac: '52:54:00:12:34:56', addresses: ['192.0.2.10/24', '192.0.2.100/32'] },
        { name: 'eth1', link: 'down', addresses: [] },
        { name: 'eth9', link: 'unknown', addresses: [] },
      ],
      uptimeS: 1234.5,
    });
  });

  it('reads link speeds (si.networkInterfaces, costly) only at first and when a watched link changes state', async () => {
    const si = new FakeSi();
    const source = new SiHostFactSource(si, fakeOs);
    await source.sample([], ['eth0', 'eth1']);
    await source.sample([], ['eth0', 'eth1']);
    assert.equal(si.calls.get('networkInterfaces'), 1);
    si.operstates = { eth0: 'up', eth1: 'up' };
    await source.sample([], ['eth0', 'eth1']);
    await source.sample([], ['eth0', 'eth1']);
    assert.equal(si.calls.get('networkInterfaces'), 2);
    assert.equal(si.calls.get('networkStats'), 4);
  });

  it('asks for no file systems or links when none are watched', async () => {
    const si = new FakeSi();
    const facts = await new SiHostFactSource(si, fakeOs).sample([], []);
    assert.deepEqual([facts.fileSystems, facts.interfaces], [[], []]);
    assert.deepEqual([...si.calls.keys()].sort(), ['currentLoad', 'mem']);
  });

  it('a call that fails leaves its facts out, and the sample still resolves', async () => {
    const si = new FakeSi();
    si.failMem = true;
    const facts = await new SiHostFactSource(si, fakeOs).sample([], []);
    assert.equal(facts.memoryUsedPercent, undefined);
    assert.equal(facts.swapUsedPercent, undefined);
    assert.equal(facts.cpuPercent, 37.5);
  });

  it('a call that hangs (df on a dead NFS mount) is given up after the timeout, and not started again while it hangs', async () => {
    const si = new FakeSi();
    let release: (() => void) | undefined;
    si.fsSize = () => {
      si.calls.set('fsSize', (si.calls.get('fsSize') ?? 0) + 1);
      return new Promise((resolve) => {
        release = () => resolve(mounts);
      });
    };
    const source = new SiHostFactSource(si, fakeOs, 50);
    const first = await source.sample(['/var/log'], []);
    assert.deepEqual(first.fileSystems, [{ path: '/var/log' }]);
    assert.equal(first.memoryUsedPercent, 75);
    await source.sample(['/var/log'], []);
    assert.equal(si.calls.get('fsSize'), 1);
    // Once it ends, the next sample asks again.
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    si.fsSize = FakeSi.prototype.fsSize.bind(si);
    const after = await source.sample(['/var/log'], []);
    assert.equal(si.calls.get('fsSize'), 2);
    assert.equal(after.fileSystems[0]?.usedPercent, 91.5);
  });

  it('on this host, one real sample reads every fact within bounds', async function () {
    this.timeout(20_000);
    const facts = await new SiHostFactSource().sample([process.cwd()], ['lo']);
    for (const [name, value] of Object.entries({ cpu: facts.cpuPercent, memory: facts.memoryUsedPercent, swap: facts.swapUsedPercent, disk: facts.fileSystems[0]?.usedPercent })) {
      assert.ok(value !== undefined && value >= 0 && value <= 100, `${name} = ${String(value)}`);
    }
    assert.ok((facts.load5PerCpu ?? -1) >= 0);
    assert.ok((facts.uptimeS ?? 0) > 0);
    assert.equal(facts.interfaces[0]?.name, 'lo');
    assert.ok(facts.interfaces[0]?.addresses.some((a) => a.startsWith('127.')));
  });
});
