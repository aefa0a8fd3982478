// A drill's figures and verdict, from its report alone: when the survivors noticed the
// fault, when the faulted director was fenced, when another took the VIP, how long the
// clients went unanswered, and for how long two directors said they held the VIP at
// once. Each expectation has a default that a scenario may tighten; a clean stop
// (SIGTERM, a rolling restart) expects no fence at all.
import type { ClientSample, DirectorSample, DrillReport, SessionSample } from './report';
import { sessionFigures } from './sessions';

export interface DrillFigures {
  /** From the fault to the first survivor counting the faulted director dead. */
  readonly detectMs?: number;
  /** From the fault to the first fence the directors reported. */
  readonly fenceMs?: number;
  /** From the fault to the first sample of another director holding the VIP. */
  readonly takeoverMs?: number;
  /** The longest time between two answered requests from the fault on. */
  readonly clientOutageMs: number;
  readonly requestsFailed: number;
  readonly requests: number;
  /** The time two or more directors said they held the VIP, over the whole drill. */
  readonly doubleHolderMs: number;
  readonly fences: number;
  /** From the fault to the first peer alerting on the faulted node's clock. */
  readonly skewRaisedMs?: number;
  /** From the heal to the moment no peer alerts on it any more. */
  readonly skewClearedMs?: number;
  /** Persistent clients whose every answer after the fault came from their server before it, and those moved. */
  readonly sessionsKept?: number;
  readonly sessionsLost?: number;
  /** Long-lived clients whose every answer after the fault came on their connection before it, and those whose connection ended. */
  readonly connectionsKept?: number;
  readonly connectionsLost?: number;
  /** UDP flows whose every answer after the fault came from their server before it, and those moved. */
  readonly flowsKept?: number;
  readonly flowsLost?: number;
  /** The longest a change waited for a peer's acknowledgement (connection sync). */
  readonly maxSyncLagMs?: number;
  /** From the heal to the first sample of the faulted director holding the VIP again. */
  readonly returnMs?: number;
}

export interface Expectations {
  readonly maxDoubleHolderMs: number;
  /** The outage bound: Master_Down_Interval plus this. */
  readonly outageMarginMs: number;
  /** Whether a takeover must come only after a fence (a crash, a freeze, a cut). */
  readonly fenceBeforeTakeover: boolean;
  /** Whether any fence at all fails the drill (a clean stop is no failure). */
  readonly noFence: boolean;
  /** Whether another director must take the VIP. */
  readonly takeover: boolean;
  /** Whether the peers must raise a skew alert on the faulted node after the fault, and clear it after the heal. */
  readonly skewAlert: boolean;
  /** Whether every persistent client must stay on its real server, when the directors sync their tables. */
  readonly sessionsKept: boolean;
  /** Whether the faulted director must take the VIP back after the heal, and not before host_health's hold time. */
  readonly returnsAfterHold: boolean;
}

export const defaultExpectations: Expectations = { maxDoubleHolderMs: 0, outageMarginMs: 1000, fenceBeforeTakeover: false, noFence: false, takeover: false, skewAlert: false, sessionsKept: true, returnsAfterHold: false };

export interface Judgement {
  readonly expectation: string;
  readonly ok: boolean;
  readonly detail: string;
}

