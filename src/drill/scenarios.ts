// The built-in drill scenarios: what each does to the cluster, how it heals, and what it
// expects. A crash, a freeze or a cut link must be fenced before anyone takes the VIP; a
// clean stop is no failure and must fence no one; a clock jump must raise a skew alert
// that the heal clears. A scenario file's `fault:` steps name these.
import fs from 'node:fs';
import path from 'node:path';
import { faketimeLibrary } from '../lab/faketime';
import { nftUnavailable } from '../common/nft';
import type { DrillCluster } from './cluster';
import { defaultExpectations, type Expectations } from './verdict';

/** What bad-reload adds: an instance keepalived's daemon refuses too (no virtual_router_id). */
const brokenInstance = 'vrrp_instance VI_DRILL_BROKEN {\n    interface lo\n}\n';

export interface DrillTarget {
  /** The director holding the VIP now. */
  readonly master: string;
  /** The other directors. */
  readonly backups: readonly string[];
  readonly witnesses: readonly string[];
}

/** What a scenario asks of the cluster it runs against. */
export interface DrillHands extends Pick<DrillCluster, 'reals' | 'configFile' | 'config' | 'signal' | 'running' | 'startNode' | 'powerOn' | 'stopReal' | 'startReal' | 'log' | 'cutLink' | 'restoreLinks'> {
  /** Waits until every node answers and is quorate with one master: its name, or undefined past the deadline. */
  settled(): Promise<string | undefined>;
  /** Undefined when shifted, else why it could not be. */
  shiftClock(node: string, offsetMs: number): Promise<string | undefined>;
}

export interface FaultDone {
  /** The director it hit; none for a fault elsewhere (a real server). */
  readonly node?: string;
  /** The real server it hit. */
  readonly real?: string;
  /** The directors it sent a signal to (bad-reload: SIGHUP). */
  readonly signalled?: readonly string[];
  readonly detail: string;
  /** The configuration's text before the fault changed it, for the heal to put back. */
  readonly restore?: string;
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly expectations: Expectations;
  /** With no takeover expected: how long the fault lasts before the heal. */
  readonly faultMs?: number;
  /** Why it cannot run here (checked before the cluster starts), or undefined. */
  unavailable?(): string | undefined;
  /** Whether it shifts a node's clock: the nodes then start with clocks that can be shifted. */
  readonly shiftsClocks?: boolean;
  /** Does the fault; says whom it hit and how. */
  fault(hands: DrillHands, target: DrillTarget): Promise<FaultDone>;
  heal(hands: DrillHands, hit: FaultDone): Promise<string>;
}

/** The faulted node back: its host switched on if a fence switched it off, then its daemon thawed (SIGCONT) or started again. */
const revive = async (hands: DrillHands, { node }: FaultDone): Promise<string> => {
  if (node === undefined) return 'nothing to heal';
  await hands.powerOn(node);
  if (hands.running(node)) {
    await hands.signal(node, 'SIGCONT');
    return `${node} still running (SIGCONT)`;
  }
  hands.startNode(node);
  return `${node} started again`;
};

/** A fault that sends the director holding the VIP one signal. */
const signalMaster =
  (signal: NodeJS.Signals, said: string): Scenario['fault'] =>
  async (hands, { master }) => {
    await hands.signal(master, signal);
    return { node: master, detail: `${said} ${master}` };
  };

