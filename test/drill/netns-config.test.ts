// The drill's rewrite of the lab configuration for network namespaces: the sample file,
// rewritten, loads without errors for every node, on the namespaces' subnet and eth0,
// its VIP a /24 the client on the subnet reaches, its fence devices taking a node's
// links down rather than killing a pid.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { namespacedConfig } from '../../src/drill/netns-cluster';
import { repoRoot } from '../support/paths';

const subnet = '10.217.0';

describe('the drill configuration for network namespaces', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-netns-config-'));
  const file = path.join(dir, 'hadirector.conf');
  before(() => {
    fs.cpSync(path.join(repoRoot(), 'config'), dir, { recursive: true });
    fs.writeFileSync(file, namespacedConfig(fs.readFileSync(file, 'utf8'), subnet, 'hd42'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('config/hadirector.conf rewritten loads for every node without errors', () => {
    for (const node of ['d1', 'd2', 'w1']) {
      const loaded = loadConfig(file, { node });
      assert.equal(loaded.errorCount, 0, `${node}: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
    }
  });

  it('puts the cluster nodes on SUBNET.11, .12 and .13', () => {
    const nodes = loadConfig(file, { node: 'd1' }).config.cluster?.nodes ?? [];
    assert.deepEqual(
      nodes.map((n) => [n.name, n.addresses.map((a) => a.address)]),
      [['d1', [`${subnet}.11`]], ['d2', [`${subnet}.12`]], ['w1', [`${subnet}.13`]]],
    );
  });

  it('puts the VIP on eth0 as SUBNET.100/24, labelled eth0:web', () => {
    for (const node of ['d1', 'd2']) {
      const instance = loadConfig(file, { node }).config.vrrpInstances[0];
      assert.equal(instance?.interface, 'eth0');
      assert.deepEqual(
        instance?.virtualIpAddresses.map((v) => [v.address, v.prefix, v.dev, v.label]),
        [[`${subnet}.100`, 24, 'eth0', 'eth0:web']],
      );
    }
  });

  it('serves SUBNET.100:8080 from the real servers SUBNET.21 and .22', () => {
    const vs = loadConfig(file, { node: 'd1' }).config.virtualServers[0];
    const key = vs?.key;
    assert.ok(key?.kind === 'address', 'a virtual server by address');
    assert.deepEqual([key.address, key.port], [`${subnet}.100`, 8080]);
    assert.deepEqual(vs?.realServers.map((r) => [r.address, r.port]), [[`${subnet}.21`, 8081], [`${subnet}.22`, 8082]]);
  });

  it("turns the signal devices into netns ones, which power a node's namespace off (links down)", () => {
    const devices = loadConfig(file, { node: 'd1' }).config.cluster?.fencing.devices ?? [];
    assert.deepEqual(
      devices.map((d) => [d.name, d.agent, d.options['namespace'], d.options['pid_file'], d.hosts]),
      [
        ['kill-d1', 'netns', 'hd42-%n', undefined, ['d1']],
        ['kill-d2', 'netns', 'hd42-%n', undefined, ['d2']],
      ],
    );
  });

  it('widens a bare VIP, keeps a tracked lo and @node lines in step, and leaves what is not loopback alone', () => {
    const text = [
      'vrrp_instance VI_1 {',
      '    interface lo',
      '    track_interface {',
      '        lo weight 10',
      '    }',
      '    virtual_ipaddress {',
      '        127.0.0.101',
      '@d1     127.0.0.102/32 dev lo',
      '        fd00::1/64',
      '    }',
      '    unicast_peer {',
      '        127.0.0.12',
      '    }',
      '}',
      'virtual_server 192.0.2.1 80 {',
      '    real_server 127.0.0.21/32 80',
      '}',
    ].join('\n');
    assert.equal(
      namespacedConfig(text, subnet, 'hd42'),
      [
        'vrrp_instance VI_1 {',
        '    interface eth0',
        '    track_interface {',
        '        eth0 weight 10',
        '    }',
        '    virtual_ipaddress {',
        `        ${subnet}.101/24`,
        `@d1     ${subnet}.102/24 dev eth0`,
        '        fd00::1/64',
        '    }',
        '    unicast_peer {',
        `        ${subnet}.12`,
        '    }',
        '}',
        'virtual_server 192.0.2.1 80 {',
        `    real_server ${subnet}.21/32 80`,
        '}',
      ].join('\n'),
    );
  });
});
