// What one run of the cluster simulation is, drawn from its seed: how many directors,
// a witness or not, two_node, the fencing mode and agent (power or isolation, faulty or
// not), freezes, clean stops, connection sync, loss and partitions, host health. A seed names a run
// exactly: `npm run sim -- --seed S` replays it, and `replayCommand` is that line.
import type { MemberConfig } from '../../src/cluster/membership';
import { SeededRng } from '../../src/common/rng';
import type { DetectorTiming } from '../../src/heartbeat/failure-detector';

/** A rule broken on purpose, to see the invariants catch it (the controls). */
export type SimBreak =
  /** The coordinator ignores a clean leave. */
  | 'fence-clean-leaves'
  /** The coordinator ignores that its node stands down. */
  | 'deposed-keeps-fencing'
  /** The VRRP agent ignores that its node stands down. */
  | 'deposed-keeps-vips'
  /** In mode power the gate trusts a silent holder's deadline. */
  | 'gate-trusts-deadlines'
  /** A takeover does not load the copies of the connection table. */
  | 'skip-sync-load'
  /** Masters keep their VIPs without quorum (no_quorum_policy ignore). */
  | 'ignore-quorum'
  /** Each node counts every vote as its own. */
  | 'selfish-votes'
  /** Host health's FAULT never reaches the instances. */
  | 'red-keeps-vips';

export const simBreaks: readonly SimBreak[] = ['fence-clean-leaves', 'deposed-keeps-fencing', 'deposed-keeps-vips', 'gate-trusts-deadlines', 'skip-sync-load', 'ignore-quorum', 'selfish-votes', 'red-keeps-vips'];

export interface SimFencing {
  readonly mode: 'power' | 'self_release';
  /** What a successful fence does: power the node off, or cut its links (as the netns agent). */
  readonly agent: 'power' | 'isolate';
  /** Agents also fail, hang, and act after they were given up on. */
  readonly faults: boolean;
  readonly delayMaxMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
}

/** Host health on every director: migrate_on_red, the host's colour changed by chaos. */
export interface SimHostHealth {
  readonly intervalMs: number;
  readonly holdMs: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly nodes: readonly MemberConfig[];
  readonly links: readonly string[];
  readonly timing: DetectorTiming;
  readonly twoNode: boolean;
  /** Without fencing, no device is configured (mode self_release). */
  readonly fencing?: SimFencing;
  readonly freezes: boolean;
  readonly cleanStops: boolean;
  readonly sync: boolean;
  /** The worst loss a chaos phase may bring, 0..1. */
  readonly maxLoss: number;
  /** The share of chaos events that cut the network. */
  readonly partitionRate: number;
  /** Host health on, with hosts going red and green at times drawn from the seed. */
  readonly hostHealth?: SimHostHealth;
  readonly breaks?: SimBreak;
}

export const defaultSimTiming: DetectorTiming = { intervalMs: 1000, warntimeMs: 1500, deadtimeMs: 3000, initdeadMs: 6000 };

const director = (name: string, priority: number): MemberConfig => ({ name, priority, votes: 1, witness: false });
const witness: MemberConfig = { name: 'w1', priority: 0, votes: 1, witness: true };

export const simDurationDefaultMs = 120_000;

/** Two directors and a witness: the tests' cluster when they drive nodes by hand. */
export const defaultSimNodes: readonly MemberConfig[] = [director('d1', 150), director('d2', 100), witness];

/** What the seed says, with `over` laid on top (the command line may fix a few). */
export function optionsFromSeed(seed: number, over: Partial<SimOptions> = {}): SimOptions {
  const r = new SeededRng((seed * 2654435761) ^ 0x5eed);
  const directors = r.next() < 0.3 ? 3 : 2;
  const hasWitness = directors === 2 ? r.next() < 0.6 : r.next() < 0.2;
  const nodes = [director('d1', 150), director('d2', 100), ...(directors === 3 ? [director('d3', 50)] : []), ...(hasWitness ? [witness] : [])];
  const twoNode = directors === 2 && !hasWitness;
  const timing = defaultSimTiming;
  const fenced = r.next() < 0.85;
  const timeoutMs = 1500;
  const retries = 1;
  // Two sides of a cut each fence the other: the one that should win must be done (its
  // every try, and the loser seeing its links go) before the loser's longer wait ends.
  const raceMs = timeoutMs * (1 + retries) + 2 * timing.intervalMs + 500;
  const fencing: SimFencing | undefined = fenced
    ? {
        mode: r.next() < 0.6 ? 'power' : 'self_release',
        agent: r.next() < 0.6 ? 'power' : 'isolate',
        faults: r.next() < 0.6,
        delayMaxMs: twoNode ? raceMs + Math.floor(r.next() * 1000) : Math.floor(r.next() * 2000),
        timeoutMs,
        retries,
      }
    : undefined;
  const links = r.next() < 0.5 ? ['ring0'] : ['ring0', 'ring1'];
  const freezes = r.next() < 0.7;
  const cleanStops = r.next() < 0.7;
  const sync = r.next() < 0.5;
  const maxLoss = [0, 0.05, 0.2, 0.3][Math.floor(r.next() * 4)] as number;
  const partitionRate = 0.1 + r.next() * 0.3;
  // Drawn after every older choice, so a seed keeps the cluster and faults it had.
  const hostHealth: SimHostHealth | undefined = r.next() < 0.7 ? { intervalMs: [1000, 2000, 5000][Math.floor(r.next() * 3)] as number, holdMs: 2000 + Math.floor(r.next() * 18_000) } : undefined;
  return {
    seed,
    durationMs: simDurationDefaultMs,
    nodes,
    links,
    timing,
    twoNode,
    ...(fencing !== undefined ? { fencing } : {}),
    freezes,
    cleanStops,
    sync,
    maxLoss,
    partitionRate,
    ...(hostHealth !== undefined ? { hostHealth } : {}),
    ...over,
  };
}

/** One line: what the run is. */
export function describeOptions(o: SimOptions): string {
  const directors = o.nodes.filter((n) => !n.witness).length;
  const f = o.fencing;
  return [
    `${directors} directors${o.nodes.some((n) => n.witness) ? ' + witness' : ''}${o.twoNode ? ' two_node' : ''}`,
    `${o.links.length} link${o.links.length === 1 ? '' : 's'}`,
    f === undefined ? 'no fencing' : `fencing ${f.mode} by ${f.agent}${f.faults ? ' (faulty agents)' : ''}, delay_max ${f.delayMaxMs} ms`,
    `loss up to ${Math.round(o.maxLoss * 100)}%`,
    `partitions ${Math.round(o.partitionRate * 100)}%`,
    ...(o.freezes ? ['freezes'] : []),
    ...(o.cleanStops ? ['clean stops'] : []),
    ...(o.sync ? ['sync'] : []),
    ...(o.hostHealth !== undefined ? [`host health every ${o.hostHealth.intervalMs / 1000} s, hold ${(o.hostHealth.holdMs / 1000).toFixed(1)} s`] : []),
    ...(o.breaks !== undefined ? [`BROKEN: ${o.breaks}`] : []),
  ].join(', ');
}

/** The command that replays exactly this run. */
export function replayCommand(o: SimOptions): string {
  const extra = [
    ...(o.durationMs !== simDurationDefaultMs ? ['--duration', String(o.durationMs / 1000)] : []),
    ...(o.breaks !== undefined ? ['--break', o.breaks] : []),
  ];
  return `npm run sim -- --seed ${o.seed} --trace${extra.length > 0 ? ` ${extra.join(' ')}` : ''}`;
}
