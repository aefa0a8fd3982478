// A drill's figures and verdict from hand-made reports: a clean failover passes, a double
// holder is caught and timed, a takeover without a fence fails when one is expected, a
// fence fails a clean stop, and the outage is the longest unanswered stretch; the summary
// table prints the figures and names what failed.
import assert from 'node:assert/strict';
import type { ClientSample, DirectorSample, DrillEvent, DrillReport } from '../../src/drill/report';
import { sampleOf } from '../../src/drill/sampler';
import { sessionFigures } from '../../src/drill/sessions';
import { summaryTable } from '../../src/drill/summary';
import { defaultExpectations, drillFigures, judge } from '../../src/drill/verdict';

/** Samples every 100 ms from `fromMs` to `toMs` (exclusive) of one director in one state. */
function span(node: string, fromMs: number, toMs: number, s: Omit<DirectorSample, 'tMs' | 'node'>): DirectorSample[] {
  const out: DirectorSample[] = [];
  for (let t = fromMs; t < toMs; t += 100) out.push({ tMs: t, node, ...s });
  return out;
}

/** A request every 10 ms, failing inside `failing` ([from, to)). */
function requests(durationMs: number, failing: readonly [number, number][] = []): ClientSample[] {
  const out: ClientSample[] = [];
  for (let t = 0; t < durationMs; t += 10) {
    const down = failing.some(([a, b]) => t >= a && t < b);
    out.push(down ? { tMs: t, ok: false, error: 'ECONNREFUSED' } : { tMs: t, ok: true, server: 'rs1', latencyMs: 1 });
  }
  return out;
}

function report(directors: DirectorSample[], clients: ClientSample[], events: DrillEvent[]): DrillReport {
  const sorted = [...directors].sort((a, b) => a.tMs - b.tMs);
  return { scenario: 'test', startedAt: '2026-12-07T00:00:00.000Z', durationMs: 10_000, masterDownIntervalMs: 3609, directors: sorted, clients, events };
}

const master = { state: 'master', holdsVip: true, quorate: true } as const;
const backup = { state: 'backup', holdsVip: false, quorate: true } as const;
const down = { state: 'down' } as const;

