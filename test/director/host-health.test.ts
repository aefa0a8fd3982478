// Host health in a running director: two directors with no cluster block (VRRP as
// keepalived runs it) on a fake segment, on virtual time, their host facts given by a
// script through the same HostFactSource the systeminformation sampler fills. A red host
// hands its VIP over (FAULT, priority 0) and takes it back only after the hold time;
// progressive lowers the priority; status, its text, metrics, notify_fifo and the
// host_health notify script say so.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatStatus } from '../../src/cli/status-text';
import { VirtualClock } from '../../src/common/clock';
import { silentLogger } from '../../src/common/log';
import { controlRequest } from '../../src/director/control-client';
import { Director } from '../../src/director/director';
import type { HostStatus } from '../../src/director/host-monitor';
import type { HostFactSource, HostFacts } from '../../src/host/facts';
import { loadText } from '../config/load-text';
import { waitFor } from '../support/director-process';
import { Segment } from '../support/wire-segment';

/** A host whose memory use a test sets; every other fact calm. */
class ScriptedHost implements HostFactSource {
  memory = 40;
  samples = 0;

  sample(paths: readonly string[], interfaces: readonly string[]): Promise<HostFacts> {
    this.samples++;
    return Promise.resolve({
      memoryUsedPercent: this.memory,
      swapUsedPercent: 0,
      cpuPercent: 5,
      load1PerCpu: 0.1,
      load5PerCpu: 0.12,
      load15PerCpu: 0.1,
      fileSystems: paths.map((p) => ({ path: p, mount: '/', usedPercent: 20 })),
      interfaces: interfaces.map((name) => ({ name, link: 'up' as const, speedMbps: 1000, mac: '52:54:00:00:00:01', addresses: ['192.0.2.1/24'] })),
      uptimeS: 86_400,
    });
  }
}

interface VrrpLine {
  instance: string;
  state: string;
  faults?: string[];
}

const config = (dir: string, priority: number, health: readonly string[]): string => `
global_defs {
    notify_fifo ${dir}/fifo
    host_health {
${health.map((l) => `        ${l}`).join('\n')}
        notify "${dir}/host-notify.sh"
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    virtual_ipaddress {
        127.0.0.200
    }
}
`;

interface Pair {
  clock: VirtualClock;
  dir: string;
  d1: Director;
  d2: Director;
  host1: ScriptedHost;
  stop(): Promise<void>;
}

async function pair(health: readonly string[]): Promise<Pair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-host-'));
  const clock = new VirtualClock();
  const segment = new Segment(clock);
  const host1 = new ScriptedHost();
  const start = async (node: string, priority: number, address: string, facts: HostFactSource): Promise<Director> => {
    const nodeDir = path.join(dir, node);
    fs.mkdirSync(nodeDir);
    fs.writeFileSync(path.join(nodeDir, 'host-notify.sh'), `#!/bin/sh\nprintf '[%s]' "$@" >> ${nodeDir}/host-notify.log\necho >> ${nodeDir}/host-notify.log\n`, { mode: 0o755 });
    const loaded = loadText(config(nodeDir, priority, health), { node });
    assert.equal(loaded.errorCount, 0, JSON.stringify(loaded.diagnostics));
    return Director.start({
      config: loaded.config,
      configFile: path.join(nodeDir, 'keepalived.conf'),
      controlPath: path.join(nodeDir, 'control.sock'),
      logDir: nodeDir,
      log: silentLogger(),
      clock,
      drainMs: 0,
      root: false,
      wireSockets: segment.opener(node),
      interfaces: (name) => (name === 'eth0' ? [{ family: 4, address }] : undefined),
      hostFacts: facts,
    });
  };
  const d1 = await start('d1', 150, '192.0.2.1', host1);
  const d2 = await start('d2', 100, '192.0.2.2', new ScriptedHost());
  return {
    clock,
    dir,
    d1,
    d2,
    host1,
    stop: async () => {
      await d1.stop();
      await d2.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Virtual time in small steps, letting each sample's promise and each queued change run between them. */
async function run(clock: VirtualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const vrrpOf = (d: Director): VrrpLine => ((d.status() as { vrrp: VrrpLine[] }).vrrp[0] as VrrpLine);
const stateOf = (d: Director): string => vrrpOf(d).state;

/** What a reader of the FIFO finds there now (the director holds it open read-write, so the lines wait in the pipe). */
function fifoLines(fifo: string): string[] {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const buffer = Buffer.alloc(65_536);
    let text = '';
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(fd, buffer);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw err;
      }
      if (n === 0) break;
      text += buffer.subarray(0, n).toString('utf8');
    }
    return text.split('\n').filter((l) => l !== '');
  } finally {
    fs.closeSync(fd);
  }
}