export const scenarios: readonly Scenario[] = [
  {
    name: 'master-kill',
    summary: 'kill -9 the director holding the VIP; it is fenced, another takes over; then it is started again',
    expectations: { ...defaultExpectations, takeover: true, fenceBeforeTakeover: true },
    fault: signalMaster('SIGKILL', 'kill -9'),
    heal: revive,
  },
  {
    name: 'master-term',
    summary: 'SIGTERM the director holding the VIP: priority 0, another takes over at once, no one is fenced; then it is started again',
    expectations: { ...defaultExpectations, takeover: true, noFence: true },
    fault: signalMaster('SIGTERM', 'SIGTERM'),
    heal: revive,
  },
  {
    name: 'master-freeze',
    summary: 'SIGSTOP the director holding the VIP (a hung host): it is fenced before another takes over; SIGCONT, or a restart if the fence killed it',
    expectations: { ...defaultExpectations, takeover: true, fenceBeforeTakeover: true },
    fault: signalMaster('SIGSTOP', 'SIGSTOP'),
    heal: revive,
  },
  {
    name: 'link-cut',
    summary: 'cut every link of the director holding the VIP (the witness hears the other side): it loses quorum and lets the VIP go, the side with the witness fences it and takes over; then the links come back',
    expectations: { ...defaultExpectations, takeover: true, fenceBeforeTakeover: true },
    unavailable: nftUnavailable,
    fault: async (hands, { master, backups, witnesses }) => {
      for (const other of [...backups, ...witnesses]) {
        const problem = await hands.cutLink(master, other);
        if (problem !== undefined) throw new Error(`link-cut: cannot cut ${master} from ${other}: ${problem}`);
      }
      const heard = witnesses.length > 0 ? ` (${witnesses.join(', ')} hear${witnesses.length === 1 ? 's' : ''} ${backups.join(', ')} only)` : '';
      return { node: master, detail: `links cut between ${master} and ${[...backups, ...witnesses].join(', ')}${heard}` };
    },
    heal: async (hands, hit) => {
      await hands.restoreLinks();
      return `links restored; ${await revive(hands, hit)}`;
    },
  },
  {
    name: 'clock-jump',
    summary: "jump a backup's wall clock past skew_critical, as a bad NTP step would (its monotonic clock runs on): its peers raise a critical skew alert and nothing moves; then the clock jumps back and the alerts clear",
    expectations: { ...defaultExpectations, noFence: true, skewAlert: true },
    faultMs: 5000,
    shiftsClocks: true,
    unavailable: () => (faketimeLibrary() === undefined ? 'needs libfaketime (apt-get install faketime)' : undefined),
    fault: async (hands, { backups }) => {
      const node = backups[0];
      if (node === undefined) throw new Error('clock-jump: the cluster has no backup director');
      const jumpMs = (hands.config.cluster?.time.skewCriticalMs ?? 1000) + 500;
      const problem = await hands.shiftClock(node, jumpMs);
      if (problem !== undefined) throw new Error(`clock-jump: ${problem}`);
      return { node, detail: `${node}'s wall clock jumped ${jumpMs} ms ahead` };
    },
    heal: async (hands, { node }) => {
      await hands.shiftClock(node as string, 0);
      return `${node}'s wall clock back in step`;
    },
  },
  {
    name: 'witness-loss',
    summary: 'kill -9 the witness: two votes of three remain, the VIP stays where it is; then it is started again',
    expectations: defaultExpectations,
    faultMs: 5000,
    fault: async (hands, { witnesses }) => {
      const witness = witnesses[0];
      if (witness === undefined) throw new Error('witness-loss: the cluster has no witness');
      await hands.signal(witness, 'SIGKILL');
      return { node: witness, detail: `kill -9 ${witness}` };
    },
    heal: revive,
  },
  {
    name: 'rolling-restart',
    summary: 'restart every director in turn, backups first, each with SIGTERM: the VIP moves once, to a backup already back, and no one is fenced',
    expectations: { ...defaultExpectations, takeover: true, noFence: true },
    fault: async (hands, { master, backups }) => {
      for (const backup of backups) {
        await hands.signal(backup, 'SIGTERM');
        hands.startNode(backup);
        if ((await hands.settled()) === undefined) throw new Error(`rolling-restart: the cluster did not settle after ${backup} came back`);
      }
      await hands.signal(master, 'SIGTERM');
      return { node: master, detail: `${[...backups, master].join(', ')} restarted in turn (SIGTERM), ${master} last` };
    },
    heal: revive,
  },
  {
    name: 'bad-reload',
    summary: 'a configuration with an error, and SIGHUP to every director: each refuses it and runs on, the VIP stays; then the file is mended and reloaded',
    expectations: { ...defaultExpectations, noFence: true },
    faultMs: 3000,
    fault: async (hands, { master, backups }) => {
      const directors = [master, ...backups];
      fs.appendFileSync(hands.configFile, `\n${brokenInstance}`);
      for (const d of directors) await hands.signal(d, 'SIGHUP');
      return { signalled: directors, detail: `a vrrp_instance with no virtual_router_id added to ${path.basename(hands.configFile)}; SIGHUP to ${directors.join(', ')}` };
    },
    heal: async (hands, { signalled }) => {
      const text = fs.readFileSync(hands.configFile, 'utf8');
      fs.writeFileSync(hands.configFile, text.replace(`\n${brokenInstance}`, ''));
      const directors = signalled ?? [];
      const refused = directors.filter((d) => /SIGHUP: .* error\(s\); the running configuration is kept/.test(hands.log(d)));
      for (const d of directors) await hands.signal(d, 'SIGHUP');
      return `file mended and reloaded; refused before by ${refused.length > 0 ? refused.join(', ') : 'none'}`;
    },
  },
  {
    name: 'realserver-kill',
    summary: 'close a real server and its connections: the health check takes it out, the VIP stays where it is; then it is started again',
    expectations: { ...defaultExpectations, noFence: true, sessionsKept: false },
    faultMs: 8000,
    fault: async (hands) => {
      const real = [...hands.reals.keys()][0] as string;
      await hands.stopReal(real);
      return { real, detail: `real server ${real} closed` };
    },
    heal: async (hands, { real }) => {
      await hands.startReal(real as string);
      return `real server ${real} started again`;
    },
  },
  {
    name: 'host-red',
    summary: "turn the master's host red (host_health's memory threshold set below what the host uses, by SIGHUP): its instances go FAULT and hand the VIP over with priority 0, no one is fenced; then the threshold goes back and, after the hold time, the VIP returns",
    expectations: { ...defaultExpectations, takeover: true, noFence: true, returnsAfterHold: true },
    fault: async (hands, { master }) => {
      const before = fs.readFileSync(hands.configFile, 'utf8');
      fs.writeFileSync(hands.configFile, withRedHost(before, master));
      await hands.signal(master, 'SIGHUP');
      return { node: master, signalled: [master], detail: `${master}'s host_health memory red at 1 % used (SIGHUP to ${master})`, restore: before };
    },
    heal: async (hands, { node, restore }) => {
      if (restore !== undefined) fs.writeFileSync(hands.configFile, restore);
      await hands.signal(node as string, 'SIGHUP');
      const holdMs = hands.config.global.hostHealth.holdMs;
      const back = await backOn(hands, node as string, holdMs + hostReturnMarginMs);
      return `${node}'s threshold back (SIGHUP); ${back === undefined ? `the VIP not back on ${node} within the hold time (${holdMs} ms) + ${hostReturnMarginMs} ms` : `the VIP back on ${node} ${back} ms later (hold ${holdMs} ms)`}`;
    },
  },
];

