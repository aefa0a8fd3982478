import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkConfig } from '../../src/config/check';
import { formatDiagnostic } from '../../src/config/diagnostics';
import { scriptSearchPath } from '../../src/config/script-security';
import { repoRoot, sharedDir } from '../support/paths';

const samplesDir = path.join(sharedDir(), 'reference', 'keepalived-samples');

/**
 * What each of keepalived's own samples may warn about: keywords outside hadirector's
 * scope, the old sync-group syntax, a protocol on a fwmark service, a VIP listed twice,
 * scripts run as root without script security.
 * Nothing else, and never an error.
 */
const expectedWarnings: Record<string, string[]> = {
  'keepalived.conf.conditional_conf': [
    "3:7: 'net_namespace' (a keepalived keyword) is not supported by hadirector: ignored [HAD_CFG_UNSUPPORTED]",
    "7:14: vrrp_script check_VI_0: '/etc/keepalived/scripts/check_high_VI_0.sh' is not on this host: the script is not run and moves no instance (keepalived disables it too) [HAD_CFG_BAD_VALUE]",
  ],
  'keepalived.conf.fwmark': ['12:3: protocol is ignored for a fwmark service (the mark selects the packets) [HAD_CFG_CONFLICT]'],
  'keepalived.conf.inhibit': [],
  'keepalived.conf.misc_check': [],
  'keepalived.conf.misc_check_arg': [],
  'keepalived.conf.quorum': [],
  'keepalived.conf.sample': [],
  'keepalived.conf.virtual_server_group': [],
  'keepalived.conf.vrrp': ["32:9: VIP 192.168.200.18 in vrrp_instance 'VI_1' is already defined at keepalived.conf.vrrp:28:9 [HAD_CFG_DUPLICATE]"],
  // keepalived's own warning, when the scripts it tracks exist on this host (killall does, with psmisc).
  'keepalived.conf.vrrp.localcheck': scriptSearchPath.some((d) => fs.existsSync(path.join(d, 'killall')))
    ? ["12:15: scripts run as root while enable_script_security is off ('killall' and any other): set enable_script_security (and script_user) in global_defs, as keepalived asks [HAD_CFG_RISKY]"]
    : [],
  'keepalived.conf.vrrp.lvs_syncd': [
    "4:3: sync group member 'VI_2' outside 'group { }': old syntax, accepted [HAD_CFG_DEPRECATED]",
    "5:3: sync group member 'VI_3' outside 'group { }': old syntax, accepted [HAD_CFG_DEPRECATED]",
  ],
  'keepalived.conf.vrrp.scripts': [],
  'keepalived.conf.vrrp.sync': [],
};

describe("keepalived's own sample configurations", function () {
  before(function () {
    if (!fs.existsSync(samplesDir)) {
      console.log(`      skipped: ${samplesDir} is absent (it sits beside the repository in CI)`);
      this.skip();
    }
  });

  it('covers every sample in the reference folder', () => {
    const present = fs.readdirSync(samplesDir).filter((f) => f.startsWith('keepalived.conf.')).sort();
    assert.deepEqual(present, Object.keys(expectedWarnings).sort());
  });

  for (const [name, warnings] of Object.entries(expectedWarnings)) {
    it(`${name} loads with no error and warns only about what lies outside our scope`, () => {
      // The conditional sample is meant to be run as node 'high' (keepalived -i high).
      const node = name.endsWith('conditional_conf') ? 'high' : 'lvs1';
      const result = checkConfig(name, { cwd: samplesDir, node });
      const lines = result.diagnostics.map((d) => formatDiagnostic(d));
      assert.equal(result.errorCount, 0, lines.join('\n'));
      assert.deepEqual(lines, warnings.map((w) => `${name}:${w.replace(/^(\d+:\d+): /, '$1: warning: ')}`));
      const config = result.configs[0];
      assert.ok(config !== undefined && config.vrrpInstances.length + config.virtualServers.length > 0, 'the sample yields something to run');
    });
  }
});

describe('the samples in config/', () => {
  for (const name of ['hadirector.conf', 'three-directors.conf']) {
    it(`${name} passes check-config --strict on every node`, () => {
      const result = checkConfig(name, { cwd: path.join(repoRoot(), 'config'), strict: true });
      assert.deepEqual(result.diagnostics.map((d) => formatDiagnostic(d)), []);
      assert.equal(result.configs.length, 3, 'checked once per node');
    });
  }

  it('hadirector.conf describes two directors and a witness on 127.0.0.0/8', () => {
    const { configs } = checkConfig('hadirector.conf', { cwd: path.join(repoRoot(), 'config') });
    const cluster = configs[0]?.cluster;
    assert.ok(cluster !== undefined);
    assert.deepEqual(cluster.nodes.map((n) => [n.name, n.witness]), [['d1', false], ['d2', false], ['w1', true]]);
    for (const n of cluster.nodes) for (const a of n.addresses) assert.match(a.address, /^127\./);
    const d1 = configs.find((c) => c.node === 'd1');
    assert.equal(d1?.vrrpInstances[0]?.virtualIpAddresses[0]?.address, '127.0.0.100');
    assert.equal(d1?.virtualServers[0]?.realServers.length, 2);
    assert.ok(d1?.virtualServers[0]?.realServers.every((rs) => rs.checkers.length > 0), 'every real server is health-checked');
    assert.deepEqual(configs.map((c) => c.vrrpInstances[0]?.priority), [150, 100, 100]);
  });
});