describe('host health in a director', function () {
  this.timeout(30_000);

  it('migrate_on_red: memory above red puts the master in FAULT (the VIP moves at once, with priority 0); it comes back only after the hold time, with preempt', async () => {
    const p = await pair(['strategy migrate_on_red', 'interval 1', 'hold 10', 'memory 80 90']);
    try {
      await run(p.clock, 5000);
      assert.deepEqual([stateOf(p.d1), stateOf(p.d2)], ['master', 'backup']);
      assert.equal(p.host1.samples >= 5, true, 'one sample at start, then one a second');

      p.host1.memory = 95;
      await run(p.clock, 1000);
      assert.equal(stateOf(p.d1), 'fault', 'within one sample');
      assert.deepEqual(vrrpOf(p.d1).faults, ['host health red: memory red 95']);
      // The priority 0 advert: d2 waits only its skew time (under a second), not 3 × advert.
      await run(p.clock, 1000);
      assert.equal(stateOf(p.d2), 'master');
      const host = p.d1.hostStatus();
      assert.deepEqual([host.colour, host.fault, host.reasons], ['red', true, ['memory red 95']]);

      p.host1.memory = 50;
      await run(p.clock, 1000);
      const held = p.d1.hostStatus();
      assert.equal(held.colour, 'green');
      assert.ok(held.heldUntil !== undefined, 'the FAULT is held');
      assert.match(vrrpOf(p.d1).faults?.[0] ?? '', /^host health green: held until \d{4}-/);
      await run(p.clock, 8000);
      assert.deepEqual([stateOf(p.d1), stateOf(p.d2)], ['fault', 'master'], 'still held 9 s after it left red');
      // The hold ends 10 s after it left red; then Master_Down (3 × advert + skew) before it preempts.
      await run(p.clock, 6000);
      assert.deepEqual([stateOf(p.d1), stateOf(p.d2)], ['master', 'backup']);
      assert.equal(vrrpOf(p.d1).faults, undefined);

      const fifo = fifoLines(path.join(p.dir, 'd1', 'fifo'));
      assert.deepEqual(
        fifo.filter((l) => l.startsWith('HOST') || l.startsWith('INSTANCE')),
        ['INSTANCE "VI_1" BACKUP 150', 'INSTANCE "VI_1" MASTER 150', 'HOST "d1" RED memory red 95', 'INSTANCE "VI_1" FAULT 150', 'HOST "d1" GREEN', 'INSTANCE "VI_1" BACKUP 150', 'INSTANCE "VI_1" MASTER 150'],
      );
      const notified = await waitFor('the notify script twice', () => {
        const log = path.join(p.dir, 'd1', 'host-notify.log');
        const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
        return text.split('\n').length > 2 ? text : undefined;
      });
      assert.equal(notified, '[HOST][d1][RED][memory red 95]\n[HOST][d1][GREEN][]\n', 'HOST NODE COLOUR CAUSES: always four arguments');
    } finally {
      await p.stop();
    }
  });

  it('status, its text and metrics show each fact with its value, colour and since when, and the last sample', async () => {
    const p = await pair(['strategy migrate_on_red', 'interval 1', 'hold 10', 'memory 80 90', 'disk 85 95']);
    try {
      await run(p.clock, 4000);
      p.host1.memory = 95;
      await run(p.clock, 2000);
      const status = p.d1.status() as { host: HostStatus };
      const memory = status.host.facts.find((f) => f.fact === 'memory');
      assert.deepEqual({ ...memory, since: undefined }, { fact: 'memory', value: 95, colour: 'red', since: undefined });
      assert.deepEqual(status.host.facts.find((f) => f.fact === 'cpu'), { fact: 'cpu', value: 5 }, 'sampled, not judged');
      assert.ok(status.host.lastSample !== undefined && status.host.lastSample.durationMs >= 0);
      assert.deepEqual(status.host.interfaces, ['eth0']);
      assert.deepEqual(status.host.paths, [path.join(p.dir, 'd1')]);

      const text = formatStatus(status);
      assert.match(text, /^host RED since \S+, strategy migrate_on_red: instances in FAULT \(memory red 95\)$/m);
      assert.match(text, /^ {2}memory 95%: red since \d{4}-\S+$/m);
      assert.match(text, /^ {2}disk 20% \(.* on \/\): green since \S+$/m);
      assert.match(text, /^ {2}cpu 5%: not judged$/m);
      assert.match(text, /^ {2}sampled \S+ in \d+(\.\d+)? ms, heap [+-]\d+\.\d KiB; \d+ samples every 1 s; load per CPU 0\.1 0\.12 0\.1; host up 1d 0s$/m);
      assert.match(text, /^ {2}link eth0: up, 1000 Mb\/s, 52:54:00:00:00:01, 192\.0\.2\.1\/24$/m);
      assert.match(text, /^vrrp VI_1 fault priority=150 .*\n {2}FAULT: host health red: memory red 95$/m);

      const r = await controlRequest(path.join(p.dir, 'd1', 'control.sock'), { op: 'metrics' }, 5000);
      assert.ok(r.ok);
      const metrics = r.result as string;
      for (const line of [
        'hadirector_host_fact_value{fact="memory"} 95',
        'hadirector_host_fact_value{fact="cpu"} 5',
        'hadirector_host_fact_colour{fact="memory"} 2',
        'hadirector_host_fact_colour{fact="disk"} 0',
        'hadirector_host_colour 2',
        'hadirector_host_fault 1',
        'hadirector_host_priority_delta 0',
        'hadirector_host_interface_up{interface="eth0"} 1',
      ]) {
        assert.ok(metrics.includes(`${line}\n`), `${line} in:\n${metrics.split('\n').filter((l) => l.startsWith('hadirector_host')).join('\n')}`);
      }
      assert.match(metrics, /^hadirector_host_sample_duration_milliseconds \d/m);
      assert.match(metrics, /^hadirector_host_filesystem_used_percent\{path="[^"]+",mount="\/"\} 20$/m);
      assert.doesNotMatch(metrics, /hadirector_host_fact_colour\{fact="cpu"\}/, 'a fact not judged has no colour');
    } finally {
      await p.stop();
    }
  });

  it('progressive: a yellow fact takes its weight off the priority, so a preempting peer takes over; the penalty lifts after the hold time', async () => {
    const p = await pair(['strategy progressive', 'interval 1', 'hold 10', 'memory 80 90 weight 60']);
    try {
      await run(p.clock, 5000);
      assert.deepEqual([stateOf(p.d1), stateOf(p.d2)], ['master', 'backup']);
      p.host1.memory = 85;
      await run(p.clock, 6000);
      assert.match(vrrpOf(p.d1).instance, /^VI_1 backup priority=90 /);
      assert.deepEqual([stateOf(p.d1), stateOf(p.d2)], ['backup', 'master']);
      assert.equal(p.d1.hostStatus().priorityDelta, -60);
      assert.equal(vrrpOf(p.d1).faults, undefined, 'a penalty is no FAULT');

      p.host1.memory = 40;
      await run(p.clock, 5000);
      assert.match(vrrpOf(p.d1).instance, /priority=90 /, 'held');
      await run(p.clock, 10_000);
      assert.match(vrrpOf(p.d1).instance, /priority=150 /);
      assert.deepEqual([stateOf(p.d1), stateOf(p.d2)], ['master', 'backup']);
    } finally {
      await p.stop();
    }
  });

  it('a host red at start starts its instances in FAULT (one sample before they start), and a SIGHUP reload that raises the threshold lets them go after the hold time', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-host-'));
    const clock = new VirtualClock();
    const host = new ScriptedHost();
    // Red at 90; raised to 99, 93 is yellow: below 99 by more than the hysteresis (5).
    host.memory = 93;
    const text = (red: number) => config(dir, 150, ['strategy migrate_on_red', 'interval 1', 'hold 5', `memory 80 ${red}`]);
    const loaded = loadText(text(90), { node: 'd1' });
    const director = await Director.start({
      config: loaded.config,
      configFile: path.join(dir, 'keepalived.conf'),
      controlPath: path.join(dir, 'control.sock'),
      log: silentLogger(),
      clock,
      drainMs: 0,
      root: false,
      wireSockets: new Segment(clock).opener('d1'),
      interfaces: () => [{ family: 4, address: '192.0.2.1' }],
      hostFacts: host,
    });
    try {
      assert.equal(stateOf(director), 'fault');
      assert.equal(host.samples, 1);
      assert.deepEqual(await director.reload(loadText(text(99), { node: 'd1' }).config), []);
      assert.equal(director.hostStatus().colour, 'yellow', 'judged at once on the last sample');
      await run(clock, 4000);
      assert.equal(stateOf(director), 'fault');
      await run(clock, 6000);
      assert.equal(stateOf(director), 'master');
    } finally {
      await director.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
