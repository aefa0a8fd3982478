// Host health at work on a director. The HostHealth machine (src/host/health.ts) decides;
// this file performs. HostHealthShell feeds it samples and reloads, arms its hold timer on
// the clock and hands what it decides on: to the VRRP instances as one more tracker (a
// weight, and FAULT reasons), and each change of the host's colour to the log, the notify
// script and notify_fifo. HostMonitor takes the samples: one at once (before the instances
// start), then on a schedule, never two at a time, from a HostFactSource (systeminformation
// on a host, a script in tests). The simulation runs HostHealthShell alone, on virtual
// time, with facts drawn from its seed.
import cron from 'node-cron';
import type { Clock, TimerHandle } from '../common/clock';
import type { LogSink } from '../common/log';
import { colourRank } from '../host/colour';
import type { HostColour, HostHealthConfig, HostHealthStrategy } from '../host/config';
import { factValue, hostFactNames, type FileSystemFact, type HostFactName, type HostFactSource, type HostFacts, type InterfaceFact } from '../host/facts';
import { HostHealth, type HostDecision, type HostHealthAction, type HostHealthTimer } from '../host/health';
import type { ExtraWeight } from '../track/weights';
import { Timers } from './timers';

export interface HostEvents {
  /** What the instances must do changed (FAULT, the priority delta, or their reasons). */
  decided(decision: HostDecision): void;
  /** The host's colour changed; `causes` are its facts that are not green. */
  colourChanged(from: HostColour, to: HostColour, causes: readonly string[]): void;
}

const component = { component: 'host' };
const round = (value: number): number => Math.round(value * 100) / 100;

/** A time on the clock (ms) as the wall clock's ISO text: what status and reasons show. */
const wallIso = (clock: Clock, ms: number): string => new Date(clock.wallMs() - (clock.nowMs() - ms)).toISOString();

/** `memory red 95.2 (detail)`: a fact as the machine's reasons write it. */
function factPhrase(f: { fact: HostFactName; colour: HostColour; value?: number; detail?: string }): string {
  return `${f.fact} ${f.colour}${f.value === undefined ? '' : ` ${round(f.value)}`}${f.detail === undefined ? '' : ` (${f.detail})`}`;
}

/** Each judged fact that is not green, worst first. */
export function colourCauses(decision: HostDecision): string[] {
  return [...decision.facts].filter((f) => f.colour !== 'green').sort((a, b) => colourRank[b.colour] - colourRank[a.colour]).map(factPhrase);
}

/** The machine's reasons without its `held until …ms` note, which it adds last and which is in clock ms. */
function causesOf(decision: HostDecision): readonly string[] {
  return decision.heldUntilMs === undefined ? decision.reasons : decision.reasons.slice(0, -1);
}

export class HostHealthShell {
  private readonly machine: HostHealth;
  private readonly timers: Timers<HostHealthTimer>;

  constructor(
    config: HostHealthConfig,
    private readonly clock: Clock,
    private readonly events: HostEvents,
    private readonly log?: LogSink,
  ) {
    this.machine = new HostHealth(config, clock);
    this.timers = new Timers(clock, (timer) => this.perform(this.machine.step({ kind: 'timerFired', timer })));
  }

  sampled(facts: HostFacts): void {
    this.perform(this.machine.step({ kind: 'sampled', facts }));
  }

  /** A reload: new thresholds, strategy or hold, judged at once on the last sample. */
  configured(config: HostHealthConfig): void {
    this.perform(this.machine.step({ kind: 'configured', config }));
  }

  decision(): HostDecision {
    return this.machine.decision();
  }

  describe(): string {
    return this.machine.describe();
  }

  /** What the instances take from the host: its priority delta, and FAULT with its reason. */
  extraWeight(): ExtraWeight {
    const d = this.machine.decision();
    if (!d.fault) return { weight: d.priorityDelta, faults: [] };
    // Wall time, not "N s more": the reason is written once and read later.
    const held = d.heldUntilMs === undefined ? [] : [`held until ${wallIso(this.clock, d.heldUntilMs)}`];
    return { weight: d.priorityDelta, faults: [`host health ${d.colour}: ${[...causesOf(d), ...held].join('; ')}`] };
  }

  stop(): void {
    this.timers.clear();
  }

