// `npm run sim -- --seeds N` runs N seeds of the cluster simulation and prints a summary;
// `npm run sim -- --seed S [--trace]` replays one, printing its events. Fencing with
// faulty agents, frozen nodes and connection sync are in by default, the fencing mode
// alternating by seed (`--fencing power|self_release|none` fixes it; `--no-freezes` and
// `--no-sync` leave those out).
import { defaultSimNodes, defaultSimTiming, runClusterSim } from './cluster-sim';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function main(): number {
  const seeds = Number(arg('--seeds') ?? '100');
  const one = arg('--seed');
  const durationMs = Number(arg('--duration') ?? '120') * 1000;
  const maxLoss = Number(arg('--max-loss') ?? '0.2');
  const fencing = arg('--fencing') ?? 'mixed';
  const list = one !== undefined ? [Number(one)] : Array.from({ length: seeds }, (_, i) => i + 1);
  if (list.some((s) => !Number.isSafeInteger(s)) || !(durationMs > 0) || !(maxLoss >= 0 && maxLoss <= 1) || !['mixed', 'power', 'self_release', 'none'].includes(fencing)) {
    process.stderr.write('usage: npm run sim -- [--seeds N | --seed S [--trace]] [--duration SECONDS] [--max-loss 0..1] [--fencing power|self_release|none] [--no-freezes] [--no-sync] [--no-vrrp]\n');
    return 2;
  }
  const modeFor = (seed: number): 'power' | 'self_release' | undefined =>
    fencing === 'none' ? undefined : fencing === 'mixed' ? (seed % 2 === 0 ? 'power' : 'self_release') : (fencing as 'power' | 'self_release');
  const started = Date.now();
  const failing: number[] = [];
  const totals = { crashes: 0, restarts: 0, partitions: 0, viewChanges: 0, datagrams: 0, calmChecks: 0, takeovers: 0, freezes: 0, fences: 0, fenceFaults: 0, syncChecks: 0, syncEntriesChecked: 0 };
  for (const seed of list) {
    const mode = modeFor(seed);
    const r = runClusterSim({
      seed,
      durationMs,
      nodes: defaultSimNodes,
      links: ['ring0', 'ring1'],
      timing: defaultSimTiming,
      maxLoss,
      vrrp: !process.argv.includes('--no-vrrp'),
      ...(mode !== undefined ? { fencing: { mode, faults: true } } : {}),
      freezes: !process.argv.includes('--no-freezes'),
      ...(process.argv.includes('--no-sync') ? {} : { sync: {} }),
    });
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r.stats[k];
    if (one !== undefined && process.argv.includes('--trace')) for (const line of r.trace) process.stdout.write(`${line}\n`);
    if (r.violations.length > 0) {
      failing.push(seed);
      process.stdout.write(`seed ${seed}: ${r.violations.length} violation(s), first: ${r.violations[0] ?? ''}\n`);
      process.stdout.write(`  replay: npm run sim -- --seed ${seed} --trace --duration ${durationMs / 1000} --max-loss ${maxLoss} --fencing ${mode ?? 'none'}\n`);
    }
  }
  process.stdout.write(
    `sim: ${list.length} seed(s) of ${durationMs / 1000}s, loss up to ${(maxLoss * 100).toFixed(0)}%: ${failing.length} with violations; ` +
      `${totals.crashes} crashes, ${totals.restarts} restarts, ${totals.partitions} partitions, ${totals.freezes} freezes, ${totals.viewChanges} view changes, ${totals.takeovers} VRRP takeovers, ` +
      `${totals.fences} fences (${totals.fenceFaults} agent faults), ${totals.syncChecks} takeovers checked for ${totals.syncEntriesChecked} synced entries, ` +
      `${totals.calmChecks} agreement checks, ${totals.datagrams} datagrams, in ${((Date.now() - started) / 1000).toFixed(1)}s\n`,
  );
  return failing.length === 0 ? 0 : 1;
}

process.exitCode = main();
