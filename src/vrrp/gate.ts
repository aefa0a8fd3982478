// The takeover gate: when a backup may become master of an instance. Only while its
// partition has quorum, or no_quorum_policy is `ignore` (and the start-up grace is over), and only when every other node
// that may hold the instance is known safe: it released (priority 0), or it is a node we
// hear whose heartbeats say it does not hold it, or it has been silent past deadtime —
// past its own self-release deadline, so it has let go if it was cut off (fencing mode
// self_release), or fenced (fencing mode power: the deadline alone is not trusted). And
// when a master must let go: when
// the last moment a quorum heard it is older than deadtime less a guard, it releases by
// itself, before any survivor's gate can open on it.

import type { NoQuorumPolicy } from '../cluster/config';
import { vipPermission } from '../cluster/quorum';

export interface Claim {
  readonly node: string;
  /** It said, by advert or heartbeat, that it holds the instance, and has not released. */
  readonly holding: boolean;
  /** We hear it now (the failure detector counts it up or late). */
  readonly heard: boolean;
  /** When our partition last heard it: we, or a peer we hear. */
  readonly lastHeardMs: number;
}

export interface GateInputs {
  readonly nowMs: number;
  readonly quorate: boolean;
  /** Without quorum: `ignore` takes over all the same; `stop` and `freeze` take nothing new. */
  readonly policy: NoQuorumPolicy;
  /** The last moment a quorum heard this node (ClusterNode.quorumContactMs). */
  readonly quorumContactMs: number;
  readonly guardMs: number;
  readonly settled: boolean;
  readonly deadtimeMs: number;
  /** What every other node is known to claim. */
  readonly claims: readonly Claim[];
  /** Nodes fenced in their current run: they hold nothing any more. */
  readonly fenced?: ReadonlySet<string>;
  /** Fencing mode power: a silent holder is safe only once fenced, never by its deadline alone. */
  readonly waitForFence?: boolean;
}

export interface GateVerdict {
  readonly open: boolean;
  readonly reason: string;
  /** When the verdict may change by time alone (a self-release deadline, this node's own quorum contact), if it may. */
  readonly recheckAtMs?: number;
}

export function takeoverGate(i: GateInputs): GateVerdict {
  if (!i.settled) return { open: false, reason: 'starting: initdead has not passed and not every peer is heard' };
  if (vipPermission(i.quorate, i.policy, false) !== 'may-hold') return { open: false, reason: `no quorum (no_quorum_policy ${i.policy})` };
  // A view still counts peers until deadtime; a node they stopped hearing must not take
  // over only to let go again at once (no_quorum_policy stop).
  if (i.policy === 'stop' && selfReleaseDue(i.nowMs, i.quorumContactMs, i.deadtimeMs, i.guardMs)) return { open: false, reason: 'no quorum has heard this node lately' };
  for (const c of i.claims) {
    if (!c.holding || i.fenced?.has(c.node) === true) continue;
    if (c.heard) return { open: false, reason: `${c.node} holds it and is heard` };
    if (i.waitForFence === true) return { open: false, reason: `${c.node} may still hold it: waiting for it to be fenced` };
    const deadline = c.lastHeardMs + i.deadtimeMs;
    if (i.nowMs < deadline) return { open: false, reason: `${c.node} may still hold it: its self-release deadline is in ${Math.ceil(deadline - i.nowMs)} ms`, recheckAtMs: deadline };
  }
  // Open until no quorum has heard this node for deadtime less the guard: a deadline too.
  const shutAtMs = i.quorumContactMs + i.deadtimeMs - i.guardMs;
  const reason = i.quorate ? 'quorum, and no other holder' : 'no quorum, but no_quorum_policy ignore; no other holder';
  return { open: true, reason, ...(i.policy === 'stop' && Number.isFinite(shutAtMs) ? { recheckAtMs: shutAtMs } : {}) };
}

/**
 * A quarter of a heartbeat interval. What a master knows of when peers last heard it is
 * never later than the truth (their reports come late, never early), so releasing at
 * deadtime after that, less the guard, is always before any peer can have gone deadtime
 * without hearing it; the guard only covers this node's timer lateness and the time its
 * addresses take to go. It must stay small: those reports are up to two intervals old
 * when they come (the master's period, then the peer's), so a larger guard makes a master
 * that every peer hears let go for nothing.
 */
export function selfReleaseGuardMs(heartbeatIntervalMs: number): number {
  return heartbeatIntervalMs / 4;
}

/** A master keeps its VIPs until deadtime − guard after a quorum last heard it. */
export function selfReleaseDue(nowMs: number, quorumContactMs: number, deadtimeMs: number, guardMs: number): boolean {
  return nowMs >= quorumContactMs + deadtimeMs - guardMs;
}