  private perform(actions: readonly HostHealthAction[]): void {
    let colour: { from: HostColour; to: HostColour } | undefined;
    let decided = false;
    for (const a of actions) {
      switch (a.kind) {
        case 'factColourChanged':
          this.log?.info(`host fact ${factPhrase({ fact: a.fact, colour: a.to, ...(a.value !== undefined ? { value: a.value } : {}), ...(a.detail !== undefined ? { detail: a.detail } : {}) })}, was ${a.from}`, component);
          break;
        case 'colourChanged':
          colour = { from: a.from, to: a.to };
          break;
        case 'decisionChanged': {
          decided = true;
          const d = a.decision;
          const what = d.fault ? 'its instances go to FAULT' : d.priorityDelta !== 0 ? `priority ${d.priorityDelta}` : 'its instances are fit again';
          this.log?.[d.fault ? 'warn' : 'info'](`host health: ${what}${d.reasons.length > 0 ? `: ${causesOf(d).join('; ')}` : ''}`, component);
          break;
        }
        case 'setTimer':
          this.timers.set(a.timer, a.atMs);
          break;
        case 'cancelTimer':
          this.timers.cancel(a.timer);
          break;
      }
    }
    const decision = this.machine.decision();
    if (colour !== undefined) {
      const causes = colourCauses(decision);
      this.log?.[colour.to === 'green' ? 'info' : 'warn'](`host ${colour.to.toUpperCase()} (was ${colour.from})${causes.length > 0 ? `: ${causes.join('; ')}` : ''}`, component);
      this.events.colourChanged(colour.from, colour.to, causes);
    }
    // A colour change with the same decision may still change the FAULT's reasons.
    if (decided || colour !== undefined) this.events.decided(decision);
  }
}

/** Runs `tick` every `intervalMs` until stopped. */
export type SampleSchedule = (intervalMs: number, tick: () => void) => { stop(): void };

/** node-cron's seconds form for an interval of whole seconds that divides a minute; undefined for any other. */
export function cronExpression(intervalMs: number): string | undefined {
  const s = intervalMs / 1000;
  if (!Number.isInteger(s) || s < 1 || 60 % s !== 0) return undefined;
  return s === 60 ? '0 * * * * *' : `*/${s} * * * * *`;
}

/** A loop of timeouts on the clock: the simulation's and the tests' time, or an interval cron cannot say. */
export function clockSchedule(clock: Clock): SampleSchedule {
  return (intervalMs, tick) => {
    let handle: TimerHandle | undefined;
    let stopped = false;
    const loop = (): void => {
      handle = clock.setTimeout(() => {
        if (stopped) return;
        tick();
        loop();
      }, intervalMs);
    };
    loop();
    return {
      stop: () => {
        stopped = true;
        if (handle !== undefined) clock.clearTimeout(handle);
      },
    };
  };
}

/**
 * On the wall clock's seconds (samples of every director of a cluster land alike, as the
 * NTP checks do) when cron can say the interval; else `fallback`.
 */
export function cronSchedule(fallback: SampleSchedule): SampleSchedule {
  return (intervalMs, tick) => {
    const expression = cronExpression(intervalMs);
    if (expression === undefined) return fallback(intervalMs, tick);
    // A sample missed while the loop was busy is not worth a warning: the next one comes.
    const task = cron.schedule(expression, () => tick(), { name: 'host-health', suppressMissedWarning: true });
    return { stop: () => void task.destroy() };
  };
}

export interface FactStatus {
  readonly fact: HostFactName;
  readonly value?: number;
  readonly detail?: string;
  /** Absent for a fact with no thresholds: sampled and shown, not judged. */
  readonly colour?: HostColour;
  readonly since?: string;
}

export interface HostSampleStatus {
  readonly at: string;
  /** How long the sample took, and how the heap moved meanwhile (negative when a collection ran). */
  readonly durationMs: number;
  readonly heapDeltaBytes: number;
  readonly loadPerCpu?: readonly [number, number, number];
  readonly uptimeS?: number;
  readonly fileSystems: readonly FileSystemFact[];
  readonly interfaces: readonly InterfaceFact[];
}

export interface HostStatus {
  readonly strategy: HostHealthStrategy;
  readonly colour: HostColour;
  readonly since: string;
  readonly fault: boolean;
  readonly priorityDelta: number;
  readonly heldUntil?: string;
  /** Why there is a FAULT or a penalty. */
  readonly reasons: readonly string[];
  readonly facts: readonly FactStatus[];
  readonly intervalMs: number;
  readonly holdMs: number;
  readonly paths: readonly string[];
  readonly interfaces: readonly string[];
  readonly samples: number;
  /** Ticks that came while a sample was still running, and were let go. */
  readonly skipped: number;
  readonly failed: number;
  readonly lastSample?: HostSampleStatus;
}

export interface HostMonitorOptions {
  readonly config: HostHealthConfig;
  readonly clock: Clock;
  readonly source: HostFactSource;
  readonly paths: readonly string[];
  readonly interfaces: readonly string[];
  readonly schedule: SampleSchedule;
  readonly log: LogSink;
  readonly events: HostEvents;
  /** The heap in use now; process.memoryUsage by default. */
  readonly heapUsed?: () => number;
}