describe('drill verdict', () => {
  it('a master killed at 2 s, detected, fenced, then taken over: the figures, and every expectation met', () => {
    const r = report(
      [...span('d1', 0, 2000, master), ...span('d1', 2000, 10_000, down), ...span('d2', 0, 3000, backup), ...span('d2', 3000, 4000, { ...backup, peersDown: ['d1'] }), ...span('d2', 4000, 10_000, { ...master, peersDown: ['d1'] })],
      requests(10_000, [[2000, 4050]]),
      [
        { tMs: 2000, kind: 'fault', node: 'd1', detail: 'kill -9' },
        { tMs: 3500, kind: 'fence', node: 'd1', detail: 'fenced by d2' },
      ],
    );
    const { figures, judgements } = judge(r, { ...defaultExpectations, fenceBeforeTakeover: true, takeover: true });
    assert.deepEqual(figures, { detectMs: 1000, fenceMs: 1500, takeoverMs: 2000, clientOutageMs: 2060, requestsFailed: 205, requests: 800, doubleHolderMs: 0, fences: 1 });
    assert.deepEqual(judgements.filter((j) => !j.ok), []);
    assert.deepEqual(judgements.map((j) => j.expectation), ['no two VIP holders', 'client outage bounded', 'another director takes over', 'fence before takeover']);
  });

  it('a frozen master that comes back still master beside the new one: the double holder is caught and timed', () => {
    const r = report(
      [...span('d1', 0, 2000, master), ...span('d1', 2000, 6000, down), ...span('d1', 6000, 6500, master), ...span('d1', 6500, 10_000, backup), ...span('d2', 0, 5000, backup), ...span('d2', 5000, 10_000, master)],
      requests(10_000),
      [
        { tMs: 2000, kind: 'fault', node: 'd1', detail: 'SIGSTOP' },
        { tMs: 6000, kind: 'heal', node: 'd1', detail: 'SIGCONT' },
      ],
    );
    const { figures, judgements } = judge(r, { ...defaultExpectations, fenceBeforeTakeover: true });
    assert.equal(figures.doubleHolderMs, 400, 'from the first sample of d1 master again (6000) to its last (6400)');
    assert.deepEqual(judgements.filter((j) => !j.ok).map((j) => j.expectation), ['no two VIP holders', 'fence before takeover']);
    assert.match(judgements[0]?.detail ?? '', /two holders for 400 ms/);
  });

  it('a clean stop expects no fence; one fence fails it', () => {
    const directors = [...span('d1', 0, 2000, master), ...span('d1', 2000, 10_000, down), ...span('d2', 0, 2700, backup), ...span('d2', 2700, 10_000, master)];
    const clean = report(directors, requests(10_000, [[2000, 2700]]), [{ tMs: 2000, kind: 'fault', node: 'd1', detail: 'SIGTERM' }]);
    assert.deepEqual(judge(clean, { ...defaultExpectations, noFence: true, takeover: true }).judgements.filter((j) => !j.ok), []);
    const fenced = report(directors, requests(10_000, [[2000, 2700]]), [
      { tMs: 2000, kind: 'fault', node: 'd1', detail: 'SIGTERM' },
      { tMs: 2500, kind: 'fence', node: 'd1', detail: 'fenced by d2' },
    ]);
    assert.deepEqual(judge(fenced, { ...defaultExpectations, noFence: true }).judgements.filter((j) => !j.ok).map((j) => j.detail), ['1 fence(s)']);
  });

  it('an outage past Master_Down_Interval and its margin fails; one that never ends lasts to the end of the drill', () => {
    const long = report(span('d1', 0, 10_000, master), requests(10_000, [[1000, 6000]]), [{ tMs: 1000, kind: 'fault', detail: 'realserver-kill' }]);
    const judged = judge(long, defaultExpectations);
    assert.equal(judged.figures.clientOutageMs, 5010);
    assert.deepEqual(judged.judgements.filter((j) => !j.ok).map((j) => j.expectation), ['client outage bounded']);
    const endless = report(span('d1', 0, 10_000, master), requests(10_000, [[8000, 10_000]]), [{ tMs: 1000, kind: 'fault', detail: 'x' }]);
    assert.equal(drillFigures(endless).clientOutageMs, 2010);
  });

  it("a clock jump: the skew alert on the faulted node is timed from the fault, and its clearing from the heal, once no node alerts any more", () => {
    const alert = { skews: [{ peer: 'd2', level: 'critical' as const }] };
    const directors = [
      ...span('d1', 0, 10_000, master),
      ...span('d2', 0, 10_000, backup),
      ...span('w1', 0, 3000, { state: 'none', quorate: true }),
      ...span('w1', 3000, 7500, { state: 'none', quorate: true, ...alert }),
      ...span('w1', 7500, 10_000, { state: 'none', quorate: true }),
    ].sort((a, b) => a.tMs - b.tMs);
    const events = [
      { tMs: 2000, kind: 'fault' as const, node: 'd2', detail: 'clock +1500 ms' },
      { tMs: 6000, kind: 'heal' as const, node: 'd2', detail: 'clock back' },
    ];
    const judged = judge(report(directors, requests(10_000), events), { ...defaultExpectations, skewAlert: true });
    assert.deepEqual([judged.figures.skewRaisedMs, judged.figures.skewClearedMs], [1000, 1500]);
    assert.deepEqual(judged.judgements.filter((j) => !j.ok), []);
    const stuck = directors.map((s) => (s.node === 'w1' && s.tMs >= 3000 ? { ...s, ...alert } : s));
    const failed = judge(report(stuck, requests(10_000), events), { ...defaultExpectations, skewAlert: true }).judgements.filter((j) => !j.ok);
    assert.deepEqual(failed.map((j) => `${j.expectation}: ${j.detail}`), ['skew alert raised and cleared: raised 1000 ms after the fault, never cleared']);
  });

  it('persistent clients: kept when every answer after the fault comes from their server before it; with sync on, one moved fails the drill, with sync off it is only counted', () => {
    const directors = [...span('d1', 0, 10_000, master)];
    const events = [{ tMs: 2000, kind: 'fault' as const, node: 'd1', detail: 'kill -9' }];
    const sessions = ['127.0.1.1', '127.0.1.2', '127.0.1.3'].flatMap((client, i) =>
      Array.from({ length: 50 }, (_, k) => {
        const tMs = k * 200;
        const server = i === 2 && tMs > 4000 ? 'rs2' : i === 1 ? 'rs2' : 'rs1';
        return tMs > 2000 && tMs < 3000 ? { tMs, client, ok: false, error: 'ECONNREFUSED' } : { tMs, client, ok: true, server };
      }),
    );
    assert.deepEqual(sessionFigures(sessions, 2000), { kept: 2, lost: 1, moved: [{ client: '127.0.1.3', from: 'rs1', to: 'rs2' }] });
    const synced = { ...report(directors, requests(10_000), events), sessions, sync: true };
    const judged = judge(synced, defaultExpectations);
    assert.deepEqual([judged.figures.sessionsKept, judged.figures.sessionsLost], [2, 1]);
    assert.deepEqual(judged.judgements.filter((j) => !j.ok).map((j) => `${j.expectation}: ${j.detail}`), ['no session lost (sync on): 127.0.1.3 moved from rs1 to rs2']);
    assert.deepEqual(judge({ ...synced, sync: false }, defaultExpectations).judgements.filter((j) => !j.ok), []);
    assert.deepEqual(judge(synced, { ...defaultExpectations, sessionsKept: false }).judgements.filter((j) => !j.ok), [], 'a scenario that moves sessions on purpose (realserver-kill) does not expect them kept');
  });

  it('long-lived clients: a new connection after the fault is a lost one, judged only where the data plane keeps connections through a takeover', () => {
    const directors = [...span('d1', 0, 10_000, master)];
    const events = [{ tMs: 2000, kind: 'fault' as const, node: 'd1', detail: 'kill -9' }];
    const connections = Array.from({ length: 50 }, (_, k) => ({ tMs: k * 200, client: '127.0.2.1', ok: true, server: 'rs1', connection: k * 200 < 4000 ? 1 : 2 }));
    const userspace = { ...report(directors, requests(10_000), events), connections, sync: true, keepsConnections: false };
    const judged = judge(userspace, defaultExpectations);
    assert.deepEqual([judged.figures.connectionsKept, judged.figures.connectionsLost], [0, 1]);
    assert.deepEqual(judged.judgements.filter((j) => !j.ok), [], 'a relay in the director ends with it: counted, not judged');
    assert.deepEqual(judge({ ...userspace, keepsConnections: true }, defaultExpectations).judgements.filter((j) => !j.ok).map((j) => j.detail), ['127.0.2.1 moved from rs1 on connection 1 to rs1 on connection 2']);
  });

  it('with no fault, the figures cover the whole drill and nothing is said of detection or takeover', () => {
    const figures = drillFigures(report(span('d1', 0, 10_000, master), requests(10_000), []));
    assert.deepEqual(figures, { clientOutageMs: 10, requestsFailed: 0, requests: 1000, doubleHolderMs: 0, fences: 0 });
  });
});

