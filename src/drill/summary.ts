// The drill's summary, printed after each scenario: one row per scenario with its figures
// (sessions, connections and UDP flows as kept/lost), then each expectation that failed,
// named, with what was seen.
import type { DrillFigures, Judgement } from './verdict';

export interface ScenarioOutcome {
  readonly scenario: string;
  readonly figures: DrillFigures;
  readonly judgements: readonly Judgement[];
}

const columns = ['scenario', 'detect', 'fence', 'takeover', 'outage', 'failed', 'sessions', 'connections', 'udp flows', 'double holder', 'skew alert', 'verdict'] as const;

const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v} ms`);
const keptLost = (kept: number | undefined, lost: number | undefined): string => (kept === undefined ? '-' : `${kept}/${lost ?? 0}`);

export function summaryTable(outcomes: readonly ScenarioOutcome[]): string[] {
  const rows = outcomes.map((o) => {
    const f = o.figures;
    const failed = o.judgements.filter((j) => !j.ok);
    return [o.scenario, ms(f.detectMs), ms(f.fenceMs), ms(f.takeoverMs), ms(f.clientOutageMs), `${f.requestsFailed}/${f.requests}`, keptLost(f.sessionsKept, f.sessionsLost), keptLost(f.connectionsKept, f.connectionsLost), keptLost(f.flowsKept, f.flowsLost), ms(f.doubleHolderMs), f.skewRaisedMs === undefined ? '-' : `${f.skewRaisedMs} ms, cleared ${ms(f.skewClearedMs)}`, failed.length === 0 ? 'pass' : 'FAIL'];
  });
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  const failures = outcomes.flatMap((o) => o.judgements.filter((j) => !j.ok).map((j) => `${o.scenario}: ${j.expectation}: ${j.detail}`));
  return [line(columns), ...rows.map(line), ...failures];
}