interface Sample {
  readonly facts: HostFacts;
  readonly atMs: number;
  readonly durationMs: number;
  readonly heapDeltaBytes: number;
}

export class HostMonitor {
  readonly shell: HostHealthShell;
  private config: HostHealthConfig;
  private task: { stop(): void } | undefined;
  private last: Sample | undefined;
  private busy = false;
  private stopped = false;
  private samples = 0;
  private skipped = 0;
  private failed = 0;

  constructor(private readonly o: HostMonitorOptions) {
    this.config = o.config;
    this.shell = new HostHealthShell(o.config, o.clock, o.events, o.log);
  }

  /** Samples on the schedule from now on. */
  start(): void {
    this.task?.stop();
    this.task = this.o.schedule(this.config.intervalMs, () => void this.sample());
  }

  /** One sample into the machine; false when one was already running (this one is let go) or it failed. */
  async sample(): Promise<boolean> {
    if (this.busy) {
      this.skipped++;
      return false;
    }
    this.busy = true;
    const heapUsed = this.o.heapUsed ?? (() => process.memoryUsage().heapUsed);
    const heapBefore = heapUsed();
    const startedMs = this.o.clock.nowMs();
    let facts: HostFacts;
    try {
      facts = await this.o.source.sample(this.o.paths, this.o.interfaces);
    } catch (err) {
      this.failed++;
      this.o.log.warn(`host sample failed: ${(err as Error).message}`, component);
      return false;
    } finally {
      this.busy = false;
    }
    if (this.stopped) return false;
    const nowMs = this.o.clock.nowMs();
    this.last = { facts, atMs: nowMs, durationMs: nowMs - startedMs, heapDeltaBytes: heapUsed() - heapBefore };
    this.samples++;
    this.shell.sampled(facts);
    return true;
  }

  /** A SIGHUP: the machine judges the last sample by the new rules; a new interval takes the schedule anew. */
  reload(config: HostHealthConfig): void {
    const interval = config.intervalMs !== this.config.intervalMs;
    this.config = config;
    this.shell.configured(config);
    if (interval && this.task !== undefined) this.start();
  }

  stop(): void {
    this.stopped = true;
    this.task?.stop();
    this.task = undefined;
    this.shell.stop();
  }

  status(): HostStatus {
    const wall = (ms: number): string => wallIso(this.o.clock, ms);
    const d = this.shell.decision();
    const judged = new Map(d.facts.map((f) => [f.fact, f]));
    const facts = hostFactNames.map((name): FactStatus => {
      const j = judged.get(name);
      const read = this.last === undefined ? {} : factValue(this.last.facts, name);
      const value = j?.value ?? read.value;
      const detail = j?.detail ?? read.detail;
      return {
        fact: name,
        ...(value !== undefined ? { value: round(value) } : {}),
        ...(detail !== undefined ? { detail } : {}),
        ...(j !== undefined ? { colour: j.colour, since: wall(j.sinceMs) } : {}),
      };
    });
    return {
      strategy: this.config.strategy,
      colour: d.colour,
      since: wall(d.colourSinceMs),
      fault: d.fault,
      priorityDelta: d.priorityDelta,
      ...(d.heldUntilMs !== undefined ? { heldUntil: wall(d.heldUntilMs) } : {}),
      reasons: causesOf(d),
      facts,
      intervalMs: this.config.intervalMs,
      holdMs: this.config.holdMs,
      paths: this.o.paths,
      interfaces: this.o.interfaces,
      samples: this.samples,
      skipped: this.skipped,
      failed: this.failed,
      ...(this.last !== undefined ? { lastSample: this.sampleStatus(this.last, wall) } : {}),
    };
  }

  private sampleStatus(s: Sample, wall: (ms: number) => string): HostSampleStatus {
    const f = s.facts;
    const load = f.load1PerCpu !== undefined && f.load5PerCpu !== undefined && f.load15PerCpu !== undefined ? ([round(f.load1PerCpu), round(f.load5PerCpu), round(f.load15PerCpu)] as const) : undefined;
    return {
      at: wall(s.atMs),
      durationMs: round(s.durationMs),
      heapDeltaBytes: s.heapDeltaBytes,
      ...(load !== undefined ? { loadPerCpu: load } : {}),
      ...(f.uptimeS !== undefined ? { uptimeS: Math.floor(f.uptimeS) } : {}),
      fileSystems: f.fileSystems,
      interfaces: f.interfaces,
    };
  }
}
