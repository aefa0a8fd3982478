// `npm run bench -- failover`: how long clients lose the VIP when its master dies
// (kill -9) or stops (SIGTERM), on loopback: two directors and a witness as processes,
// one real server, a client probing every 10 ms (1 ms after a failure). Ten runs per case at advert 1 s
// (heartbeat 500 ms, deadtime 2 s), 100 ms (heartbeat 100 ms, deadtime 300 ms) and 10 ms
// (heartbeat 10 ms, deadtime 30 ms); p50 and max of the outage, beside the
// Master_Down_Interval and skew time they aim at. Then, as root with keepalived
// installed, the same settings in network namespaces: a hadirector pair, a keepalived
// pair, and a mixed pair (keepalived master, hadirector backup), in the same run.
import http from 'node:http';
import { ClusterLab } from '../src/lab/cluster-lab';
import { compareWithKeepalived, type FailoverSetting } from './failover-netns';
import type { BenchOptions, Benchmark } from './registry';

const base = '127.0.87';
const vip = `${base}.100`;
const vport = 18700;

const settings: readonly FailoverSetting[] = [
  { advertMs: 1000, heartbeatMs: 500, deadtimeMs: 2000 },
  { advertMs: 100, heartbeatMs: 100, deadtimeMs: 300 },
  { advertMs: 10, heartbeatMs: 10, deadtimeMs: 30 },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function probe(timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: vip, port: vport, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function until(what: string, check: () => Promise<boolean>, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function config(s: FailoverSetting, port: number): string {
  return `
cluster {
    cluster_id bench
    auth_key_file cluster.key
    port ${port}
    heartbeat_interval ${s.heartbeatMs}ms
    deadtime ${s.deadtimeMs}ms
    fencing {
        mode self_release
    }
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
vrrp_instance VI_1 {
    interface lo
    virtual_router_id 60
    version 3
@d1 priority 150
@d2 priority 100
    advert_int ${s.advertMs / 1000}
    virtual_ipaddress {
        ${vip}/32
    }
}
virtual_server ${vip} ${vport} {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server ${base}.50 8080 {
        weight 1
    }
}
`;
}

/** One outage: from the first failed probe (or the signal, if later) to the start of the first probe answered again. */
async function outage(lab: ClusterLab, signal: 'SIGKILL' | 'SIGTERM'): Promise<number> {
  let firstFailAt: number | undefined;
  let recoveredAt: number | undefined;
  let probing = true;
  const signalledAt = { at: 0 };
  const prober = (async () => {
    for (let n = 0; probing && n < 100_000; n++) {
      const started = Date.now();
      const ok = await probe(200);
      if (!ok) firstFailAt ??= started;
      // Served by the time this probe began: the connection it opened was answered.
      else if (firstFailAt !== undefined && recoveredAt === undefined) recoveredAt = started;
      // Every 10 ms while served; 1 ms after a failure, so the return is seen to the millisecond.
      await sleep(ok ? Math.max(0, 10 - (Date.now() - started)) : 1);
    }
  })();
  await sleep(300);
  signalledAt.at = Date.now();
  if (signal === 'SIGKILL') await lab.kill9('d1');
  else await lab.term('d1');
  await until('the VIP again', async () => recoveredAt !== undefined || (firstFailAt === undefined && Date.now() - signalledAt.at > 15_000), 20_000);
  probing = false;
  await prober;
  // A probe already on its way when the signal went counts from the signal, as in the namespaces.
  return recoveredAt === undefined || firstFailAt === undefined ? 0 : recoveredAt - Math.max(firstFailAt, signalledAt.at);
}

/** Figures as they come, on stderr: a full run takes a long time, and the summary follows on stdout. */
const progress = (line: string): void => {
  process.stderr.write(`  ${line}\n`);
};

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;

async function measure(options: BenchOptions): Promise<string[]> {
  const runs = options.smoke ? 1 : 10;
  // `npm run bench -- failover 100` measures only advert 100 ms; `--loopback` skips the
  // namespaces, `--netns` the loopback cluster.
  const adverts = (options.args ?? []).filter((a) => /^\d+$/.test(a)).map(Number);
  // At smoke size, the fast setting alone: the suite waits for every takeover it measures.
  const chosen = options.smoke ? settings.filter((s) => s.advertMs === 100) : settings.filter((s) => adverts.length === 0 || adverts.includes(s.advertMs));
  const report = options.smoke ? () => undefined : progress;
  const lines: string[] = [];
  const rs = http.createServer((_req, res) => res.end('rs\n'));
  await new Promise<void>((resolve) => rs.listen(8080, `${base}.50`, () => resolve()));
  try {
    for (const [i, s] of options.args?.includes('--netns') === true ? [] : chosen.entries()) {
      const lab = new ClusterLab(config(s, 16700 + i), { logLevel: 'warn', drainS: 0 });
      try {
        for (const n of ['d1', 'd2', 'w1']) lab.start(n);
        await until('the VIP', () => probe(200), 30_000);
        for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
          const outages: number[] = [];
          for (let r = 0; r < runs; r++) {
            await sleep(1500);
            outages.push(await outage(lab, signal));
            // d1 comes back and, with preempt, takes the VIP again before the next run.
            lab.start('d1');
            await sleep(Math.max(3000, 4 * s.deadtimeMs));
          }
          const mdi = 3 * s.advertMs + ((256 - 100) * s.advertMs) / 256;
          const skew = ((256 - 100) * s.advertMs) / 256;
          const line =
            `failover advert=${s.advertMs}ms deadtime=${s.deadtimeMs}ms ${signal === 'SIGKILL' ? 'kill-9' : 'sigterm'} runs=${runs} ` +
            `p50=${percentile(outages, 0.5)}ms max=${Math.max(...outages)}ms aim=${(signal === 'SIGKILL' ? mdi : skew).toFixed(0)}ms`;
          report(line);
          lines.push(line);
        }
      } finally {
        await lab.stop();
      }
    }
  } finally {
    rs.close();
  }
  if (!options.smoke && options.args?.includes('--loopback') !== true) lines.push(...(await compareWithKeepalived(chosen, runs, report)));
  return lines;
}

export const failoverBench: Benchmark = {
  name: 'failover',
  run: (options) => measure(options),
};