/** The lines host-red puts in the master's host_health: memory red at 1 % used, which any host is past. */
const redLines = (node: string): string[] => [`        @${node} strategy migrate_on_red`, `        @${node} memory 0 1`];

/**
 * The configuration with the master's host red: in its host_health block (or a block of
 * its own in global_defs), after what the block says, so the lines win.
 */
export function withRedHost(text: string, node: string): string {
  const lines = text.split('\n');
  const opens = lines.findIndex((l) => /^\s*host_health\s*\{\s*$/.test(l));
  if (opens !== -1) {
    const closes = lines.findIndex((l, i) => i > opens && /^\s*\}\s*$/.test(l));
    if (closes !== -1) return [...lines.slice(0, closes), ...redLines(node), ...lines.slice(closes)].join('\n');
  }
  const block = ['    host_health {', ...redLines(node), '    }'];
  const globals = lines.findIndex((l) => /^\s*global_defs\s*\{\s*$/.test(l));
  if (globals !== -1) return [...lines.slice(0, globals + 1), ...block, ...lines.slice(globals + 1)].join('\n');
  return ['global_defs {', ...block, '}', ...lines].join('\n');
}

/** Polls until `node` holds the VIP in a settled cluster again; how long it took, or undefined past the deadline. */
async function backOn(hands: DrillHands, node: string, deadlineMs: number): Promise<number | undefined> {
  const started = Date.now();
  for (let i = 0; i < 1000 && Date.now() - started < deadlineMs; i++) {
    if ((await hands.settled()) === node) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return undefined;
}

/** How long past host_health's hold time host-red waits for the VIP to come back. */
const hostReturnMarginMs = 15_000;

export function scenarioNamed(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}
