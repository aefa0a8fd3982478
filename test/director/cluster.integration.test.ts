// Three `hadirector run` processes on loopback: kill -9 one and the other two agree on
// the new view and DC within deadtime + one interval; it rejoins when restarted; kill two
// and the survivor reports no quorum. Garbage sent to a node's cluster port is dropped,
// counted, and survived.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { controlRequest } from '../../src/director/control-client';
import { SeededRng } from '../../src/common/rng';
import { bin, loopbackNet, waitFor } from '../support/director-process';
import { repoRoot } from '../support/paths';

const lan = loopbackNet();
const port = 16400 + (process.pid % 50);
const intervalMs = 500;
const deadtimeMs = 2000;
const names = ['d1', 'd2', 'w1'] as const;
type Name = (typeof names)[number];
const addressOf: Record<Name, string> = { d1: `${lan}.31`, d2: `${lan}.32`, w1: `${lan}.33` };

const config = `
cluster {
    cluster_id it
    auth_key_file cluster.key
    port ${port}
    heartbeat_interval ${intervalMs}ms
    deadtime ${deadtimeMs}ms
    node d1 {
        address ${addressOf.d1}
        priority 150
    }
    node d2 {
        address ${addressOf.d2}
    }
    node w1 {
        address ${addressOf.w1}
        priority 0
        witness
    }
}
`;

interface ClusterView {
  members: string[];
  quorate: boolean;
  dc?: string;
}

describe('three directors on loopback (integration)', function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-cluster-'));
  const procs = new Map<Name, ChildProcess>();
  const output = new Map<Name, string>();

  const start = (name: Name): void => {
    output.set(name, '');
    const child = spawn(bin, ['run', '-f', path.join(dir, 'c.conf'), '--node', name, '--control', path.join(dir, `${name}.sock`), '--pid-file', path.join(dir, `${name}.pid`)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (d: Buffer): void => {
      output.set(name, (output.get(name) ?? '') + d.toString());
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    procs.set(name, child);
  };
  const kill9 = async (name: Name): Promise<void> => {
    const child = procs.get(name);
    procs.delete(name);
    if (child === undefined || child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  };
  const status = async (name: Name): Promise<{ view: ClusterView; dropped: Record<string, number> } | undefined> => {
    try {
      const r = await controlRequest(path.join(dir, `${name}.sock`), { op: 'status' }, 2000);
      return r.ok ? ((r.result as { cluster: { view: ClusterView; dropped: Record<string, number> } }).cluster) : undefined;
    } catch {
      return undefined;
    }
  };
  const viewOf = async (name: Name): Promise<string | undefined> => {
    const s = await status(name);
    return s === undefined ? undefined : `[${s.view.members.join(',')}] ${s.view.quorate ? 'quorate' : 'no-quorum'} dc=${s.view.dc ?? '-'}`;
  };
  const agree = (who: Name[], expected: string) => async (): Promise<true | undefined> => {
    const views = await Promise.all(who.map(viewOf));
    return views.every((v) => v === expected) ? true : undefined;
  };

  before(async () => {
    fs.copyFileSync(path.join(repoRoot(), 'config', 'cluster.key'), path.join(dir, 'cluster.key'));
    fs.writeFileSync(path.join(dir, 'c.conf'), config);
    for (const n of names) start(n);
    await waitFor('all three to agree', agree([...names], '[d1,d2,w1] quorate dc=d1'), 15_000);
  });

  after(async () => {
    for (const n of names) await kill9(n);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('agrees on a new view and DC within deadtime + one interval after kill -9 of the DC', async () => {
    const killedAt = Date.now();
    await kill9('d1');
    await waitFor('d2 and w1 to agree without d1', agree(['d2', 'w1'], '[d2,w1] quorate dc=d2'), 10_000, 20);
    const tookMs = Date.now() - killedAt;
    console.log(`      (new view and DC agreed ${tookMs} ms after kill -9; deadtime ${deadtimeMs} ms, interval ${intervalMs} ms)`);
    assert.ok(tookMs <= deadtimeMs + intervalMs + 200, `took ${tookMs} ms`);
  });

  it('takes the restarted node back, and it becomes DC again by priority', async () => {
    start('d1');
    await waitFor('all three again', agree([...names], '[d1,d2,w1] quorate dc=d1'), 15_000);
  });

  it('drops and counts garbage sent to a node\'s cluster port, and stays up', async () => {
    const socket = dgram.createSocket('udp4');
    const rng = new SeededRng(9);
    const before = Object.values((await status('d2'))?.dropped ?? {}).reduce((a, b) => a + b, 0);
    try {
      // In batches, so the socket's receive buffer does not overflow and lose them first.
      for (let batch = 0; batch < 20; batch++) {
        for (let i = 0; i < 100; i++) socket.send(Buffer.from(Array.from({ length: 1 + rng.below(300) }, () => rng.below(256))), port, addressOf.d2);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await waitFor('the drops to be counted', async () => {
        const dropped = Object.values((await status('d2'))?.dropped ?? {}).reduce((a, b) => a + b, 0);
        return dropped - before >= 1900 ? true : undefined;
      }, 10_000);
    } finally {
      socket.close();
    }
    assert.equal(await viewOf('d2'), '[d1,d2,w1] quorate dc=d1');
  });

  it('leaves the survivor without quorum when two are killed', async () => {
    await kill9('d1');
    await kill9('w1');
    await waitFor('d2 alone, without quorum', agree(['d2'], '[d2] no-quorum dc=-'), deadtimeMs + intervalMs + 2000, 20);
    assert.match(output.get('d2') ?? '', /WITHOUT QUORUM/);
  });
});