export function drillFigures(report: DrillReport): DrillFigures {
  const fault = report.events.find((e) => e.kind === 'fault');
  const faultMs = fault?.tMs ?? 0;
  const holderBefore = fault === undefined ? undefined : holderAt(report.directors, faultMs);
  const detected = fault?.node === undefined ? undefined : report.directors.find((s) => s.tMs >= faultMs && s.node !== fault.node && s.peersDown?.includes(fault.node as string) === true);
  const fenced = report.events.find((e) => e.kind === 'fence' && e.tMs >= faultMs);
  const took = fault === undefined ? undefined : report.directors.find((s) => s.tMs >= faultMs && s.holdsVip === true && s.node !== holderBefore);
  const after = report.clients.filter((c) => c.tMs >= faultMs);
  const heal = report.events.find((e) => e.kind === 'heal');
  const alerting = (s: DirectorSample): boolean => s.skews?.some((k) => k.peer === fault?.node) === true;
  const raised = fault?.node === undefined ? undefined : report.directors.find((s) => s.tMs >= faultMs && alerting(s));
  const cleared = raised === undefined || heal === undefined ? undefined : firstTimeNone(report.directors, heal.tMs, alerting);
  const sessions = report.sessions === undefined ? undefined : sessionFigures(report.sessions, faultMs);
  const connections = report.connections === undefined ? undefined : sessionFigures(report.connections, faultMs);
  const flows = report.flows === undefined ? undefined : sessionFigures(report.flows, faultMs);
  const lags = report.directors.flatMap((s) => (s.syncLagMs !== undefined ? [s.syncLagMs] : []));
  const back = heal === undefined || fault?.node === undefined ? undefined : report.directors.find((s) => s.tMs >= heal.tMs && s.node === fault.node && s.holdsVip === true);
  return {
    ...(detected !== undefined ? { detectMs: detected.tMs - faultMs } : {}),
    ...(fenced !== undefined ? { fenceMs: fenced.tMs - faultMs } : {}),
    ...(took !== undefined ? { takeoverMs: took.tMs - faultMs } : {}),
    clientOutageMs: longestUnanswered(report.clients, faultMs, report.durationMs),
    requestsFailed: after.filter((c) => !c.ok).length,
    requests: after.length,
    doubleHolderMs: doubleHolderMs(report.directors),
    fences: report.events.filter((e) => e.kind === 'fence').length,
    ...(raised !== undefined ? { skewRaisedMs: raised.tMs - faultMs } : {}),
    ...(cleared !== undefined && heal !== undefined ? { skewClearedMs: cleared - heal.tMs } : {}),
    ...(sessions !== undefined ? { sessionsKept: sessions.kept, sessionsLost: sessions.lost } : {}),
    ...(connections !== undefined ? { connectionsKept: connections.kept, connectionsLost: connections.lost } : {}),
    ...(flows !== undefined ? { flowsKept: flows.kept, flowsLost: flows.lost } : {}),
    ...(lags.length > 0 ? { maxSyncLagMs: Math.max(...lags) } : {}),
    ...(back !== undefined && heal !== undefined ? { returnMs: back.tMs - heal.tMs } : {}),
  };
}

/** The first time from `fromMs` on when no node's latest sample is `bad`. */
function firstTimeNone(samples: readonly DirectorSample[], fromMs: number, bad: (s: DirectorSample) => boolean): number | undefined {
  const latest = new Map<string, DirectorSample>();
  for (const s of samples) {
    latest.set(s.node, s);
    if (s.tMs >= fromMs && ![...latest.values()].some(bad)) return s.tMs;
  }
  return undefined;
}

export function judge(report: DrillReport, expect: Expectations): { figures: DrillFigures; judgements: Judgement[] } {
  const f = drillFigures(report);
  const outageBound = report.masterDownIntervalMs + expect.outageMarginMs;
  const judgements: Judgement[] = [
    { expectation: 'no two VIP holders', ok: f.doubleHolderMs <= expect.maxDoubleHolderMs, detail: `two holders for ${f.doubleHolderMs} ms (at most ${expect.maxDoubleHolderMs})` },
    { expectation: 'client outage bounded', ok: f.clientOutageMs <= outageBound, detail: `${f.clientOutageMs} ms unanswered (at most Master_Down_Interval ${report.masterDownIntervalMs} ms + ${expect.outageMarginMs} ms)` },
  ];
  if (expect.takeover) judgements.push({ expectation: 'another director takes over', ok: f.takeoverMs !== undefined, detail: f.takeoverMs === undefined ? 'no other director took the VIP' : `after ${f.takeoverMs} ms` });
  if (expect.fenceBeforeTakeover && f.takeoverMs !== undefined) {
    const ok = f.fenceMs !== undefined && f.fenceMs <= f.takeoverMs;
    judgements.push({ expectation: 'fence before takeover', ok, detail: f.fenceMs === undefined ? `taken over after ${f.takeoverMs} ms with no fence` : `fenced after ${f.fenceMs} ms, taken over after ${f.takeoverMs} ms` });
  }
  if (expect.skewAlert) {
    const ok = f.skewRaisedMs !== undefined && f.skewClearedMs !== undefined;
    const detail = f.skewRaisedMs === undefined ? 'no peer alerted on the clock' : `raised ${f.skewRaisedMs} ms after the fault, ${f.skewClearedMs === undefined ? 'never cleared' : `cleared ${f.skewClearedMs} ms after the heal`}`;
    judgements.push({ expectation: 'skew alert raised and cleared', ok, detail });
  }
  const faultMs = report.events.find((e) => e.kind === 'fault')?.tMs ?? 0;
  const kept = (what: string, samples: readonly SessionSample[]): Judgement => {
    const { kept: n, moved } = sessionFigures(samples, faultMs);
    return { expectation: `no ${what} lost (sync on)`, ok: moved.length === 0, detail: moved.length === 0 ? `${n} kept` : moved.map((m) => `${m.client} moved from ${m.from} to ${m.to}`).join('; ') };
  };
  if (expect.sessionsKept && report.sync === true && report.sessions !== undefined) judgements.push(kept('session', report.sessions));
  if (expect.sessionsKept && report.sync === true && report.flows !== undefined) judgements.push(kept('UDP flow', report.flows));
  // A relay in the director ends with it: only a data plane that keeps connections is asked to.
  if (expect.sessionsKept && report.sync === true && report.keepsConnections === true && report.connections !== undefined) judgements.push(kept('connection', report.connections));
  if (expect.noFence) judgements.push({ expectation: 'no fence (a clean stop is no failure)', ok: f.fences === 0, detail: `${f.fences} fence(s)` });
  if (expect.returnsAfterHold) {
    const holdMs = report.hostHoldMs ?? 0;
    const ok = f.returnMs !== undefined && f.returnMs >= holdMs;
    judgements.push({ expectation: 'the VIP back after the hold time', ok, detail: f.returnMs === undefined ? 'not back after the heal' : `back ${f.returnMs} ms after the heal (hold ${holdMs} ms)` });
  }
  return { figures: f, judgements };
}

