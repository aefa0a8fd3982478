// `hadirector drill`: runs scenarios (built-in, or scenario files) against the cluster of
// a configuration (on loopback, or in namespaces of the drill's own), one after the other.
// For each: wait for a settled cluster (every director answering, quorate, one master),
// sample every director and drive HTTP through the VIP, warm up, run its steps (for a
// built-in: the fault, the wait for the takeover, the heal, the wait until the cluster is
// whole again); then write report.json and its timeline picture, judge it, and print
// the summary. Exits 1 when an expectation or an assert fails.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { controlRequest } from '../director/control-client';
import { LoopbackCluster } from '../lab/loopback-cluster';
import { netnsUnavailable } from '../lab/netns';
import { masterDownIntervalMs } from '../vrrp/timing';
import { AttachedCluster } from './attached-cluster';
import type { DrillCluster } from './cluster';
import { NetnsDrillCluster } from './netns-cluster';
import { withoutFencing } from './no-fencing';
import { Progress } from './progress';
import type { DirectorSample, DrillEvent, DrillReport } from './report';
import { Sampler, sampleOf, type StatusForSample } from './sampler';
import { loadScenarioFile } from './scenario-file';
import { scenarioNamed, scenarios, type DrillHands, type FaultDone, type Scenario } from './scenarios';
import { builtinDrill, judgeAssertion, type Drillable, type Step } from './steps';
import { summaryTable, type ScenarioOutcome } from './summary';
import { renderTimeline } from './timeline';
import { judge, type Judgement } from './verdict';

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
  /** Drill a cluster already running on this host: its control sockets are in this folder (true: the runtime folder). */
  readonly attach?: string | true;
  readonly out: (text: string) => void;
  /** Whether `out` is a terminal: the progress line is redrawn in place there. */
  readonly tty?: boolean;
}

const sampleEveryMs = 50;
const requestEveryMs = 20;
const sessionEveryMs = 100;
const warmUpMs = 2000;
const settledDeadlineMs = 30_000;
const pollEveryMs = 100;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface SettledWhen {
  /** A node not counted (the one a fault just stopped). */
  readonly except?: string;
  /** No node alerts on a peer's clock either. */
  readonly calmClocks?: boolean;
  /**
   * Every director's copy of every peer's connection table whole and current: a node just
   * restarted has pulled its snapshot, so stopping the master next loses no session.
   */
  readonly wholeCopies?: boolean;
}

/**
 * Every node but `except` answering, quorate and settled (a node just started takes
 * nothing over until it has heard every peer or initdead has passed), and exactly one of
 * them master: its name; polled until the deadline.
 */
async function settledMaster(cluster: DrillCluster, deadlineMs: number, when: SettledWhen = {}): Promise<string | undefined> {
  const until = performance.now() + deadlineMs;
  while (performance.now() < until) {
    const samples = await Promise.all(
      cluster.nodes
        .filter((n) => n !== when.except)
        .map(async (n) => sampleOf(0, n, await statusOf(cluster, n))),
    );
    const masters = samples.filter((s) => s.holdsVip === true).map((s) => s.node);
    const ready = (s: DirectorSample): boolean =>
      s.quorate === true && s.settled !== false && (when.calmClocks !== true || s.skews === undefined) && (when.wholeCopies !== true || s.copiesWhole !== false);
    if (samples.every(ready) && masters.length === 1) return masters[0];
    await pause(pollEveryMs);
  }
  return undefined;
}

/** A scenario file's name: it ends in .yaml or .yml. */
const isScenarioFile = (name: string): boolean => /\.ya?ml$/.test(name);

/** Each name as the drill runs it: a built-in scenario or a scenario file; or the problems. */
function drillablesOf(names: readonly string[], cwd: string): { drills: Drillable[]; problems: string[] } {
  const faults = scenarios.map((s) => s.name);
  const drills: Drillable[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const builtin = scenarioNamed(name);
    if (builtin !== undefined) drills.push(builtinDrill(builtin));
    else if (isScenarioFile(name)) {
      const loaded = loadScenarioFile(path.resolve(cwd, name), faults);
      if (loaded.scenario !== undefined) drills.push(loaded.scenario);
      problems.push(...loaded.problems);
    } else problems.push(`no scenario ${name}; there are ${faults.join(', ')}, or a scenario file (.yaml)`);
  }
  return { drills, problems };
}

/** The built-in scenarios whose faults a drill uses. */
const faultsOf = (d: Drillable): Scenario[] => d.steps.flatMap((s) => (s.kind === 'fault' ? [scenarioNamed(s.scenario) as Scenario] : []));

