import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import type { HadConfig } from '../../src/config/model';
import type { Command } from '../../src/config/values';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostProbes, processMatches, type ProcessPattern, type TrackProbes } from '../../src/track/probes';
import { Trackers } from '../../src/track/trackers';
import type { TrackBinding, TrackReading } from '../../src/track/weights';
import { newVrrpScript, newVrrpTrackFile, newVrrpTrackProcess } from '../../src/vrrp/config';
import { runVirtual } from '../support/virtual-time';

const where = { file: 'c.conf', line: 1, col: 1 };

class FakeHost implements TrackProbes {
  links = new Map<string, boolean>();
  processes = 0;
  files = new Map<string, number>();
  /** Per run: exit status after a delay, or never (hangs). */
  scriptPlan: Array<{ ok: boolean; afterMs: number } | 'hang'> = [];
  runs: Array<{ atMs: number; timeoutMs: number }> = [];

  constructor(private readonly clock: VirtualClock) {}

  interfaceUp(name: string): boolean {
    return this.links.get(name) ?? false;
  }
  processCount(_p: ProcessPattern): number {
    return this.processes;
  }
  readNumber(file: string): number {
    return this.files.get(file) ?? 0;
  }
  fileExists(file: string): boolean {
    return this.files.has(file);
  }
  writeNumber(file: string, value: number): void {
    this.files.set(file, value);
  }
  runScript(_c: Command, timeoutMs: number): Promise<boolean> {
    this.runs.push({ atMs: this.clock.nowMs(), timeoutMs });
    const plan = this.scriptPlan.shift() ?? { ok: true, afterMs: 1 };
    return new Promise((resolve) => {
      // As the host probe does: a run past its timeout is killed and counts as failed.
      const waitMs = plan === 'hang' ? timeoutMs : Math.min(plan.afterMs, timeoutMs);
      this.clock.setTimeout(() => resolve(plan !== 'hang' && plan.afterMs <= timeoutMs && plan.ok), waitMs);
    });
  }
}

function config(): HadConfig {
  const script = { ...newVrrpScript('chk', where), script: { argv: ['/bin/true'], where }, intervalMs: 1000, timeoutMs: 500, fall: 2, rise: 2 };
  const file = { ...newVrrpTrackFile('prio', where), file: '/run/prio', initFile: { value: 7, overwrite: false } };
  const proc = { ...newVrrpTrackProcess('nginx', where), process: 'nginx', quorum: 2, quorumMax: 3, forkDelayMs: 2000, terminateDelayMs: 1000 };
  return { vrrpScripts: [script], vrrpTrackFiles: [file], vrrpTrackProcesses: [proc] } as unknown as HadConfig;
}

const bindings: TrackBinding[] = [
  { kind: 'script', name: 'chk', weight: 0, reverse: false },
  { kind: 'file', name: 'prio', weight: 1, reverse: false },
  { kind: 'process', name: 'nginx', weight: -10, reverse: false },
  { kind: 'interface', name: 'eth1', weight: 0, reverse: false },
];

function setup() {
  const clock = new VirtualClock();
  const host = new FakeHost(clock);
  const changes: string[] = [];
  const show = (r: TrackReading) => ('up' in r ? (r.up ? 'up' : 'down') : String(r.value));
  const trackers = new Trackers(config(), bindings, clock, host, { changed: (kind, name, r) => changes.push(`${Math.round(clock.nowMs())} ${kind} ${name} ${show(r)}`) });
  return { clock, host, changes, trackers };
}

describe('trackers on virtual time', () => {
  it('reads everything once at start, creating the file with init_file', () => {
    const { host, changes, trackers } = setup();
    host.links.set('eth1', true);
    trackers.start();
    assert.deepEqual(changes, ['0 interface eth1 up', '0 file prio 7', '0 process nginx down', '0 script chk up']);
    assert.equal(host.files.get('/run/prio'), 7);
    trackers.stop();
  });

  it('runs a script every interval, kills one past its timeout, and goes down after `fall` failures, up after `rise` successes', async () => {
    const { clock, host, changes, trackers } = setup();
    host.scriptPlan = [{ ok: true, afterMs: 10 }, { ok: false, afterMs: 10 }, 'hang', { ok: true, afterMs: 10 }, { ok: true, afterMs: 10 }];
    trackers.start();
    await runVirtual(clock, 4500);
    trackers.stop();
    assert.deepEqual(host.runs.map((r) => r.atMs), [0, 1000, 2000, 3000, 4000]);
    assert.ok(host.runs.every((r) => r.timeoutMs === 500));
    assert.deepEqual(changes.filter((c) => c.includes('script')), ['0 script chk up', '2500 script chk down', '4010 script chk up']);
  });

  it('never runs a script twice at once', async () => {
    const { clock, host, trackers } = setup();
    host.scriptPlan = [{ ok: true, afterMs: 400 }];
    trackers.start();
    await runVirtual(clock, 300);
    trackers.stop();
    assert.equal(host.runs.length, 1);
  });

  it('follows a file and an interface as they change', async () => {
    const { clock, host, changes, trackers } = setup();
    host.links.set('eth1', true);
    trackers.start();
    host.files.set('/run/prio', -3);
    host.links.set('eth1', false);
    await runVirtual(clock, 600);
    trackers.stop();
    assert.ok(changes.includes('100 interface eth1 down'), changes.join('\n'));
    assert.ok(changes.includes('500 file prio -3'), changes.join('\n'));
  });

  it('believes a process count within quorum..quorum_max only after fork_delay, and its loss after terminate_delay', async () => {
    const { clock, host, changes, trackers } = setup();
    trackers.start();
    host.processes = 2;
    await runVirtual(clock, 4000);
    host.processes = 4;
    await runVirtual(clock, 3000);
    trackers.stop();
    assert.deepEqual(changes.filter((c) => c.includes('process')), ['0 process nginx down', '3000 process nginx up', '6000 process nginx down']);
  });
});

