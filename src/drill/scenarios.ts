// The built-in drill scenarios: what each does to the cluster, how it heals, and what it
// expects. A crash or a freeze must be fenced before anyone takes the VIP; a clean stop
// is no failure and must fence no one.
import { defaultExpectations, type Expectations } from './verdict';

export interface DrillTarget {
  /** The director holding the VIP now. */
  readonly master: string;
}

/** What a scenario asks of the cluster it runs against. */
export interface DrillHands {
  signal(node: string, signal: NodeJS.Signals): Promise<void>;
  startNode(node: string): void;
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly expectations: Expectations;
  /** Does the fault; says whom it hit and how. */
  fault(hands: DrillHands, target: DrillTarget): Promise<{ readonly node: string; readonly detail: string }>;
  heal(hands: DrillHands, node: string): Promise<string>;
}

const restart = async (hands: DrillHands, node: string): Promise<string> => {
  hands.startNode(node);
  return `${node} started again`;
};

export const scenarios: readonly Scenario[] = [
  {
    name: 'master-kill',
    summary: 'kill -9 the director holding the VIP; it is fenced, another takes over; then it is started again',
    expectations: { ...defaultExpectations, takeover: true, fenceBeforeTakeover: true },
    fault: async (hands, { master }) => {
      await hands.signal(master, 'SIGKILL');
      return { node: master, detail: `kill -9 ${master}` };
    },
    heal: restart,
  },
  {
    name: 'master-term',
    summary: 'SIGTERM the director holding the VIP: priority 0, another takes over at once, no one is fenced; then it is started again',
    expectations: { ...defaultExpectations, takeover: true, noFence: true },
    fault: async (hands, { master }) => {
      await hands.signal(master, 'SIGTERM');
      return { node: master, detail: `SIGTERM ${master}` };
    },
    heal: restart,
  },
];

export function scenarioNamed(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}