export async function runDrill(o: DrillOptions): Promise<number> {
  const { drills, problems } = drillablesOf(o.scenarios, o.cwd);
  if (problems.length > 0) {
    o.out(problems.map((p) => `hadirector drill: ${p}\n`).join(''));
    return 2;
  }
  const chosen = [...new Set(drills.flatMap(faultsOf))];
  /** Each chosen scenario that cannot run, with why. */
  const whyNot = (why: (s: Scenario) => string | undefined): string[] =>
    chosen.flatMap((s) => {
      const reason = why(s);
      return reason === undefined ? [] : [`${s.name} ${reason}`];
    });
  const cannot = whyNot((s) => s.unavailable?.());
  if (cannot.length > 0) {
    o.out(`hadirector drill: ${cannot.join('; ')}: leave ${cannot.length === 1 ? 'it' : 'them'} out, or run the drill where ${cannot.length === 1 ? 'it' : 'they'} can run\n`);
    return 2;
  }
  const cluster = clusterFor(path.resolve(o.cwd, o.file), o, chosen);
  if (!('configFile' in cluster)) {
    o.out(`hadirector drill: ${cluster.problem}\n`);
    return cluster.exitCode;
  }
  const refused = whyNot((s) => cluster.cannot?.(s.name));
  if (refused.length > 0) {
    o.out(`hadirector drill: ${refused.join('; ')}\n`);
    return 2;
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
    progress.line(`drill: ${o.attach !== undefined ? 'attaching to the running cluster' : 'starting the cluster'} of ${o.file} (${cluster.nodes.join(', ')})${o.netns === true ? ' in network namespaces' : ''}${o.noFencing === true ? ' with fencing mode self_release (--no-fencing)' : ''}; logs in ${cluster.dir}`);
    await cluster.start();
    for (const drill of drills) {
      const { report, asserted } = await runScenario(cluster, drill, mdi, progress);
      const dir = path.join(path.resolve(o.cwd, o.reportDir), drill.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
      const picture = await renderTimeline(report);
      fs.writeFileSync(path.join(dir, 'timeline.svg'), picture.svg);
      fs.writeFileSync(path.join(dir, 'timeline.png'), picture.png);
      const judged = judge(report, drill.expectations);
      outcomes.push({ scenario: drill.name, figures: judged.figures, judgements: [...judged.judgements, ...asserted] });
      progress.line(`drill: ${drill.name}: report.json, timeline.svg and timeline.png in ${dir}`);
    }
  } catch (err) {
    progress.line(`hadirector drill: ${(err as Error).message}`);
    return 1;
  } finally {
    progress.phase(o.attach !== undefined ? 'leaving the cluster running' : 'stopping the cluster');
    await cluster.stop();
    progress.done();
  }
  o.out(`${summaryTable(outcomes).join('\n')}\n`);
  return outcomes.every((x) => x.judgements.every((j) => j.ok)) ? 0 : 1;
}

type Problem = { readonly problem: string; readonly exitCode: number };

function clusterFor(file: string, o: DrillOptions, chosen: readonly Scenario[]): DrillCluster | Problem {
  if (o.attach !== undefined) {
    if (o.netns === true || o.noFencing === true) return { problem: '--attach drills the cluster as it runs: not with --netns or --no-fencing', exitCode: 2 };
    return AttachedCluster.of(file, o.attach === true ? undefined : path.resolve(o.cwd, o.attach));
  }
  if (o.netns === true) {
    const why = netnsUnavailable();
    if (why !== undefined) return { problem: `--netns ${why}`, exitCode: 2 };
    return NetnsDrillCluster.of(file, chosen.some((s) => s.shiftsClocks === true));
  }
  const lab = LoopbackCluster.of(file, true, chosen.some((s) => s.shiftsClocks === true));
  if (!(lab instanceof LoopbackCluster)) return lab;
  if (lab.vip === undefined) return { problem: `${file} has no TCP virtual_server to drill`, exitCode: 2 };
  return lab;
}

async function runScenario(cluster: DrillCluster, drill: Drillable, mdi: number, progress: Progress): Promise<{ report: DrillReport; asserted: Judgement[] }> {
  const say = (text: string): void => progress.line(`drill: ${drill.name}: ${text}`);
  progress.phase(`${drill.name}: waiting for a settled cluster`);
  const master = await settledMaster(cluster, settledDeadlineMs, { wholeCopies: true });
  if (master === undefined) throw new Error(`${drill.name}: the cluster did not settle (every node quorate and settled, one master) within ${settledDeadlineMs} ms`);
  const t0Wall = Date.now();
  const t0 = performance.now();
  const nowMs = (): number => Math.round(performance.now() - t0);
  const sampler = new Sampler(cluster, nowMs, t0Wall, sampleEveryMs);
  const traffic = cluster.clients.traffic({ nowMs, t0Wall }, requestEveryMs);
  const sessions = cluster.clients.sessions?.({ nowMs, t0Wall }, sessionEveryMs, false);
  const connections = cluster.clients.sessions?.({ nowMs, t0Wall }, sessionEveryMs, true);
  const flows = cluster.clients.flows?.({ nowMs, t0Wall }, sessionEveryMs);
  const dataPlane = (await statusOf(cluster, master))?.dataPlane;
  const events: DrillEvent[] = [];
  const asserted: Judgement[] = [];
  const hands: DrillHands = { ...bind(cluster), settled: () => settledMaster(cluster, settledDeadlineMs, { wholeCopies: true }) };
  const witnesses = cluster.config.cluster?.nodes.filter((n) => n.witness).map((n) => n.name) ?? [];
  /** Faults not healed yet, the last on top. */
  const open: Array<{ scenario: Scenario; hit: FaultDone }> = [];
  const step = async (st: Step): Promise<void> => {
    switch (st.kind) {
      case 'fault': {
        const scenario = scenarioNamed(st.scenario) as Scenario;
        const holder = (await settledMaster(cluster, 1000)) ?? master;
        const backups = cluster.nodes.filter((n) => n !== holder && !witnesses.includes(n));
        progress.phase(`fault: ${scenario.name}`);
        const faultAt = nowMs();
        const hit = await scenario.fault(hands, { master: holder, backups, witnesses });
        say(`${hit.detail} (${holder} held the VIP)`);
        events.push({ tMs: faultAt, kind: 'fault', ...(hit.node !== undefined ? { node: hit.node } : {}), detail: hit.detail });
        open.push({ scenario, hit });
        return;
      }
      case 'heal': {
        const last = open.pop();
        if (last === undefined) return say('heal: no fault to heal');
        progress.phase('healing');
        const healAt = nowMs();
        const healed = await last.scenario.heal(hands, last.hit);
        say(healed);
        events.push({ tMs: healAt, kind: 'heal', ...(last.hit.node !== undefined ? { node: last.hit.node } : {}), detail: healed });
        return;
      }
      case 'wait':
        if ('ms' in st) {
          progress.phase(`waiting ${st.ms} ms`);
          return pause(st.ms);
        }
        if (st.until === 'takeover') {
          progress.phase('waiting for another director to take over');
          const next = await settledMaster(cluster, mdi + 10_000, { except: open.at(-1)?.hit.node });
          return say(next === undefined ? 'no other director took the VIP' : `${next} holds the VIP`);
        }
        progress.phase('waiting for the cluster to settle');
        if ((await settledMaster(cluster, settledDeadlineMs, { calmClocks: drill.expectations.skewAlert, wholeCopies: true })) === undefined) say(`the cluster did not settle within ${settledDeadlineMs} ms`);
        return;
      case 'assert': {
        const latest = await Promise.all(cluster.nodes.map(async (n) => sampleOf(nowMs(), n, await statusOf(cluster, n))));
        const judged = judgeAssertion(st.check, st.where ?? `step ${drill.steps.indexOf(st) + 1}`, latest, { master, witnesses });
        say(`${judged.expectation}: ${judged.ok ? 'holds' : 'FAILS'}: ${judged.detail}`);
        asserted.push(judged);
        return;
      }
    }
  };
  progress.watch(drill.name, nowMs, sampler, traffic);
  sampler.start();
  traffic.start();
  sessions?.start();
  connections?.start();
  flows?.start();
  try {
    progress.phase('warming up');
    await pause(warmUpMs);
    for (const st of drill.steps) await step(st);
  } finally {
    progress.phase('writing the report');
    await traffic.stop();
    await sessions?.stop();
    await connections?.stop();
    await flows?.stop();
    await sampler.stop();
    progress.unwatch();
  }
  const report: DrillReport = {
    scenario: drill.name,
    startedAt: new Date(t0Wall).toISOString(),
    durationMs: nowMs(),
    masterDownIntervalMs: Math.round(mdi),
    directors: sampler.directors,
    clients: [...traffic.samples].sort((a, b) => a.tMs - b.tMs),
    ...(sessions !== undefined ? { sessions: sessions.samples } : {}),
    ...(connections !== undefined ? { connections: connections.samples } : {}),
    ...(flows !== undefined ? { flows: flows.samples } : {}),
    keepsConnections: dataPlane !== undefined && dataPlane !== 'userspace',
    sync: cluster.config.cluster?.sync.connections ?? false,
    hostHoldMs: cluster.config.global.hostHealth.holdMs,
    ...(sampler.neighbours.length > 0 ? { neighbours: sampler.neighbours } : {}),
    events: [...events, ...sampler.fences].sort((a, b) => a.tMs - b.tMs),
  };
  return { report, asserted };
}

/** A node's status, or undefined when it does not answer. */
async function statusOf(cluster: DrillCluster, node: string): Promise<StatusForSample | undefined> {
  const r = await controlRequest(cluster.socket(node), { op: 'status' }, 500).catch(() => undefined);
  return r?.ok === true ? (r.result as StatusForSample) : undefined;
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