describe('drill summary', () => {
  it('one aligned row per scenario, then each failed expectation with what was seen', () => {
    const ok = { scenario: 'master-kill', figures: { detectMs: 1000, fenceMs: 1500, takeoverMs: 2000, clientOutageMs: 2060, requestsFailed: 205, requests: 800, doubleHolderMs: 0, fences: 1, sessionsKept: 7, sessionsLost: 1, connectionsKept: 0, connectionsLost: 4 }, judgements: [{ expectation: 'no two VIP holders', ok: true, detail: '' }] };
    const bad = { scenario: 'master-freeze', figures: { clientOutageMs: 10, requestsFailed: 0, requests: 800, doubleHolderMs: 500, fences: 0 }, judgements: [{ expectation: 'no two VIP holders', ok: false, detail: 'two holders for 500 ms (at most 0)' }] };
    assert.deepEqual(summaryTable([ok, bad]), [
      'scenario       detect   fence    takeover  outage   failed   sessions  connections  udp flows  double holder  skew alert  verdict',
      'master-kill    1000 ms  1500 ms  2000 ms   2060 ms  205/800  7/1       0/4          -          0 ms           -           pass',
      'master-freeze  -        -        -         10 ms    0/800    -         -            -          500 ms         -           FAIL',
      'master-freeze: no two VIP holders: two holders for 500 ms (at most 0)',
    ]);
  });
});

describe('drill samples', () => {
  it("a director's status becomes a sample; a witness runs no instance; no answer is down", () => {
    const status = { vrrp: [{ state: 'master' }], cluster: { view: { quorate: true, dc: 'd1' }, peers: [{ peer: 'd2', state: 'dead' }, { peer: 'w1', state: 'up' }] } };
    assert.deepEqual(sampleOf(5, 'd1', status), { tMs: 5, node: 'd1', state: 'master', holdsVip: true, quorate: true, peersDown: ['d2'], dc: 'd1' });
    assert.deepEqual(sampleOf(5, 'w1', { cluster: { view: { quorate: false }, peers: [] } }), { tMs: 5, node: 'w1', state: 'none', holdsVip: false, quorate: false, peersDown: [] });
    assert.deepEqual(sampleOf(5, 'd2', undefined), { tMs: 5, node: 'd2', state: 'down' });
    assert.deepEqual(sampleOf(5, 'd2', undefined, true), { tMs: 5, node: 'd2', state: 'down', vipOnHost: true }, 'a frozen director whose listener is still bound');
    const skewed = { cluster: { view: { quorate: true }, peers: [{ peer: 'd2', state: 'up', skew: 'critical' }, { peer: 'w1', state: 'up', skew: 'ok' }] } };
    assert.deepEqual(sampleOf(5, 'd1', skewed).skews, [{ peer: 'd2', level: 'critical' }]);
  });
});
