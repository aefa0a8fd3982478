// use_vmac without root: what the file asks (name, MAC, vmac_xmit_base) and what keepalived
// ignores with a warning, the names and MACs the VMACs get, where an instance's addresses
// and adverts go, and how the macvlans are made, taken over, refused and unmade with a
// fake iproute2 and fake sysctls.
import assert from 'node:assert/strict';
import type { HadConfig } from '../../src/config/model';
import { wireSettings } from '../../src/director/wire-settings';
import { VmacDevices, type Sysctls } from '../../src/vip/vmac-devices';
import { placeOnVmac, planVmacs, vmacAddArgs, type VmacDevice } from '../../src/vip/vmac';
import type { CommandResult, CommandRunner } from '../../src/vip/linux-driver';
import type { VirtualAddress } from '../../src/vrrp/config';
import { assertClean, at, instance, lines, loadText, withCode } from '../config/load-text';

function configOf(text: string): HadConfig {
  const result = loadText(text);
  assert.equal(result.errorCount, 0);
  return result.config;
}

describe('use_vmac in the file', () => {
  it('takes a name and a MAC in either order; vmac_xmit_base keeps the adverts on the base', () => {
    const text = lines(instance('VI_1', 51, '10.0.0.100/24', 'use_vmac vmac51 02:11:22:33:44:55', 'vmac_xmit_base'), instance('VI_2', 52, '10.0.0.101/24', 'use_vmac 02:aa:bb:cc:dd', 'vmac_xmit_base'));
    const result = loadText(text);
    assertClean(result);
    const [vi1, vi2] = result.config.vrrpInstances;
    assert.deepEqual([vi1?.vmac?.name, vi1?.vmac?.mac, vi1?.vmacXmitBase], ['vmac51', '02:11:22:33:44:55', true]);
    assert.deepEqual([vi2?.vmac?.name, vi2?.vmac?.mac], [undefined, '02:aa:bb:cc:dd']);
  });

  it('ignores a bad MAC, a multicast one, an RFC 5798 one and a bad name with a warning at the argument, as keepalived does', () => {
    for (const [arg, words] of [
      ['02:11:22', 'not a MAC address'],
      ['03:11:22:33:44:55', 'multicast'],
      ['00:00:5e:00:01:33', 'RFC 5798'],
      ['a/b', 'no interface name'],
      ['averyveryverylongname', 'no interface name'],
    ] as const) {
      const text = instance('VI_1', 51, '10.0.0.100/24', `use_vmac ${arg}`);
      const result = loadText(text);
      const warnings = withCode(result, 'HAD_CFG_BAD_VALUE');
      assert.equal(warnings.length, 1, arg);
      assert.equal(warnings[0]?.severity, 'warning');
      assert.match(warnings[0]?.message ?? '', new RegExp(words), arg);
      assert.equal(`${warnings[0]?.where?.file}:${warnings[0]?.where?.line}:${warnings[0]?.where?.col}`, at(text, arg));
      assert.deepEqual([result.config.vrrpInstances[0]?.vmac?.name, result.config.vrrpInstances[0]?.vmac?.mac], [undefined, undefined], arg);
    }
  });
});

