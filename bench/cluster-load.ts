// `npm run bench -- cluster-load`: three `hadirector run` processes on loopback with the
// default timing (heartbeat 1 s, deadtime 3 s), while other processes keep every core
// busy, for 60 s. It counts the verdicts that would be false: a peer declared late or
// dead while every node was running.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { ClusterLab } from '../src/lab/cluster-lab';
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
  const lab = new ClusterLab(config);
  const burners: ChildProcess[] = [];
  const seconds = options.smoke ? 3 : 60;
  try {
    for (const node of ['d1', 'd2', 'w1']) lab.start(node);
    // Let them meet, then load every core and start counting.
    await sleep(4000);
    const before = new Map(['d1', 'd2', 'w1'].map((n) => [n, lab.log(n).length]));
    for (let i = 0; i < os.cpus().length; i++) burners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    await sleep(seconds * 1000);
    let late = 0;
    let dead = 0;
    for (const [node, from] of before) {
      const window = lab.log(node).slice(from);
      late += (window.match(/ is late/g) ?? []).length;
      dead += (window.match(/ is dead/g) ?? []).length;
    }
    return [`cluster-load nodes=3 heartbeat=1000ms deadtime=3000ms busy-processes=${burners.length} cores=${os.cpus().length} duration=${seconds}s false-late=${late} false-dead=${dead}`];
  } finally {
    for (const c of burners) c.kill('SIGKILL');
    await lab.stop();
  }
}

export const clusterLoadBench: Benchmark = {
  name: 'cluster-load',
  run: (options) => measure(options),
};
