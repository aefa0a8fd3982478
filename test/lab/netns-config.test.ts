// The namespaced lab's rewrite of the sample for the kernel plane: `data_plane kernel`, the
// NAT real servers' gateway beside the web VIP in its vrrp_instance, and an LVS-DR twin of
// the web service on the next port with the same real servers; every node loads it
// without errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { namespacedConfig, withKernelServices } from '../../src/lab/netns-config';
import { repoRoot } from '../support/paths';

const subnet = '10.227.0';

describe('the lab configuration for network namespaces on the kernel plane', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-lab-netns-config-'));
  const file = path.join(dir, 'hadirector.conf');
  let added: ReturnType<typeof withKernelServices> = '';
  before(() => {
    fs.cpSync(path.join(repoRoot(), 'config'), dir, { recursive: true });
    fs.writeFileSync(file, namespacedConfig(fs.readFileSync(file, 'utf8'), subnet, 'hd42', 'kernel'));
    added = withKernelServices(file, 'lab', subnet);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('says what it added: the gateway .254 in VI_WEB and the DR twin of the web service on port 8081', () => {
    assert.deepEqual(added, { web: { host: `${subnet}.100`, port: 8080 }, instance: 'VI_WEB', gateway: `${subnet}.254`, drPort: 8081 });
  });

  it('loads for every node without errors, on the kernel plane', () => {
    for (const node of ['d1', 'd2', 'w1']) {
      const loaded = loadConfig(file, { node });
      assert.equal(loaded.errorCount, 0, `${node}: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
      assert.equal(loaded.config.global.dataPlane, 'kernel');
    }
  });

  it('puts the gateway beside the VIP in VI_WEB, on eth0, on every director', () => {
    for (const node of ['d1', 'd2']) {
      const instance = loadConfig(file, { node }).config.vrrpInstances[0];
      assert.deepEqual(instance?.virtualIpAddresses.map((v) => `${v.address}/${v.prefix}`), [`${subnet}.100/24`, `${subnet}.254/24`]);
    }
  });

  it('adds the DR twin after the file\'s own services: same VIP, port 8081, the same real servers, rr, TCP_CHECK', () => {
    const services = loadConfig(file, { node: 'd1' }).config.virtualServers;
    assert.deepEqual(services.map((vs) => (vs.key.kind === 'address' ? `${vs.protocol} ${vs.key.port} ${vs.method}` : '')), ['TCP 8080 NAT', 'UDP 5300 NAT', 'TCP 8081 DR']);
    const dr = services[2];
    assert.equal(dr?.scheduler, 'rr');
    assert.deepEqual(dr?.realServers.map((rs) => [rs.address, rs.port, rs.checkers.map((c) => c.kind)]), [
      [`${subnet}.21`, 8081, ['TCP_CHECK']],
      [`${subnet}.22`, 8081, ['TCP_CHECK']],
    ]);
  });
});
