// The trackers at work: each vrrp_script run at its interval (never two runs at once,
// a run past its timeout killed and counted a failure), interfaces, files and processes
// polled, and a change reported as soon as it is seen. Only what some instance tracks
// is run. The timers are on the injected clock; the host is behind TrackProbes.
import type { Clock, TimerHandle } from '../common/clock';
import type { HadConfig } from '../config/model';
import type { VrrpTrackProcessConfig } from '../vrrp/config';
import type { TrackProbes } from './probes';
import { ScriptResult } from './script-result';
import type { TrackBinding, TrackKind, TrackReading } from './weights';

/** Polling periods. keepalived hears the kernel's events; polling costs a few reads each. */
export const interfacePollMs = 100;
export const filePollMs = 500;
export const processPollMs = 1000;

export interface TrackerEvents {
  changed(kind: TrackKind, name: string, reading: TrackReading): void;
}

interface ProcessState {
  up: boolean | undefined;
  /** When the count first disagreed with `up`. */
  differsSinceMs?: number;
}

export class Trackers {
  private readonly readings = new Map<string, TrackReading>();
  /** The one pending timer of each poller. */
  private readonly timers = new Set<TimerHandle>();
  private running = false;

  constructor(
    private readonly config: HadConfig,
    private readonly wanted: readonly TrackBinding[],
    private readonly clock: Clock,
    private readonly probes: TrackProbes,
    private readonly events: TrackerEvents,
  ) {}

  reading(kind: TrackKind, name: string): TrackReading | undefined {
    return this.readings.get(`${kind}:${name}`);
  }

  /** Takes a first reading of everything but scripts at once, so instances start knowing. */
  start(): void {
    this.running = true;
    const names = (kind: TrackKind) => [...new Set(this.wanted.filter((b) => b.kind === kind).map((b) => b.name))];
    for (const name of names('interface')) this.poll(interfacePollMs, () => this.set('interface', name, { up: this.probes.interfaceUp(name) }));
    for (const name of names('file')) {
      const def = this.config.vrrpTrackFiles.find((f) => f.name === name);
      const file = def?.file;
      if (def === undefined || file === undefined) continue;
      if (def.initFile !== undefined && (def.initFile.overwrite || !this.probes.fileExists(file))) this.probes.writeNumber(file, def.initFile.value);
      this.poll(filePollMs, () => this.set('file', name, { value: this.probes.readNumber(file) }));
    }
    for (const name of names('process')) {
      const def = this.config.vrrpTrackProcesses.find((p) => p.name === name);
      if (def?.process === undefined) continue;
      const state: ProcessState = { up: undefined };
      this.poll(processPollMs, () => this.sampleProcess(def, state));
    }
    for (const name of names('script')) {
      const def = this.config.vrrpScripts.find((s) => s.name === name);
      const command = def?.script;
      if (def === undefined || command === undefined) continue;
      const result = new ScriptResult(def.rise, def.fall, def.initFail);
      this.set('script', name, { up: result.up });
      let busy = false;
      this.poll(def.intervalMs, () => {
        if (busy) return;
        busy = true;
        void this.probes.runScript(command, def.timeoutMs ?? def.intervalMs).then((ok) => {
          busy = false;
          if (this.running && result.record(ok)) this.set('script', name, { up: result.up });
        });
      });
    }
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  private poll(everyMs: number, sample: () => void): void {
    const tick = (): void => {
      if (!this.running) return;
      sample();
      const timer = this.clock.setTimeout(() => {
        this.timers.delete(timer);
        tick();
      }, everyMs);
      this.timers.add(timer);
    };
    tick();
  }

  private sampleProcess(def: VrrpTrackProcessConfig, state: ProcessState): void {
    const count = this.probes.processCount({ name: def.process ?? '', params: def.params, paramMatch: def.paramMatch, fullCommand: def.fullCommand });
    const inQuorum = count >= def.quorum && (def.quorumMax === undefined || count <= def.quorumMax);
    const now = this.clock.nowMs();
    if (state.up === undefined || inQuorum === state.up) {
      state.differsSinceMs = undefined;
      if (state.up === undefined) {
        state.up = inQuorum;
        this.set('process', def.name, { up: inQuorum });
      }
      return;
    }
    state.differsSinceMs ??= now;
    if (now - state.differsSinceMs >= (inQuorum ? def.forkDelayMs : def.terminateDelayMs)) {
      state.up = inQuorum;
      state.differsSinceMs = undefined;
      this.set('process', def.name, { up: inQuorum });
    }
  }

  private set(kind: TrackKind, name: string, reading: TrackReading): void {
    const key = `${kind}:${name}`;
    const old = this.readings.get(key);
    const same = old !== undefined && ('up' in old && 'up' in reading ? old.up === reading.up : 'value' in old && 'value' in reading && old.value === reading.value);
    if (same) return;
    this.readings.set(key, reading);
    this.events.changed(kind, name, reading);
  }
}