describe('the VMACs planned', () => {
  it('are named vrrp.VRID, else vrrp6.VRID for IPv6, else the first free vrrpN.VRID; a name given is kept', () => {
    const config = configOf(
      lines(
        instance('VI_1', 51, '10.0.0.100/24', 'use_vmac'),
        instance('VI_2', 51, '2001:db8::1/64', 'use_vmac', 'interface eth1'),
        instance('VI_3', 52, '10.0.1.100/24', 'use_vmac vrrp.51', 'interface eth2'),
        instance('VI_4', 53, '10.0.2.100/24'),
      ),
    );
    const planned = [...planVmacs(config).values()].map((d) => `${d.instance} ${d.name} ${d.base} ${d.mac} v${d.family}`);
    assert.deepEqual(planned, ['VI_1 vrrp1.51 eth0 00:00:5e:00:01:33 v4', 'VI_2 vrrp6.51 eth1 00:00:5e:00:02:33 v6', 'VI_3 vrrp.51 eth2 00:00:5e:00:01:34 v4']);
  });

  it('take a MAC of five octets with the VRID as the sixth, and a whole MAC as it is', () => {
    const config = configOf(lines(instance('VI_1', 51, '10.0.0.100/24', 'use_vmac 02:aa:bb:cc:dd'), instance('VI_2', 52, '10.0.0.101/24', 'use_vmac 02:AA:BB:CC:DD:EE')));
    assert.deepEqual([...planVmacs(config).values()].map((d) => d.mac), ['02:aa:bb:cc:dd:33', '02:aa:bb:cc:dd:ee']);
  });

  it('make a private macvlan on the base with the MAC', () => {
    const d: VmacDevice = { instance: 'VI_1', name: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', family: 4, xmitBase: false };
    assert.deepEqual(vmacAddArgs(d), ['link', 'add', 'link', 'eth0', 'name', 'vrrp.51', 'address', '00:00:5e:00:01:33', 'type', 'macvlan', 'mode', 'private']);
  });

  it("carry the instance's addresses of their family with no dev or dev the base; others stay where they say", () => {
    const where = { file: 'x', line: 1, col: 1 };
    const d: VmacDevice = { instance: 'VI_1', name: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', family: 4, xmitBase: false };
    const addresses: VirtualAddress[] = [
      { address: '10.0.0.100', family: 4, prefix: 24, where },
      { address: '10.0.0.101', family: 4, prefix: 24, where, dev: 'eth0' },
      { address: '10.0.9.1', family: 4, prefix: 24, where, dev: 'eth1' },
      { address: '2001:db8::1', family: 6, prefix: 64, where },
    ];
    assert.deepEqual(placeOnVmac(addresses, d).map((a) => `${a.address} ${a.dev}`), ['10.0.0.100 vrrp.51', '10.0.0.101 vrrp.51', '10.0.9.1 eth1', '2001:db8::1 eth0']);
  });

  it('send and hear the adverts on the VMAC, or on the base with vmac_xmit_base; the source stays the base address', () => {
    const config = configOf(lines(instance('VI_1', 51, '10.0.0.100/24', 'use_vmac'), instance('VI_2', 52, '10.0.0.101/24', 'use_vmac', 'vmac_xmit_base')));
    const plan = wireSettings(config, (name) => (name === 'eth0' ? [{ address: '10.0.0.2', family: 4 }] : undefined), planVmacs(config));
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.settings.map((s) => `${s.name} ${s.interface} ${s.source.text}`), ['VI_1 vrrp.51 10.0.0.2', 'VI_2 eth0 10.0.0.2']);
  });
});

class FakeHost implements CommandRunner, Sysctls {
  readonly commands: string[] = [];
  readonly files = new Map<string, string>([
    ['/proc/sys/net/ipv4/conf/eth0/arp_ignore', '0'],
    ['/proc/sys/net/ipv4/conf/eth0/arp_filter', '0'],
    ['/proc/sys/net/ipv4/conf/eth0/arp_announce', '0'],
  ]);
  /** `ip -d -j link show dev NAME` answers, by name. */
  readonly links = new Map<string, object>();

  async run(command: string, args: readonly string[]): Promise<CommandResult> {
    this.commands.push(`${command} ${args.join(' ')}`);
    if (args[0] === '-d' && args[1] === '-j') {
      const link = this.links.get(args[5] as string);
      return link === undefined ? { code: 1, stderr: 'Device does not exist.' } : { code: 0, stderr: '', stdout: JSON.stringify([link]) };
    }
    return { code: 0, stderr: '' };
  }

  read(path: string): string | undefined {
    return this.files.get(path);
  }

  write(path: string, value: string): string | undefined {
    this.files.set(path, value);
    return undefined;
  }
}

describe('the VMACs on the host', () => {
  const v4: VmacDevice = { instance: 'VI_1', name: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', family: 4, xmitBase: false };
  const v6: VmacDevice = { instance: 'VI_2', name: 'vrrp6.52', base: 'eth0', mac: '00:00:5e:00:02:34', family: 6, xmitBase: false };

  it('are made, tuned as keepalived tunes them, given an IPv6 source, and at stop deleted with the base settings put back', async () => {
    const host = new FakeHost();
    const devices = new VmacDevices([v4, v6], host, host);
    assert.deepEqual(await devices.create((d) => (d.family === 6 ? 'fe80::2' : undefined)), []);
    assert.deepEqual(host.commands.filter((c) => !c.startsWith('ip -d')), [
      'ip link add link eth0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private',
      'ip link set dev vrrp.51 addrgenmode none',
      'ip link set dev vrrp.51 up',
      'ip link add link eth0 name vrrp6.52 address 00:00:5e:00:02:34 type macvlan mode private',
      'ip link set dev vrrp6.52 addrgenmode none',
      'ip link set dev vrrp6.52 up',
      'ip -6 addr add fe80::2/64 dev vrrp6.52 nodad',
    ]);
    const conf = (dev: string, key: string, v = 4): string | undefined => host.files.get(`/proc/sys/net/ipv${v}/conf/${dev}/${key}`);
    assert.deepEqual(['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries'].map((k) => conf('vrrp.51', k)), ['1', '1', '0', '1']);
    assert.deepEqual(['arp_ignore', 'arp_filter', 'arp_announce'].map((k) => conf('eth0', k)), ['1', '1', '2']);
    assert.equal(conf('vrrp.51', 'disable_ipv6', 6), '1', 'an IPv4 VMAC runs no IPv6');
    assert.equal(conf('vrrp6.52', 'disable_ipv6', 6), undefined);

    host.commands.length = 0;
    assert.deepEqual(await devices.remove(), []);
    assert.deepEqual(host.commands, ['ip link del dev vrrp.51', 'ip link del dev vrrp6.52']);
    assert.deepEqual(['arp_ignore', 'arp_filter', 'arp_announce'].map((k) => conf('eth0', k)), ['0', '0', '0']);
  });

  it("take over a VMAC an earlier run left, and refuse an interface of the name that is not the instance's VMAC", async () => {
    const host = new FakeHost();
    host.links.set('vrrp.51', { link: 'eth0', address: '00:00:5e:00:01:33', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
    host.links.set('vrrp6.52', { link: 'eth0', address: '02:00:00:00:00:01', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'bridge' } } });
    const problems = await new VmacDevices([v4, v6], host, host).create(() => 'fe80::2');
    assert.equal(host.commands.some((c) => c.startsWith('ip link add')), false, 'nothing is made again');
    assert.deepEqual(problems, ["VI_2: use_vmac: interface vrrp6.52 exists and is not this instance's VMAC (a private macvlan on eth0 with MAC 00:00:5e:00:02:34): delete it, or name another in use_vmac"]);
    assert.ok(host.commands.includes('ip link set dev vrrp.51 up'));
  });
});
