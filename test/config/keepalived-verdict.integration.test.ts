// hadirector's verdict on a keepalived.conf against keepalived's own: Debian's
// `keepalived -t -f FILE` (2.2.7) beside check-config, on keepalived's samples and on the
// corpus in test/data/keepalived-corpus. keepalived -t exits 0 for a clean file, 4 for
// one it will not run, 5 (6 for script security) for one it complains of; some of those
// it runs, some its daemon still refuses (no virtual_router_id, say), so a file -t
// complains of is also run for a moment, and refused when the daemon exits with its
// configuration error. hadirector must accept the clean, reject the refused with
// FILE:LINE:COL, and accept the rest with at least one warning. keepalived checks
// interfaces, so it runs in a network namespace with eth0 to eth3 (root only).
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkConfig } from '../../src/config/check';
import { formatDiagnostic } from '../../src/config/diagnostics';
import { netnsUnavailable } from '../../src/lab/netns';
import { repoRoot, sharedDir } from '../support/paths';

const corpusDir = path.join(repoRoot(), 'test', 'data', 'keepalived-corpus');
const samplesDir = path.join(sharedDir(), 'reference', 'keepalived-samples');
const keepalivedPaths = ['/usr/sbin/keepalived', '/sbin/keepalived', '/usr/bin/keepalived'];

type Verdict = 'clean' | 'complains' | 'refuses';

/** keepalived -t's verdict; a file it complains of is run too (concurrently, the slow part), each in a run directory of its own. */
async function keepalivedVerdict(ns: string, file: string, runDir: string): Promise<{ verdict: Verdict; said: string }> {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-f', file], { encoding: 'utf8', timeout: 20_000 });
  const said = `${r.stdout}${r.stderr}`.trim();
  if (r.status === 0) return { verdict: 'clean', said };
  if (r.status === 4) return { verdict: 'refuses', said };
  if (r.status === 5 || r.status === 6) return (await daemonRefuses(ns, file, runDir)) ? { verdict: 'refuses', said: `${said}\n(the daemon exits with its configuration error)` } : { verdict: 'complains', said };
  throw new Error(`keepalived -t ${file}: exit ${r.status ?? r.signal}: ${said}`);
}

/**
 * Runs keepalived on the file for two seconds: whether it gave up on its configuration.
 * (Without IPVS in this kernel its checker process stops for that, which is no verdict
 * on the file.)
 */
function daemonRefuses(ns: string, file: string, runDir: string): Promise<boolean> {
  const dir = fs.mkdtempSync(path.join(runDir, 'run-'));
  const pids = ['-p', 'k', '-r', 'v', '-c', 'c'].map((a, i) => (i % 2 === 0 ? a : path.join(dir, `${a}.pid`)));
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, 'keepalived', '-n', '-l', '-D', '-f', file, ...pids], { encoding: 'utf8', timeout: 2000, killSignal: 'SIGTERM' }, (_err, stdout, stderr) => {
      resolve(/exited with permanent error CONFIG/.test(`${stdout}${stderr}`));
    });
  });
}

function corpus(): string[] {
  const own = fs.readdirSync(corpusDir).filter((f) => f.endsWith('.conf')).map((f) => path.join(corpusDir, f));
  const samples = fs.existsSync(samplesDir) ? fs.readdirSync(samplesDir).filter((f) => f.startsWith('keepalived.conf.')).map((f) => path.join(samplesDir, f)) : [];
  return [...own, ...samples].sort();
}

describe("check-config's verdict is keepalived's (integration, keepalived -t in a namespace, root)", function () {
  this.timeout(120_000);
  const ns = `hdkv${process.pid % 100_000}`;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-kv-'));

  before(function () {
    const why = netnsUnavailable() ?? (keepalivedPaths.some((p) => fs.existsSync(p)) ? undefined : 'needs keepalived (apt-get install keepalived)');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    execFileSync('ip', ['netns', 'add', ns]);
    for (const [a, b] of [['eth0', 'eth1'], ['eth2', 'eth3']]) {
      execFileSync('ip', ['-n', ns, 'link', 'add', a as string, 'type', 'veth', 'peer', 'name', b as string]);
      for (const dev of [a, b]) execFileSync('ip', ['-n', ns, 'link', 'set', dev as string, 'up']);
    }
    execFileSync('ip', ['-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
  });

  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('agrees on every file of the corpus and every keepalived sample', async () => {
    const rows: string[] = [];
    const disagreements: string[] = [];
    const files = corpus();
    const verdicts = await Promise.all(files.map((file) => keepalivedVerdict(ns, file, runDir)));
    for (const [i, file] of files.entries()) {
      const keepalived = verdicts[i] as { verdict: Verdict; said: string };
      const ours = checkConfig(path.basename(file), { cwd: path.dirname(file) });
      const lines = ours.diagnostics.map((d) => formatDiagnostic(d));
      const verdict: Verdict = ours.errorCount > 0 ? 'refuses' : ours.warningCount > 0 ? 'complains' : 'clean';
      const agrees = keepalived.verdict === 'refuses' ? verdict === 'refuses' : keepalived.verdict === 'complains' ? verdict === 'complains' : verdict !== 'refuses';
      rows.push(`${path.basename(file)}: keepalived ${keepalived.verdict}, hadirector ${verdict}`);
      if (!agrees) disagreements.push(`${file}: keepalived ${keepalived.verdict}:\n${keepalived.said}\nhadirector ${verdict}:\n${lines.join('\n')}`);
    }
    console.log(rows.map((r) => `      (${r})`).join('\n'));
    assert.deepEqual(disagreements, []);
    assert.ok(rows.length >= 10);
  });
});
