// `hadirector drill`: runs scenarios against the loopback cluster of a configuration,
// one after the other. For each: wait for a settled cluster (every director answering,
// quorate, one master), sample every director and drive HTTP through the VIP, warm up,
// do the fault, wait for the takeover, heal, wait until the cluster is whole again; then
// write report.json and its timeline picture, judge it, and print the summary. Exits 1
// when an expectation fails.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { controlRequest } from '../director/control-client';
import { LoopbackCluster } from '../lab/loopback-cluster';
import { netnsUnavailable } from '../lab/netns';
import { masterDownIntervalMs } from '../vrrp/timing';
import type { DrillCluster } from './cluster';
import { NetnsDrillCluster } from './netns-cluster';
import { withoutFencing } from './no-fencing';
import { Progress } from './progress';
import type { DrillEvent, DrillReport } from './report';
import { Sampler, sampleOf, type StatusForSample } from './sampler';
import { scenarioNamed, scenarios, type DrillHands, type Scenario } from './scenarios';
import { summaryTable, type ScenarioOutcome } from './summary';
import { renderTimeline } from './timeline';
import { judge } from './verdict';

export interface DrillOptions {
  readonly file: string;
  readonly cwd: string;
  readonly scenarios: readonly string[];
  /** Where each scenario's report goes (DIR/SCENARIO/report.json). */
  readonly reportDir: string;
  /** Run the cluster with fencing mode self_release: what the drill sees without STONITH. */
  readonly noFencing?: boolean;
  /** Run the cluster in network namespaces of the drill's own (root): a real VIP, ARP, a client of its own. */
  readonly netns?: boolean;
  readonly out: (text: string) => void;
  /** Whether `out` is a terminal: the progress line is redrawn in place there. */
  readonly tty?: boolean;
}

const sampleEveryMs = 50;
const requestEveryMs = 20;
const warmUpMs = 2000;
const settleMs = 2000;
const settledDeadlineMs = 30_000;
const pollEveryMs = 100;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every node but `except` answering, quorate and settled (a node just started takes
 * nothing over until it has heard every peer or initdead has passed), and exactly one of
 * them master: its name; polled until the deadline. With `calmClocks`, no node may alert
 * on a peer's clock either.
 */
async function settledMaster(cluster: DrillCluster, deadlineMs: number, except?: string, calmClocks = false): Promise<string | undefined> {
  const until = performance.now() + deadlineMs;
  while (performance.now() < until) {
    const samples = await Promise.all(
      cluster.nodes
        .filter((n) => n !== except)
        .map(async (n) => {
          const r = await controlRequest(cluster.socket(n), { op: 'status' }, 500).catch(() => undefined);
          return sampleOf(0, n, r?.ok === true ? (r.result as StatusForSample) : undefined);
        }),
    );
    const masters = samples.filter((s) => s.holdsVip === true).map((s) => s.node);
    if (samples.every((s) => s.quorate === true && s.settled !== false && (!calmClocks || s.skews === undefined)) && masters.length === 1) return masters[0];
    await pause(pollEveryMs);
  }
  return undefined;
}

