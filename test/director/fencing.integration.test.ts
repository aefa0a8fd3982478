// Fencing on real processes: three directors and the `signal` agent on loopback. The
// master (also the DC) is frozen with SIGSTOP: the others elect a new DC, which fences it
// (its process dies), and only then does a backup take the VIP; the gate says it is
// waiting for the fence meanwhile. The fenced node restarts and rejoins as a backup.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { bin, loopbackNet, waitFor } from '../support/director-process';

const lan = loopbackNet();
const port = 16500 + (process.pid % 50);

function config(dir: string): string {
  return `
cluster {
    cluster_id fencing
    auth_key_file cluster.key
    port ${port}
    heartbeat_interval 200ms
    deadtime 1s
    fencing {
        mode power
        action off
        device kill {
            agent signal
            pid_file ${dir}/%n.pid
            timeout 5s
        }
    }
    node d1 {
        address ${lan}.91
        priority 150
    }
    node d2 {
        address ${lan}.92
        priority 120
    }
    node d3 {
        address ${lan}.93
        priority 100
    }
}
vrrp_instance VI_1 {
    virtual_router_id 51
    version 3
@d1 priority 150
@d2 priority 120
@d3 priority 100
    advert_int 0.2
    virtual_ipaddress {
        ${lan}.100
    }
}
`;
}

/** The time of the first log line matching at or after `sinceMs`, in ms since the epoch. */
function when(log: string, pattern: RegExp, sinceMs: number): number | undefined {
  for (const line of log.split('\n')) {
    const at = Date.parse(line.slice(0, 24));
    if (at >= sinceMs && pattern.test(line)) return at;
  }
  return undefined;
}

describe('fencing a frozen master on loopback (integration, signal agent)', function () {
  this.timeout(60_000);
  const lab = new ClusterLab(config('DIR'));
  const state = async (node: string) => (await lab.instances(node))?.get('VI_1')?.split(' ')[1];
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    fs.writeFileSync(path.join(lab.dir, 'c.conf'), config(lab.dir));
    for (const n of ['d1', 'd2', 'd3']) lab.start(n);
    await waitFor('d1 to be master', async () => ((await state('d1')) === 'master' ? true : undefined), 20_000, 50);
    await waitFor('the others to be backups', async () => ((await state('d2')) === 'backup' && (await state('d3')) === 'backup' ? true : undefined), 10_000, 50);
  });

  after(() => lab.stop());

  it('kill -STOP of the master: the new DC fences it (its process dies), and only then a backup takes the VIP', async () => {
    const pid = Number(fs.readFileSync(path.join(lab.dir, 'd1.pid'), 'utf8'));
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    await waitFor('d1 to be fenced (its process gone)', () => (alive(pid) ? undefined : true), 15_000, 20);
    const fencedAt = Date.now();
    await waitFor('d2 to be master', async () => ((await state('d2')) === 'master' ? true : undefined), 10_000, 20);
    const d2 = lab.log('d2');
    const dead = when(d2, /peer d1 is dead/, stoppedAt);
    const fenceStart = when(d2, /fencing d1 \(off, automatic\)/, stoppedAt);
    const fenced = when(d2, /d1 is fenced/, stoppedAt);
    const waiting = when(d2, /takeover gate shut: d1 may still hold it: waiting for it to be fenced/, stoppedAt);
    const master = when(d2, /VI_1: BACKUP -> MASTER/, stoppedAt);
    assert.ok(dead !== undefined && fenceStart !== undefined && fenced !== undefined && master !== undefined, d2);
    assert.ok(waiting !== undefined && waiting <= fenced, 'the gate waited on the fence');
    assert.ok(fenced <= master, `fenced at ${fenced}, master at ${master}: the takeover came first\n${d2}`);
    assert.equal(await state('d3'), 'backup');
    console.log(
      `      (timeline from SIGSTOP: d1 dead at +${dead - stoppedAt} ms, fence started +${fenceStart - stoppedAt} ms, ` +
        `d1 fenced +${fenced - stoppedAt} ms (process gone seen +${fencedAt - stoppedAt} ms), d2 master +${master - stoppedAt} ms)`,
    );
  });

  it('the DC keeps the history, and a fenced node that comes back rejoins as a backup', async () => {
    const history = await lab.fenceHistory('d2');
    assert.deepEqual(
      history.map((r) => [r.target, r.action, r.origin, r.result, r.attempts.map((a) => `${a.device} ${a.result}`)]),
      [['d1', 'off', 'automatic', 'success', ['kill success']]],
    );
    lab.start('d1');
    await waitFor('d1 back as a backup', () => (/VI_1: INIT -> BACKUP/.test(lab.log('d1')) ? true : undefined), 10_000, 50);
    assert.doesNotMatch(lab.log('d1').split('\n').find((l) => /VI_1: INIT ->/.test(l)) ?? '', /MASTER/);
  });

  it('hadirector fence: the history, a refusal from a node that is not the DC, a device test, an unknown node', () => {
    const cli = (...args: string[]) => spawnSync(bin, args, { encoding: 'utf8', timeout: 20_000 });
    const history = cli('fence', 'history', '--control', lab.socket('d2'));
    assert.equal(history.status, 0, history.stderr);
    assert.match(history.stdout, /^1\t\S+\td1\toff\tautomatic\tsuccess\t\d+ms\tkill#1 success \(killed pid \d+ \(SIGKILL\)\)\n$/);
    const notDc = cli('fence', 'd2', '--action', 'off', '--control', lab.socket('d3'));
    assert.equal(notDc.status, 2);
    assert.match(notDc.stderr, /only the DC of a quorate view fences/);
    const test = cli('fence', 'test', 'kill', '--control', lab.socket('d2'));
    assert.equal(test.status, 0, test.stderr);
    assert.match(test.stdout, /^kill: ok/);
    const unknown = cli('fence', 'confirm', 'd9', '--control', lab.socket('d2'));
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /'d9' is no node of the cluster \(d1, d2, d3\)/);
    const usage = cli('fence', 'd3', '--action', 'melt', '--control', lab.socket('d2'));
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--action must be off, reboot or on, not 'melt'/);
  });

  it('SIGTERM of the master, also the DC: a backup takes over, no one fences it, and no log has an error', async () => {
    await waitFor('d1 master again (preempt)', async () => ((await state('d1')) === 'master' ? true : undefined), 15_000, 50);
    const historyBefore = (await lab.fenceHistory('d2')).length;
    const termAt = Date.now();
    assert.equal(await lab.term('d1'), 0);
    await waitFor('d2 to be master', async () => ((await state('d2')) === 'master' ? true : undefined), 10_000, 20);
    // Past deadtime and the longest race delay: a fence would have started by now.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal((await lab.fenceHistory('d2')).length, historyBefore, 'no fence of a node that left cleanly');
    const d2 = lab.log('d2');
    assert.ok(when(d2, /d1 says it is leaving: it is not fenced for it/, termAt) !== undefined, d2);
    for (const node of ['d1', 'd2', 'd3']) {
      const errors = lab.log(node).split('\n').filter((line) => Date.parse(line.slice(0, 24)) >= termAt && / error/.test(line.slice(24, 40)));
      assert.deepEqual(errors, [], `${node} logged errors after the SIGTERM`);
    }
  });
});
