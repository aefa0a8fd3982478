// Which address driver runs, and what the process may do: root or CAP_NET_ADMIN manage
// addresses; with no cluster block a VIP off loopback always needs them, as in keepalived.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { capNetAdmin, capNetRaw, effectiveCapabilities, hasCapability } from '../../src/common/capabilities';
import { selectAddressDriver } from '../../src/vip/select';
import { directorsAndWitness } from '../support/cluster-config';
import { loadText } from '../config/load-text';

const instance = (vip: string) => `vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        ${vip}\n    }\n}\n`;
const cluster = directorsAndWitness({ clusterId: 's', lan: '127.0.9', port: 7000, heartbeat: '1s', deadtime: '3s' });
const driverOf = (text: string, root: boolean) => {
  const { config } = loadText(text, { files: { '/etc/hadirector/cluster.key': 'k'.repeat(32) } });
  const d = selectAddressDriver(config, { root, clock: new VirtualClock(), warn: () => undefined });
  return typeof d === 'string' ? d : d.kind;
};

describe('address driver and capabilities', () => {
  it('reads the effective capabilities of /proc/self/status', () => {
    const mask = effectiveCapabilities('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t0000000000003000\n');
    assert.equal(hasCapability(capNetAdmin, mask), true);
    assert.equal(hasCapability(capNetRaw, mask), true);
    assert.equal(hasCapability(21, mask), false);
    assert.equal(effectiveCapabilities('Name:\tnode\n'), 0n);
  });

  it('with no cluster block, a VIP off loopback is the linux driver, or a refusal that names CAP_NET_ADMIN', () => {
    assert.equal(driverOf(instance('192.0.2.10/24'), true), 'linux');
    assert.match(driverOf(instance('192.0.2.10/24'), false), /needs root or CAP_NET_ADMIN/);
    assert.equal(driverOf(instance('127.0.0.77/32'), false), 'loopback');
  });

  it('in a cluster, a director that may not manage addresses keeps to the loopback driver unless vip_driver linux says otherwise', () => {
    assert.equal(driverOf(cluster + instance('192.0.2.10/24'), false), 'loopback');
    assert.equal(driverOf(cluster + instance('192.0.2.10/24'), true), 'linux');
    assert.match(driverOf(cluster.replace('    port 7000\n', '    port 7000\n    vip_driver linux\n') + instance('192.0.2.10/24'), false), /CAP_NET_ADMIN/);
  });
});
