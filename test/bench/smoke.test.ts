import assert from 'node:assert/strict';
import { missingTools } from '../../bench/dataplane';
import { benchmarks } from '../../bench/registry';

describe('benchmarks at smoke size', () => {
  it('config-parse reads every generated service and reports its rate', () => {
    const bench = benchmarks['config-parse'];
    assert.ok(bench !== undefined);
    const [line] = bench.run({ smoke: true }) as string[];
    assert.match(line ?? '', /^config-parse services=10 lines=\d+ hadirector=[\d.]+ms \(\d+ lines\/s\)$/);
  });

  it('ipvs reports decisions per second for all 14 schedulers and the table figures', () => {
    const bench = benchmarks['ipvs'];
    assert.ok(bench !== undefined);
    const [schedule, table] = bench.run({ smoke: true }) as string[];
    assert.equal(schedule?.match(/ [a-z]+=[\d.]+[kM]?\/s/g)?.length, 14, schedule);
    assert.match(table ?? '', /^ipvs conn-table entries=10000 inserts=[\d.]+[kM]?\/s lookups=[\d.]+[kM]?\/s bytes\/entry=(\d+|n\/a \(run with --expose-gc\))$/);
  });

  it('dataplane compares hadirector with haproxy in both modes, or says which tool is missing', async function () {
    this.timeout(120_000);
    const bench = benchmarks['dataplane'];
    assert.ok(bench !== undefined);
    const missing = missingTools();
    if (missing.length > 0) {
      console.log(`      (skipped: ${missing.join(', ')} not installed)`);
      this.skip();
    }
    const lines = await bench.run({ smoke: true });
    for (const [i, mode] of ['keep-alive', 'new-connection'].entries()) {
      assert.match(lines[i] ?? '', new RegExp(`^dataplane ${mode} connections=4 runs=1x1s haproxy=\\d+ req/s p99=[\\d.]+ms hadirector=\\d+ req/s p99=[\\d.]+ms ratio=[\\d.]+ \\(pairs [\\d.]+\\)$`));
    }
    // The kernel plane in namespaces beside them, or why not (no root, no nft).
    const kernel = lines.slice(2);
    if (kernel.length === 1 && kernel[0]?.startsWith('dataplane kernel skipped: ')) return;
    assert.equal(kernel.length, 2, lines.join('\n'));
    for (const [i, mode] of ['keep-alive', 'new-connection'].entries()) {
      assert.match(kernel[i] ?? '', new RegExp(`^dataplane kernel ${mode} connections=4 runs=1x1s NAT hadirector=\\d+ req/s .* raw=\\d+ req/s .*; DR hadirector=\\d+ req/s .* raw=\\d+ req/s .*; haproxy=\\d+ req/s`));
    }
  });

  it('cluster-load counts false late and dead verdicts under a busy machine', async function () {
    this.timeout(30_000);
    const bench = benchmarks['cluster-load'];
    assert.ok(bench !== undefined);
    const [line] = await bench.run({ smoke: true });
    assert.match(line ?? '', /^cluster-load nodes=3 heartbeat=1000ms deadtime=3000ms busy-processes=\d+ cores=\d+ duration=3s false-late=\d+ false-dead=\d+$/);
  });

  it('failover measures the outage after kill -9 and SIGTERM of a master', async function () {
    this.timeout(120_000);
    const bench = benchmarks['failover'];
    assert.ok(bench !== undefined);
    const lines = await bench.run({ smoke: true });
    assert.match(lines[0] ?? '', /^failover advert=100ms deadtime=300ms kill-9 runs=1 p50=\d+ms max=\d+ms aim=361ms$/);
    assert.match(lines[1] ?? '', /^failover advert=100ms deadtime=300ms sigterm runs=1 p50=\d+ms max=\d+ms aim=61ms$/);
  });

  it('sync carries a burst and a live stream to a copy in another process, and a fresh copy pulls a snapshot', async function () {
    this.timeout(60_000);
    const bench = benchmarks['sync'];
    assert.ok(bench !== undefined);
    const [line] = await bench.run({ smoke: true });
    assert.match(line ?? '', /^sync 1,000: burst of 1,000 changes carried at [\d,]+ entries\/s .* live: 1,000 connections made at [\d,]+\/s, the copy whole -?[\d,]+ ms after the last, .* snapshot of 1,000 to a fresh copy [\d,]+ ms; heap per entry: measured from 100,000 entries .*; [\d,]+ batches sent, [\d,]+ resent; a takeover: addresses up after [\d,]+ ms \(a first slice loaded, the rest found in the copies\), all 2,000 entries loaded after [\d,]+ ms$/);
  });

  it('kernel-poll reads a flow map and conntrack table into the engine, or says why it cannot', async function () {
    this.timeout(120_000);
    const bench = benchmarks['kernel-poll'];
    assert.ok(bench !== undefined);
    const [line] = await bench.run({ smoke: true });
    assert.match(line ?? '', /^kernel-poll (flows=1000 nat=1000 first poll \d+ ms \(2000 entries, [\d.]+ us each, event loop blocked at most \d+ ms\), second \d+ ms \(blocked at most \d+ ms\); table 2000 entries, heap [+-][\d.]+ MiB|: skipped \(.*\))$/);
  });
});