describe('process matching (vrrp_track_process)', () => {
  const p = (over: Partial<ProcessPattern>): ProcessPattern => ({ name: 'nginx', params: [], paramMatch: 'exact', fullCommand: false, ...over });

  it('matches the kernel name exactly (15 characters), whatever the parameters, when none are set', () => {
    assert.equal(processMatches(p({}), 'nginx', ['nginx: worker process']), true);
    assert.equal(processMatches(p({}), 'nginx-debug', ['nginx-debug']), false);
    assert.equal(processMatches(p({ name: 'a-very-long-process-name' }), 'a-very-long-pro', ['/usr/bin/a-very-long-process-name']), true);
  });

  it('with full_command, matches the first word of the command line, as a path or a name', () => {
    assert.equal(processMatches(p({ name: '/usr/sbin/haproxy', fullCommand: true }), 'haproxy', ['/usr/sbin/haproxy', '-f', 'x']), true);
    assert.equal(processMatches(p({ name: 'haproxy', fullCommand: true }), 'haproxy', ['/usr/sbin/haproxy']), true);
  });

  it('matches parameters exactly, as a prefix (initial) or anywhere in a row (partial)', () => {
    const argv = ['nginx', '-c', '/etc/a.conf', '-g', 'daemon off;'];
    assert.equal(processMatches(p({ params: ['-c', '/etc/a.conf'] }), 'nginx', argv), false);
    assert.equal(processMatches(p({ params: ['-c', '/etc/a.conf'], paramMatch: 'initial' }), 'nginx', argv), true);
    assert.equal(processMatches(p({ params: ['/etc/a.conf', '-g'], paramMatch: 'partial' }), 'nginx', argv), true);
    assert.equal(processMatches(p({ params: ['-g', '/etc/a.conf'], paramMatch: 'partial' }), 'nginx', argv), false);
    assert.equal(processMatches(p({ params: argv.slice(1) }), 'nginx', argv), true);
  });
});

describe('the host probes', () => {
  it('see lo up and a missing interface down', () => {
    assert.equal(hostProbes.interfaceUp('lo'), true);
    assert.equal(hostProbes.interfaceUp('nosuch0'), false);
  });

  it('count this very process by its kernel name and by its command line', () => {
    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
    assert.ok(hostProbes.processCount({ name: comm, params: [], paramMatch: 'exact', fullCommand: false }) >= 1);
    const argv0 = fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0')[0] as string;
    assert.ok(hostProbes.processCount({ name: argv0, params: [], paramMatch: 'exact', fullCommand: true }) >= 1);
    assert.equal(hostProbes.processCount({ name: 'no-such-process-here', params: [], paramMatch: 'exact', fullCommand: false }), 0);
  });

  it('read the integer a file starts with, 0 when there is none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-track-'));
    const file = path.join(dir, 'prio');
    try {
      assert.equal(hostProbes.fileExists(file), false);
      assert.equal(hostProbes.readNumber(file), 0);
      hostProbes.writeNumber(file, -42);
      assert.equal(hostProbes.readNumber(file), -42);
      fs.writeFileSync(file, '  17 apples\n');
      assert.equal(hostProbes.readNumber(file), 17);
      fs.writeFileSync(file, 'none');
      assert.equal(hostProbes.readNumber(file), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run a script: exit 0 is success, anything else or a timeout a failure', async () => {
    const where = { file: 'c.conf', line: 1, col: 1 };
    assert.equal(await hostProbes.runScript({ argv: ['/bin/sh', '-c', 'exit 0'], where }, 5000), true);
    assert.equal(await hostProbes.runScript({ argv: ['/bin/sh', '-c', 'exit 3'], where }, 5000), false);
    assert.equal(await hostProbes.runScript({ argv: ['/bin/sh', '-c', 'sleep 5'], where }, 100), false);
    assert.equal(await hostProbes.runScript({ argv: ['/no/such/program'], where }, 5000), false);
  });

  it('run a line that starts with </ through /bin/sh, as keepalived does: it succeeds when the file opens', async () => {
    const where = { file: 'c.conf', line: 1, col: 1 };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'had-redir-'));
    try {
      fs.writeFileSync(path.join(dir, 'present'), '');
      assert.equal(await hostProbes.runScript({ argv: [`<${dir}/present`], where }, 5000), true);
      assert.equal(await hostProbes.runScript({ argv: [`<${dir}/absent`], where }, 5000), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
