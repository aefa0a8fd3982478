// `npm run sim -- --seeds N` runs N seeds of the cluster simulation (each run's options
// drawn from its seed: options.ts) and prints a summary; a seed with violations is
// printed with the one command that replays it. `npm run sim -- --seed S --trace`
// replays one, printing its events. `--break RULE` breaks a rule on purpose (a control).
import { runClusterSim } from './cluster-sim';
import { describeOptions, optionsFromSeed, replayCommand, simBreaks, type SimBreak } from './options';
import type { SimStats } from './cluster-sim';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const usage = `usage: npm run sim -- [--seeds N [--from S] | --seed S [--trace]] [--duration SECONDS] [--break ${simBreaks.join('|')}]\n`;

function main(): number {
  const seeds = Number(arg('--seeds') ?? '100');
  const from = Number(arg('--from') ?? '1');
  const one = arg('--seed');
  const durationS = arg('--duration');
  const broken = arg('--break');
  const list = one !== undefined ? [Number(one)] : Array.from({ length: seeds }, (_, i) => from + i);
  if (list.some((s) => !Number.isSafeInteger(s)) || (durationS !== undefined && !(Number(durationS) > 0)) || (broken !== undefined && !(simBreaks as readonly string[]).includes(broken))) {
    process.stderr.write(usage);
    return 2;
  }
  const over = { ...(durationS !== undefined ? { durationMs: Number(durationS) * 1000 } : {}), ...(broken !== undefined ? { breaks: broken as SimBreak } : {}) };
  const started = Date.now();
  const failing: number[] = [];
  let totals: SimStats | undefined;
  const kinds = new Map<string, number>();
  let convergedMaxMs = 0;
  for (const seed of list) {
    const options = optionsFromSeed(seed, over);
    const r = runClusterSim(options);
    if (totals === undefined) totals = { ...r.stats };
    else for (const k of Object.keys(totals) as Array<keyof SimStats>) totals[k] += r.stats[k];
    convergedMaxMs = Math.max(convergedMaxMs, r.stats.convergedMs);
    const kind = [options.twoNode ? 'two_node' : `${options.nodes.length} nodes`, options.fencing === undefined ? 'no fencing' : `${options.fencing.mode}/${options.fencing.agent}`].join(' ');
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (one !== undefined && process.argv.includes('--trace')) for (const line of r.trace) process.stdout.write(`${line}\n`);
    if (r.violations.length > 0) {
      failing.push(seed);
      process.stdout.write(`seed ${seed} (${describeOptions(options)}): ${r.violations.length} violation(s), first: ${r.violations[0] ?? ''}\n`);
      process.stdout.write(`  replay: ${replayCommand(options)}\n`);
    }
  }
  const t = totals;
  if (t === undefined) return 2;
  process.stdout.write(
    `sim: ${list.length} seed(s)${broken !== undefined ? ` with ${broken} BROKEN` : ''}: ${failing.length} with violations, in ${((Date.now() - started) / 1000).toFixed(1)}s\n` +
      `  runs: ${[...kinds].sort().map(([k, n]) => `${k} ${n}`).join(', ')}\n` +
      `  faults: ${t.crashes} crashes, ${t.restarts} restarts, ${t.cleanStops} clean stops, ${t.partitions} partitions (${t.twoNodeCuts} two-node cuts), ${t.freezes} freezes\n` +
      `  fencing: ${t.fenceAgentRuns} agent runs (${t.agentFaults} faulty), ${t.fencesCompleted} fences completed (${t.poweredOff} powered off, ${t.isolated} cut off, ${t.repairs} repaired), ${t.depositions} times a node stood down\n` +
      `  VRRP: ${t.takeovers} takeovers, ${t.takeoversAfterPowerFence} after a power fence; ${t.viewChanges} view changes\n` +
      `  sync: ${t.syncChecks} takeovers checked for ${t.syncEntriesChecked} synced entries\n` +
      `  host health: ${t.hostChanges} host colours drawn, ${t.hostRedMasters} masters handed over for their host, ${t.hostRedFences} fences of a director in FAULT for its host (each one unheard)\n` +
      `  checked after each of ${t.events} events, ${t.calmChecks} calm checks, ${t.datagrams} datagrams; converged after the heal within ${(convergedMaxMs / 1000).toFixed(1)}s at most\n`,
  );
  return failing.length === 0 ? 0 : 1;
}

process.exitCode = main();