/** The director that held the VIP at the last sample before `tMs`, if one did. */
function holderAt(samples: readonly DirectorSample[], tMs: number): string | undefined {
  const last = new Map<string, DirectorSample>();
  for (const s of samples) if (s.tMs <= tMs) last.set(s.node, s);
  return [...last.values()].find((s) => s.holdsVip === true)?.node;
}

/**
 * Whether a director held the VIP at a sample: by its own word when it answers; when it
 * does not (frozen, killed), by the kernel's (a frozen director's address and listener
 * stay where they were, and clients still reach them).
 */
export function holdsAt(s: DirectorSample): boolean {
  return s.state === 'down' ? s.vipOnHost === true : s.holdsVip === true;
}

/**
 * How many directors held the VIP, stretch by stretch from the first sample to the last: a
 * director surely holds from the first of a run of samples that say so to the last of
 * them (between samples nothing is known), so a double shorter than the sampling
 * interval can go unseen.
 */
export function holderCounts(samples: readonly DirectorSample[]): Array<{ startMs: number; endMs: number; count: number }> {
  const byNode = new Map<string, DirectorSample[]>();
  for (const s of samples) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
  const edges: Array<{ tMs: number; delta: number }> = [];
  for (const list of byNode.values()) {
    list.forEach((s, i) => {
      if (!holdsAt(s)) return;
      const before = list[i - 1];
      const after = list[i + 1];
      if (before === undefined || !holdsAt(before)) edges.push({ tMs: s.tMs, delta: 1 });
      if (after === undefined || !holdsAt(after)) edges.push({ tMs: s.tMs, delta: -1 });
    });
  }
  edges.sort((a, b) => a.tMs - b.tMs || b.delta - a.delta);
  const out: Array<{ startMs: number; endMs: number; count: number }> = [];
  let count = 0;
  let since = samples[0]?.tMs ?? 0;
  for (const e of edges) {
    if (e.tMs > since) out.push({ startMs: since, endMs: e.tMs, count });
    count += e.delta;
    since = Math.max(since, e.tMs);
  }
  const last = samples.at(-1)?.tMs ?? since;
  if (last > since) out.push({ startMs: since, endMs: last, count });
  return out;
}

function doubleHolderMs(samples: readonly DirectorSample[]): number {
  return holderCounts(samples)
    .filter((c) => c.count >= 2)
    .reduce((sum, c) => sum + c.endMs - c.startMs, 0);
}

/** The longest stretch from `fromMs` on with no answered request (to the end, if none came back). */
function longestUnanswered(clients: readonly ClientSample[], fromMs: number, endMs: number): number {
  const answered = clients.filter((c) => c.ok).map((c) => c.tMs);
  let previous = [...answered].reverse().find((t) => t <= fromMs) ?? fromMs;
  let longest = 0;
  for (const t of answered.filter((t) => t > fromMs)) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return Math.max(longest, clients.some((c) => c.tMs > previous) ? endMs - previous : 0);
}
