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
import { masterDownIntervalMs } from '../vrrp/timing';
import type { DrillEvent, DrillReport } from './report';
import { Sampler, sampleOf, type StatusForSample } from './sampler';
import { scenarioNamed, scenarios, type DrillHands, type Scenario } from './scenarios';
import { summaryTable, type ScenarioOutcome } from './summary';
import { renderTimeline } from './timeline';
import { HttpTraffic } from './traffic';
import { judge } from './verdict';

export interface DrillOptions {
  readonly file: string;
  readonly cwd: string;
  readonly scenarios: readonly string[];
  /** Where each scenario's report goes (DIR/SCENARIO/report.json). */
  readonly reportDir: string;
  readonly out: (text: string) => void;
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
 * them master: its name; polled until the deadline.
 */
async function settledMaster(cluster: LoopbackCluster, deadlineMs: number, except?: string): Promise<string | undefined> {
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
    if (samples.every((s) => s.quorate === true && s.settled !== false) && masters.length === 1) return masters[0];
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
  const cluster = LoopbackCluster.of(path.resolve(o.cwd, o.file), true);
  if (!(cluster instanceof LoopbackCluster)) {
    o.out(`hadirector drill: ${cluster.problem}\n`);
    return cluster.exitCode;
  }
  const vip = [...cluster.vips.values()][0];
  const instance = cluster.config.vrrpInstances[0];
  if (vip === undefined || instance === undefined) {
    o.out(`hadirector drill: ${o.file} has no virtual_server or no vrrp_instance to drill\n`);
    return 2;
  }
  const mdi = masterDownIntervalMs(instance.version, instance.advertIntMs, instance.priority);
  const outcomes: ScenarioOutcome[] = [];
  try {
    o.out(`drill: starting the cluster of ${o.file} (${cluster.nodes.join(', ')}); logs in ${cluster.dir}\n`);
    await cluster.start();
    for (const name of o.scenarios) {
      const scenario = scenarioNamed(name) as Scenario;
      const report = await runScenario(cluster, scenario, vip, mdi, o.out);
      const dir = path.join(path.resolve(o.cwd, o.reportDir), scenario.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
      const picture = await renderTimeline(report);
      fs.writeFileSync(path.join(dir, 'timeline.svg'), picture.svg);
      fs.writeFileSync(path.join(dir, 'timeline.png'), picture.png);
      outcomes.push({ scenario: scenario.name, ...judge(report, scenario.expectations) });
      o.out(`drill: ${scenario.name}: report.json, timeline.svg and timeline.png in ${dir}\n`);
    }
  } catch (err) {
    o.out(`hadirector drill: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await cluster.stop();
  }
  o.out(`${summaryTable(outcomes).join('\n')}\n`);
  return outcomes.every((x) => x.judgements.every((j) => j.ok)) ? 0 : 1;
}

async function runScenario(cluster: LoopbackCluster, scenario: Scenario, vip: { host: string; port: number }, mdi: number, out: (text: string) => void): Promise<DrillReport> {
  out(`drill: ${scenario.name}: waiting for a settled cluster\n`);
  const master = await settledMaster(cluster, settledDeadlineMs);
  if (master === undefined) throw new Error(`${scenario.name}: the cluster did not settle (every node quorate and settled, one master) within ${settledDeadlineMs} ms`);
  const startedWall = Date.now();
  const t0 = performance.now();
  const nowMs = (): number => Math.round(performance.now() - t0);
  const sampler = new Sampler(cluster.nodes, (n) => cluster.socket(n), nowMs, startedWall, sampleEveryMs);
  const traffic = new HttpTraffic(vip.host, vip.port, nowMs, requestEveryMs);
  const events: DrillEvent[] = [];
  sampler.start();
  traffic.start();
  try {
    await pause(warmUpMs);
    const faultAt = nowMs();
    const hands: DrillHands = {
      reals: cluster.reals,
      signal: (node, signal) => cluster.signal(node, signal),
      running: (node) => cluster.running(node),
      startNode: (node) => cluster.startNode(node),
      stopReal: (name) => cluster.stopReal(name),
      startReal: (name) => cluster.startReal(name),
      settled: () => settledMaster(cluster, settledDeadlineMs),
      configFile: cluster.configFile,
      log: (node) => cluster.log(node),
    };
    const witnesses = cluster.config.cluster?.nodes.filter((n) => n.witness).map((n) => n.name) ?? [];
    const backups = cluster.nodes.filter((n) => n !== master && !witnesses.includes(n));
    const hit = await scenario.fault(hands, { master, backups, witnesses });
    out(`drill: ${scenario.name}: ${hit.detail} (${master} held the VIP)\n`);
    events.push({ tMs: faultAt, kind: 'fault', ...(hit.node !== undefined ? { node: hit.node } : {}), detail: hit.detail });
    if (scenario.faultMs !== undefined) {
      await pause(scenario.faultMs);
    } else {
      const next = await settledMaster(cluster, mdi + 10_000, hit.node);
      out(`drill: ${scenario.name}: ${next === undefined ? 'no other director took the VIP' : `${next} holds the VIP`}\n`);
      await pause(settleMs);
    }
    out(`drill: ${scenario.name}: healing\n`);
    const healAt = nowMs();
    const healed = await scenario.heal(hands, hit);
    events.push({ tMs: healAt, kind: 'heal', ...(hit.node !== undefined ? { node: hit.node } : {}), detail: healed });
    await settledMaster(cluster, settledDeadlineMs);
    await pause(settleMs);
  } finally {
    await traffic.stop();
    await sampler.stop();
  }
  const durationMs = nowMs();
  return {
    scenario: scenario.name,
    startedAt: new Date(startedWall).toISOString(),
    durationMs,
    masterDownIntervalMs: Math.round(mdi),
    directors: sampler.directors,
    clients: traffic.samples,
    events: [...events, ...sampler.fences].sort((a, b) => a.tMs - b.tMs),
  };
}
