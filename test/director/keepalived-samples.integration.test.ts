// keepalived's own sample files with a vrrp_instance, run by hadirector as they are (no
// cluster block) alone in a network namespace with eth0 to eth3: every instance becomes
// master and its VIPs come up on their interfaces (an instance with use_vmac: on its
// VMAC, vrrp.VRID), as under keepalived (root only; the
// samples sit in the shared reference folder beside the repository). One thing differs
// from keepalived: the userspace data plane listens on a virtual_server's address, so an
// address no instance carries (keepalived.conf.sample's 10.10.10.2) is put on lo first;
// the kernel needs no such address.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { masterDownIntervalMs } from '../../src/vrrp/timing';
import { placeOnVmac, planVmacs } from '../../src/vip/vmac';
import { netnsUnavailable } from '../../src/lab/netns';
import { waitFor } from '../support/director-process';
import { repoRoot, sharedDir } from '../support/paths';

const samplesDir = path.join(sharedDir(), 'reference', 'keepalived-samples');
/** The node name a sample is meant for (keepalived -i): the conditional sample's lines say @high and @low. */
const nodeFor = (sample: string): string => (sample.endsWith('conditional_conf') ? 'high' : 'lvs1');


describe("keepalived's samples run as they are (integration, network namespaces, root)", function () {
  this.timeout(300_000);
  const ns = `hdks${process.pid % 100_000}`;
  const hub = `${ns}h`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-samples-'));
  const samples = fs.existsSync(samplesDir) ? fs.readdirSync(samplesDir).filter((f) => f.startsWith('keepalived.conf.') && /vrrp_instance/.test(fs.readFileSync(path.join(samplesDir, f), 'utf8'))) : [];

  before(function () {
    const why = netnsUnavailable() ?? (samples.length === 0 ? `no samples in ${samplesDir}` : undefined);
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'add', hub]);
    for (let i = 0; i < 4; i++) {
      execFileSync('ip', ['-n', ns, 'link', 'add', `eth${i}`, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', hub]);
      execFileSync('ip', ['-n', ns, 'addr', 'add', `192.168.${200 + i}.2/24`, 'dev', `eth${i}`]);
      execFileSync('ip', ['-n', ns, 'link', 'set', `eth${i}`, 'up']);
      execFileSync('ip', ['-n', hub, 'link', 'set', `p${i}`, 'up']);
    }
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  });

  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['netns', 'del', hub]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const sample of samples) {
    it(`${sample}: every instance becomes master and holds its VIPs`, async () => {
      const file = path.join(samplesDir, sample);
      const node = nodeFor(sample);
      const { config } = loadConfig(sample, { cwd: samplesDir, node });
      const vmacs = planVmacs(config);
      const vips = config.vrrpInstances.flatMap((vi) => {
        const vmac = vmacs.get(vi.name);
        return (vmac === undefined ? vi.virtualIpAddresses : placeOnVmac(vi.virtualIpAddresses, vmac)).map((v) => ({ instance: vi.name, address: `${v.address}/${v.prefix}`, dev: v.dev ?? vi.interface ?? 'eth0' }));
      });
      const carried = new Set(vips.map((v) => v.address.split('/')[0]));
      for (const vs of config.virtualServers) {
        if (vs.key.kind === 'address' && !carried.has(vs.key.address)) execFileSync('ip', ['-n', ns, 'addr', 'replace', `${vs.key.address}/32`, 'dev', 'lo']);
      }
      const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(repoRoot(), 'bin', 'hadirector'), 'run', '-f', file, '--node', node, '--control', path.join(dir, `${sample}.sock`), '--pid-file', path.join(dir, `${sample}.pid`)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      // A backup waits its Master_Down_Interval (advert_int 12 in one sample: 36 s and more).
      const deadlineMs = Math.max(...config.vrrpInstances.map((vi) => masterDownIntervalMs(vi.version, vi.advertIntMs, vi.priority))) + 10_000;
      const held = (): string[] => {
        const text = execFileSync('ip', ['-n', ns, '-o', 'addr', 'show'], { encoding: 'utf8' });
        return vips.filter((v) => new RegExp(`\\s${v.dev}\\s+inet6? ${v.address.replace(/[.]/g, '\\.')}\\s`).test(text)).map((v) => v.address);
      };
      try {
        await waitFor(
          `${sample}: every VIP up`,
          () => {
            if (child.exitCode !== null) throw new Error(`hadirector exited ${child.exitCode}:\n${output}`);
            return held().length === vips.length ? true : undefined;
          },
          deadlineMs,
          100,
        ).catch((err: Error) => {
          throw new Error(`${err.message}; up: ${held().join(', ')} of ${vips.map((v) => `${v.address} (${v.instance} on ${v.dev})`).join(', ')}\n${output.split('\n').slice(-20).join('\n')}`);
        });
        console.log(`      (${sample}: ${config.vrrpInstances.length} instance(s) master, ${vips.length} VIP(s) up)`);
      } finally {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
          const gone = new Promise((resolve) => child.once('exit', resolve));
          process.kill(-child.pid, 'SIGTERM');
          await gone;
        }
      }
      assert.deepEqual(held(), [], 'a clean stop takes every VIP down');
    });
  }
});
