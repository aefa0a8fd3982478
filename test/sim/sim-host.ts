// Host health on a simulated node: the director's own shell (HostHealthShell) on the
// node's clock, fed samples on the node's clock from a memory level the test or the seed
// sets, its word handed to the control plane as VrrpInstances hands it (one more
// tracker, through trackedPriority), so the very path the daemon takes is the one tried.
// Samples are synchronous here (the simulation has no promises to wait for).
import type { Clock, TimerHandle } from '../../src/common/clock';
import type { InstanceDriver } from '../../src/director/vrrp-instances';
import { HostHealthShell } from '../../src/director/host-monitor';
import { newHostHealth, type HostColour, type HostHealthConfig } from '../../src/host/config';
import type { HostFacts } from '../../src/host/facts';
import { trackedPriority } from '../../src/track/weights';

const where = { file: 'sim', line: 1, col: 1 };

/** migrate_on_red on memory: yellow at 80, red at 90. */
export function simHostHealth(intervalMs: number, holdMs: number): HostHealthConfig {
  return { ...newHostHealth(), strategy: 'migrate_on_red', intervalMs, holdMs, rules: { memory: { yellow: 80, red: 90, where } } };
}

/** Memory levels a host is set to: each its colour from any other (yellow is below red by more than the hysteresis, 5). */
export const memoryOf: Readonly<Record<HostColour, number>> = { green: 40, yellow: 84, red: 95 };

export interface SimHostEvents {
  colourChanged?(from: HostColour, to: HostColour): void;
  /** What the shell handed to the instances: FAULT or not. */
  decided?(fault: boolean): void;
}

export class SimHost {
  readonly shell: HostHealthShell;
  private timer: TimerHandle | undefined;

  /** `memory` is read at each sample: the host's state, which outlives the director on it. */
  constructor(
    private readonly plane: Pick<InstanceDriver, 'tracked'>,
    private readonly clock: Clock,
    config: HostHealthConfig,
    private readonly instances: ReadonlyArray<{ readonly name: string; readonly priority: number }>,
    private readonly memory: () => number,
    events: SimHostEvents = {},
  ) {
    this.shell = new HostHealthShell(config, clock, {
      decided: (d) => {
        this.apply();
        events.decided?.(d.fault);
      },
      colourChanged: (from, to) => events.colourChanged?.(from, to),
    });
    const loop = (): void => {
      this.timer = clock.setTimeout(() => {
        this.sample();
        loop();
      }, config.intervalMs);
    };
    // The daemon's order: one sample before the instances start, then on the schedule.
    this.sample();
    loop();
  }

  sample(): void {
    const facts: HostFacts = { memoryUsedPercent: this.memory(), fileSystems: [], interfaces: [] };
    this.shell.sampled(facts);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.shell.stop();
  }

  private apply(): void {
    const extra = this.shell.extraWeight();
    for (const i of this.instances) {
      const outcome = trackedPriority(i.priority, [], () => undefined, extra);
      this.plane.tracked(i.name, outcome.priority, outcome.faults);
    }
  }
}
