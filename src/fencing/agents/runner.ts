// Runs a fence device by its agent: the lab's `signal` and `netns`, `exec`, `http`, or
// a `fence_*` program by the fence-agent protocol. What agents print reaches the history
// with every secret option's value blanked out.
import type { Clock } from '../../common/clock';
import { secretOptionNames, type FenceDeviceConfig } from '../config';
import type { FenceOutcome } from '../coordinator';
import { execFence } from './exec-agent';
import { agentInput, findAgent, runAgent, type AgentAction, type AgentResult } from './fence-agent';
import { httpFence } from './http-agent';
import { netnsFence } from './netns-agent';
import { signalFence } from './signal-agent';

export function secretValues(options: Readonly<Record<string, string>>): string[] {
  return Object.entries(options)
    .filter(([key]) => secretOptionNames.has(key))
    .map(([, value]) => value);
}

/** Fencing is done when the agent says so: exit 0 (for `status`, 0 is on and 2 is off). */
function outcome(r: AgentResult, action: AgentAction): FenceOutcome {
  if (action === 'status' || action === 'monitor') return { ok: r.code === 0 || r.code === 2, detail: r.code === 2 ? `off ${r.detail}`.trim() : r.code === 0 ? `on ${r.detail}`.trim() : r.detail };
  return { ok: r.code === 0, detail: r.code === undefined || r.code === 0 ? r.detail : `exit ${r.code}${r.detail.length > 0 ? `: ${r.detail}` : ''}` };
}

/**
 * How the fencing shell starts an agent: `done` is called once with the outcome, never
 * after the returned abort was called. A callback rather than a promise, so a simulation
 * on virtual time can answer within its own run.
 */
export interface FenceAgentDriver {
  start(device: FenceDeviceConfig, target: string, action: AgentAction, done: (outcome: FenceOutcome) => void): () => void;
}

/** Real agents, each stopped (its process killed, its request aborted) when aborted. */
export function agentDriver(runner: AgentRunner): FenceAgentDriver {
  return {
    start(device, target, action, done) {
      const abort = new AbortController();
      runner
        .run(device, target, action, abort.signal)
        .catch((err: unknown): FenceOutcome => ({ ok: false, detail: (err as Error).message }))
        .then((outcome) => {
          if (!abort.signal.aborted) done(outcome);
        });
      return () => abort.abort();
    },
  };
}

export class AgentRunner {
  constructor(private readonly clock: Clock) {}

  async run(device: FenceDeviceConfig, target: string, action: AgentAction, signal: AbortSignal): Promise<FenceOutcome> {
    const secrets = secretValues(device.options);
    switch (device.agent) {
      case 'signal':
        return signalFence(device.options, target, action, this.clock, signal);
      case 'netns':
        return outcome(await netnsFence(device.options, target, action, signal), action);
      case 'exec':
        return outcome(await execFence(device.options, target, action, signal, secrets), action);
      case 'http':
        return outcome(await httpFence(device.options, target, action, signal), action);
      case undefined:
        return { ok: false, detail: `device ${device.name} has no agent` };
      default: {
        const program = findAgent(device.agent);
        if (program === undefined) return { ok: false, detail: `${device.agent} is not installed (Debian: apt-get install fence-agents)` };
        return outcome(await runAgent(program, [], { input: agentInput(action, target, device.options) }, signal, secrets), action);
      }
    }
  }
}