export async function runDrill(o: DrillOptions): Promise<number> {
  const unknown = o.scenarios.filter((n) => scenarioNamed(n) === undefined);
  if (unknown.length > 0) {
    o.out(`hadirector drill: no scenario ${unknown.join(', ')}; there are ${scenarios.map((s) => s.name).join(', ')}\n`);
    return 2;
  }
  const chosen = o.scenarios.map((n) => scenarioNamed(n) as Scenario);
  const cannot = chosen.flatMap((s) => {
    const why = s.unavailable?.();
    return why === undefined ? [] : [`${s.name} ${why}`];
  });
  if (cannot.length > 0) {
    o.out(`hadirector drill: ${cannot.join('; ')}: leave ${cannot.length === 1 ? 'it' : 'them'} out, or run the drill where ${cannot.length === 1 ? 'it' : 'they'} can run\n`);
    return 2;
  }
  const cluster = clusterFor(path.resolve(o.cwd, o.file), o.netns === true, chosen);
  if (!('configFile' in cluster)) {
    o.out(`hadirector drill: ${cluster.problem}\n`);
    return cluster.exitCode;
  }
  const instance = cluster.config.vrrpInstances[0];
  if (instance === undefined) {
    o.out(`hadirector drill: ${o.file} has no vrrp_instance to drill\n`);
    return 2;
  }
  if (o.noFencing === true) {
    const problem = withoutFencing(cluster.configFile);
    if (problem !== undefined) {
      o.out(`hadirector drill: --no-fencing: ${problem}\n`);
      return 2;
    }
  }
  const mdi = masterDownIntervalMs(instance.version, instance.advertIntMs, instance.priority);
  const outcomes: ScenarioOutcome[] = [];
  const progress = new Progress(o.out, o.tty === true);
  try {
    progress.line(`drill: starting the cluster of ${o.file} (${cluster.nodes.join(', ')})${o.netns === true ? ' in network namespaces' : ''}${o.noFencing === true ? ' with fencing mode self_release (--no-fencing)' : ''}; logs in ${cluster.dir}`);
    await cluster.start();
    for (const scenario of chosen) {
      const report = await runScenario(cluster, scenario, mdi, progress);
      const dir = path.join(path.resolve(o.cwd, o.reportDir), scenario.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
      const picture = await renderTimeline(report);
      fs.writeFileSync(path.join(dir, 'timeline.svg'), picture.svg);
      fs.writeFileSync(path.join(dir, 'timeline.png'), picture.png);
      outcomes.push({ scenario: scenario.name, ...judge(report, scenario.expectations) });
      progress.line(`drill: ${scenario.name}: report.json, timeline.svg and timeline.png in ${dir}`);
    }
  } catch (err) {
    progress.line(`hadirector drill: ${(err as Error).message}`);
    return 1;
  } finally {
    progress.phase('stopping the cluster');
    await cluster.stop();
    progress.done();
  }
  o.out(`${summaryTable(outcomes).join('\n')}\n`);
  return outcomes.every((x) => x.judgements.every((j) => j.ok)) ? 0 : 1;
}

type Problem = { readonly problem: string; readonly exitCode: number };

function clusterFor(file: string, netns: boolean, chosen: readonly Scenario[]): DrillCluster | Problem {
  if (netns) {
    const why = netnsUnavailable();
    if (why !== undefined) return { problem: `--netns ${why}`, exitCode: 2 };
    const clocks = chosen.filter((s) => s.shiftsClocks === true).map((s) => s.name);
    if (clocks.length > 0) return { problem: `${clocks.join(', ')} runs on the loopback lab only (leave out --netns)`, exitCode: 2 };
    return NetnsDrillCluster.of(file);
  }
  const lab = LoopbackCluster.of(file, true, chosen.some((s) => s.shiftsClocks === true));
  if (!(lab instanceof LoopbackCluster)) return lab;
  if (lab.vips.size === 0) return { problem: `${file} has no virtual_server to drill`, exitCode: 2 };
  return lab;
}

async function runScenario(cluster: DrillCluster, scenario: Scenario, mdi: number, progress: Progress): Promise<DrillReport> {
  const say = (text: string): void => progress.line(`drill: ${scenario.name}: ${text}`);
  progress.phase(`${scenario.name}: waiting for a settled cluster`);
  const master = await settledMaster(cluster, settledDeadlineMs);
  if (master === undefined) throw new Error(`${scenario.name}: the cluster did not settle (every node quorate and settled, one master) within ${settledDeadlineMs} ms`);
  const t0Wall = Date.now();
  const t0 = performance.now();
  const nowMs = (): number => Math.round(performance.now() - t0);
  const sampler = new Sampler(cluster, nowMs, t0Wall, sampleEveryMs);
  const traffic = cluster.traffic({ nowMs, t0Wall }, requestEveryMs);
  const events: DrillEvent[] = [];
  progress.watch(scenario.name, nowMs, sampler, traffic);
  sampler.start();
  traffic.start();
  try {
    progress.phase('warming up');
    await pause(warmUpMs);
    const faultAt = nowMs();
    const hands: DrillHands = { ...bind(cluster), settled: () => settledMaster(cluster, settledDeadlineMs) };
    const witnesses = cluster.config.cluster?.nodes.filter((n) => n.witness).map((n) => n.name) ?? [];
    const backups = cluster.nodes.filter((n) => n !== master && !witnesses.includes(n));
    const hit = await scenario.fault(hands, { master, backups, witnesses });
    say(`${hit.detail} (${master} held the VIP)`);
    events.push({ tMs: faultAt, kind: 'fault', ...(hit.node !== undefined ? { node: hit.node } : {}), detail: hit.detail });
    if (scenario.faultMs !== undefined) {
      progress.phase(`fault for ${scenario.faultMs} ms`);
      await pause(scenario.faultMs);
    } else {
      progress.phase('waiting for another director to take over');
      const next = await settledMaster(cluster, mdi + 10_000, hit.node);
      say(next === undefined ? 'no other director took the VIP' : `${next} holds the VIP`);
      await pause(settleMs);
    }
    progress.phase('healing');
    const healAt = nowMs();
    const healed = await scenario.heal(hands, hit);
    say(healed);
    events.push({ tMs: healAt, kind: 'heal', ...(hit.node !== undefined ? { node: hit.node } : {}), detail: healed });
    progress.phase('waiting for the cluster to settle');
    await settledMaster(cluster, settledDeadlineMs, undefined, scenario.expectations.skewAlert);
    await pause(settleMs);
  } finally {
    progress.phase('writing the report');
    await traffic.stop();
    await sampler.stop();
    progress.unwatch();
  }
  const durationMs = nowMs();
  return {
    scenario: scenario.name,
    startedAt: new Date(t0Wall).toISOString(),
    durationMs,
    masterDownIntervalMs: Math.round(mdi),
    directors: sampler.directors,
    clients: [...traffic.samples].sort((a, b) => a.tMs - b.tMs),
    ...(sampler.neighbours.length > 0 ? { neighbours: sampler.neighbours } : {}),
    events: [...events, ...sampler.fences].sort((a, b) => a.tMs - b.tMs),
  };
}

/** The cluster's methods, bound, for a scenario's hands. */
function bind(c: DrillCluster): Omit<DrillHands, 'settled'> {
  return {
    reals: c.reals,
    configFile: c.configFile,
    config: c.config,
    shiftClock: (node, offsetMs) => c.shiftClock?.(node, offsetMs) ?? Promise.resolve('this cluster cannot shift clocks'),
    signal: (node, signal) => c.signal(node, signal),
    running: (node) => c.running(node),
    startNode: (node) => c.startNode(node),
    powerOn: (node) => c.powerOn(node),
    stopReal: (name) => c.stopReal(name),
    startReal: (name) => c.startReal(name),
    log: (node) => c.log(node),
    cutLink: (a, b) => c.cutLink(a, b),
    restoreLinks: () => c.restoreLinks(),
  };
}
