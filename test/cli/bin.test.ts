import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/paths';
import { directorsAndWitness } from '../support/cluster-config';

const bin = path.join(repoRoot(), 'bin', 'hadirector');
const sample = path.join(repoRoot(), 'config', 'hadirector.conf');

function hadirector(args: string[], cwd = os.tmpdir()): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the hadirector executable', () => {
  it('runs from any working directory and prints its version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
    const r = hadirector(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('answers --help on every subcommand', () => {
    for (const args of [['--help'], ['check-config', '--help'], ['help', 'check-config']]) {
      const r = hadirector(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /Usage: hadirector/);
    }
  });

  it('prints the typed model with file:line:col on every part under --json', () => {
    const r = hadirector(['check-config', '-f', sample, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { diagnostics: unknown[]; nodes: Record<string, { vrrpInstances: Array<{ where: { file: string; line: number; col: number }; priority: number }> }> };
    assert.deepEqual(out.diagnostics, []);
    assert.deepEqual(Object.keys(out.nodes), ['d1', 'd2', 'w1']);
    const vi = out.nodes['d1']?.vrrpInstances[0];
    assert.equal(vi?.priority, 150);
    assert.equal(vi?.where.file, sample);
    assert.ok((vi?.where.line ?? 0) > 1 && (vi?.where.col ?? 0) >= 1);
  });

  it('never prints a fence device\'s password under --json', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-bin-'));
    try {
      const file = path.join(dir, 'c.conf');
      fs.writeFileSync(path.join(dir, 'k'), 'a cluster key of some length\n');
      fs.writeFileSync(file, 'cluster {\n  auth_key_file k\n  node d1 {\n    address 127.0.0.1\n  }\n  fencing {\n    device ipmi {\n      agent fence_ipmilan\n      ip 10.0.0.9\n      password s3cr3t-pw\n    }\n  }\n}\n');
      const r = hadirector(['check-config', '-f', file, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /s3cr3t-pw/);
      assert.match(r.stdout, /"password": "\*\*\*"/);
      assert.match(r.stdout, /"ip": "10\.0\.0\.9"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with the diagnostics on stderr, and no stack trace, for a broken file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-bin-'));
    try {
      fs.writeFileSync(path.join(dir, 'bad.conf'), 'vrrp_instance VI_1 {\n  priority 300\n');
      const r = hadirector(['check-config', '-f', 'bad.conf', '--node', 'x'], dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^bad\.conf:1:1: error: vrrp_instance 'VI_1' needs a virtual_router_id \(1\.\.255\) \[HAD_CFG_MISSING_KEYWORD\]$/m);
      assert.match(r.stderr, /^bad\.conf:2:12: warning: priority 300 is outside 1\.\.255: ignored \(the default stays\), as keepalived ignores it \[HAD_CFG_OUT_OF_RANGE\]$/m);
      assert.match(r.stderr, /^bad\.conf:1:20: warning: '\{' of 'vrrp_instance VI_1' is never closed/m);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs JSON lines through winston with --log-format json', () => {
    const r = hadirector(['--log-format', 'json', '--log-level', 'debug', 'check-config', '-f', sample, '--node', 'd1']);
    assert.equal(r.code, 0, r.stderr);
    const logLine = r.stderr.split('\n').find((l) => l.startsWith('{'));
    assert.ok(logLine !== undefined, r.stderr);
    const entry = JSON.parse(logLine) as Record<string, unknown>;
    assert.equal(entry['level'], 'debug');
    assert.equal(entry['message'], 'checking configuration');
    assert.equal(entry['node'], 'd1');
  });

  it('keeps debug lines out at the default log level', () => {
    const r = hadirector(['check-config', '-f', sample, '--node', 'd1']);
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stderr, /checking configuration/);
  });

  it('refuses a bad --log-format with a usage error', () => {
    const r = hadirector(['--log-format', 'xml', 'check-config', '-f', sample]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are text, json/);
  });
});

describe('the hadirector executable on a closed pipe', () => {
  it('stops quietly when its reader goes away (| head), with no stack trace', () => {
    const r = spawnSync('/bin/sh', ['-c', `"${bin}" check-config -f "${path.join(repoRoot(), 'config', 'three-directors.conf')}" | head -1`], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0);
    assert.equal(r.stdout.split('\n').length, 2, 'one line, then the pipe closed');
    assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
  });

  it('runs an ipvs-sim script from standard input', () => {
    const script = 'ipvsadm -A -u 10.0.0.1:53 -s rr\nipvsadm -a -u 10.0.0.1:53 -r 10.0.0.2 -m\nconnect udp 192.168.0.1:5353 10.0.0.1:53\nipvsadm -L -n --timeout\n';
    const r = spawnSync(bin, ['ipvs-sim'], { input: script, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '192.168.0.1:5353 -> 10.0.0.2:53\nTimeout (tcp tcpfin udp): 900 120 300\n');
  });
});

describe('hadirector run as a user without privileges', () => {
  const unprivileged = (args: string[]) =>
    spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, ...args], { encoding: 'utf8', cwd: os.tmpdir(), timeout: 20_000 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-nobody-'));
  fs.chmodSync(dir, 0o777);
  const conf = path.join(dir, 'keepalived.conf');
  fs.writeFileSync(conf, 'vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 51\n    virtual_ipaddress {\n        127.0.0.77/32\n    }\n}\n', { mode: 0o644 });
  const paths = ['--control', path.join(dir, 'c.sock'), '--pid-file', path.join(dir, 'c.pid')];

  before(function () {
    const why =
      process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0
        ? 'needs root and setpriv to run as nobody'
        : unprivileged(['--version']).status !== 0
          ? 'nobody cannot read this checkout'
          : undefined;
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('with no cluster block, says VRRP needs CAP_NET_RAW and does not start', () => {
    const r = unprivileged(['run', '-f', conf, ...paths]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /raw sockets \(IP protocol 112\) need CAP_NET_RAW/);
    assert.doesNotMatch(r.stderr, /internal error|    at /);
  });

  it('names the pid file it cannot write, with no stack trace', () => {
    const r = unprivileged(['run', '-f', conf, '--control', path.join(dir, 'c.sock'), '--pid-file', '/proc/hadirector.pid']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot write the pid file \/proc\/hadirector\.pid: E[A-Z]+/);
    assert.doesNotMatch(r.stderr, /internal error|    at /);
  });
});

describe('the cluster key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-key-'));
  const conf = path.join(dir, 'c.conf');
  fs.writeFileSync(conf, directorsAndWitness({ clusterId: 'k', lan: '10.215.0', port: 7000, heartbeat: '1s', deadtime: '3s' }));
  const key = path.join(dir, 'cluster.key');
  const risky = (stderr: string) => stderr.split('\n').filter((l) => /HAD_CFG_RISKY/.test(l) && /auth_key_file/.test(l));

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('genkey writes a new key with mode 0600, prints one without -o, and never overwrites without --force', () => {
    const printed = hadirector(['genkey']);
    assert.equal(printed.code, 0);
    assert.match(printed.stdout, /^[A-Za-z0-9+/]{64}\n$/);
    assert.equal(hadirector(['genkey', '-o', key]).code, 0);
    assert.equal(fs.statSync(key).mode & 0o777, 0o600);
    const first = fs.readFileSync(key, 'utf8');
    const again = hadirector(['genkey', '-o', key]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists \(--force replaces it/);
    assert.equal(fs.readFileSync(key, 'utf8'), first);
    fs.chmodSync(key, 0o644);
    assert.equal(hadirector(['genkey', '-o', key, '--force']).code, 0);
    assert.notEqual(fs.readFileSync(key, 'utf8'), first);
    assert.equal(fs.statSync(key).mode & 0o777, 0o600);
  });

  it('check-config is quiet on a key of its own with mode 0600', () => {
    const r = hadirector(['check-config', '-f', conf, '--node', 'd1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(risky(r.stderr), []);
  });

  it('check-config warns of a key others can read, and of the sample key, with where to act', () => {
    fs.copyFileSync(path.join(repoRoot(), 'config', 'cluster.key'), key);
    fs.chmodSync(key, 0o644);
    const r = hadirector(['check-config', '-f', conf, '--node', 'd1']);
    assert.equal(r.code, 0, r.stderr);
    const lines = risky(r.stderr);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] as string, /c\.conf:3:5: warning: auth_key_file .*: this is the sample key that ships with hadirector.*hadirector genkey -o FILE/);
    assert.match(lines[1] as string, /readable by other users \(mode 0644\).*chmod 600 cluster\.key/);
  });
});
