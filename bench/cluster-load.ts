// `npm run bench -- cluster-load`: three `hadirector run` processes on loopback with the
// default timing (heartbeat 1 s, deadtime 3 s), while other processes keep every core
// busy, for 60 s. It counts the verdicts that would be false: a peer declared late or
// dead while every node was running.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchOptions, Benchmark } from './registry';

const base = '127.0.89';
const port = 16490;

const config = `
cluster {
    cluster_id load
    auth_key_file cluster.key
    port ${port}
    node d1 {
        address ${base}.1
        priority 150
    }
    node d2 {
        address ${base}.2
    }
    node w1 {
        address ${base}.3
        priority 0
        witness
    }
}
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(options: BenchOptions): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-load-'));
  const children: ChildProcess[] = [];
  const logs = new Map<string, string>();
  const burners = os.cpus().length;
  const seconds = options.smoke ? 3 : 60;
  try {
    fs.copyFileSync(path.join(__dirname, '..', '..', 'config', 'cluster.key'), path.join(dir, 'cluster.key'));
    fs.writeFileSync(path.join(dir, 'c.conf'), config);
    const bin = path.join(__dirname, '..', '..', 'bin', 'hadirector');
    for (const node of ['d1', 'd2', 'w1']) {
      logs.set(node, '');
      const child = spawn(bin, ['run', '-f', path.join(dir, 'c.conf'), '--node', node, '--control', path.join(dir, `${node}.sock`), '--pid-file', path.join(dir, `${node}.pid`)], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => logs.set(node, (logs.get(node) ?? '') + d.toString()));
      children.push(child);
    }
    // Let them meet, then load every core and start counting.
    await sleep(4000);
    const before = new Map([...logs].map(([n, l]) => [n, l.length]));
    for (let i = 0; i < burners; i++) children.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    await sleep(seconds * 1000);
    let late = 0;
    let dead = 0;
    for (const [node, log] of logs) {
      const window = log.slice(before.get(node) ?? 0);
      late += (window.match(/ is late/g) ?? []).length;
      dead += (window.match(/ is dead/g) ?? []).length;
    }
    return [`cluster-load nodes=3 heartbeat=1000ms deadtime=3000ms busy-processes=${burners} cores=${os.cpus().length} duration=${seconds}s false-late=${late} false-dead=${dead}`];
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await sleep(200);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const clusterLoadBench: Benchmark = {
  name: 'cluster-load',
  run: (options) => measure(options),
};
