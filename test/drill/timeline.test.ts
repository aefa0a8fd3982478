// The timeline picture of a drill, rendered to PNG and read back pixel by pixel: each
// lane shows what report.json says at each time (a master's green, a killed director's
// black, the client's red while no one holds the VIP, the VIP's holders counted, the MAC
// the client's neighbour entry holds), and the fault and fence rules stand where the
// report puts them. A frozen director whose VIP is still up is a holder: with another
// master, two.
import assert from 'node:assert/strict';
import type { DirectorSample, DrillReport } from '../../src/drill/report';
import { coloursOf, eventColours, neighbourValue, pixelOf, renderTimeline, timelineColours, timelineGeometry, timelineSegments, type TimelineGeometry } from '../../src/drill/timeline';
import { drillFigures } from '../../src/drill/verdict';
import { decodePng, type Picture } from '../support/png';

function span(node: string, fromMs: number, toMs: number, s: Omit<DirectorSample, 'tMs' | 'node'>): DirectorSample[] {
  const out: DirectorSample[] = [];
  for (let t = fromMs; t < toMs; t += 50) out.push({ tMs: t, node, ...s });
  return out;
}

const report: DrillReport = {
  scenario: 'master-kill',
  startedAt: '2026-12-07T00:00:00.000Z',
  durationMs: 10_000,
  masterDownIntervalMs: 3609,
  directors: [
    ...span('d1', 0, 2000, { state: 'master', holdsVip: true, quorate: true, dc: 'd1' }),
    ...span('d1', 2000, 10_000, { state: 'down' }),
    ...span('d2', 0, 5600, { state: 'backup', holdsVip: false, quorate: true, dc: 'd1' }),
    ...span('d2', 5600, 10_000, { state: 'master', holdsVip: true, quorate: true, dc: 'd2' }),
    ...span('w1', 0, 10_000, { state: 'none', holdsVip: false, quorate: true }),
  ].sort((a, b) => a.tMs - b.tMs),
  clients: Array.from({ length: 500 }, (_, i) => ({ tMs: i * 20, ok: i * 20 < 2000 || i * 20 >= 5620, ...(i * 20 < 2000 || i * 20 >= 5620 ? { server: 'rs1' } : { error: 'ECONNREFUSED' }) })),
  neighbours: Array.from({ length: 200 }, (_, i) => ({ tMs: i * 50, node: i * 50 < 5650 ? 'd1' : 'd2' })),
  events: [
    { tMs: 2000, kind: 'fault', node: 'd1', detail: 'kill -9 d1' },
    { tMs: 4500, kind: 'fence', node: 'd1', detail: 'off d1' },
    { tMs: 8000, kind: 'heal', node: 'd1', detail: 'started again' },
  ],
};

/** master-freeze with no fencing: d1 frozen with its VIP up, d2 takes over at 5600, d1 resumes and lets go at 8000. */
const frozen: DrillReport = {
  ...report,
  scenario: 'master-freeze',
  neighbours: undefined,
  directors: [
    ...span('d1', 0, 2000, { state: 'master', holdsVip: true, vipOnHost: true, quorate: true, dc: 'd1' }),
    ...span('d1', 2000, 8000, { state: 'down', vipOnHost: true }),
    ...span('d1', 8000, 10_000, { state: 'backup', holdsVip: false, vipOnHost: false, quorate: true, dc: 'd2' }),
    ...span('d2', 0, 5600, { state: 'backup', holdsVip: false, quorate: true, dc: 'd1' }),
    ...span('d2', 5600, 10_000, { state: 'master', holdsVip: true, quorate: true, dc: 'd2' }),
    ...span('w1', 0, 10_000, { state: 'none', holdsVip: false, quorate: true }),
  ].sort((a, b) => a.tMs - b.tMs),
};

const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
const near = (p: readonly number[], hex: string): boolean => rgb(hex).every((c, i) => Math.abs(c - (p[i] as number)) <= 40);

/** Whether some pixel within `dx` of x (on row y) has the colour. */
function seen(pic: Picture, x: number, y: number, hex: string, dx = 2): boolean {
  for (let i = -dx; i <= dx; i++) if (near(pic.pixel(x + i, y), hex)) return true;
  return false;
}

/** Each lane at each time has its colour, at the pixel pixelOf() names. */
function assertColours(pic: Picture, g: TimelineGeometry, checks: ReadonlyArray<readonly [number, string, string | undefined]>): void {
  for (const [tMs, lane, colour] of checks) {
    const { x, y } = pixelOf(g, tMs, lane);
    assert.ok(colour !== undefined && near(pic.pixel(x, y), colour), `${lane} at ${tMs} ms (${Math.round(x)}, ${Math.round(y)}): ${pic.pixel(x, y).join(',')}, not ${colour}`);
  }
}

describe('drill timeline picture', function () {
  this.timeout(30_000);

  it('joins samples into segments per lane; a witness has a quorum lane and no VRRP lane', () => {
    const g = timelineGeometry(report);
    assert.deepEqual(g.lanes, ['d1 VRRP', 'd2 VRRP', 'VIP holders', 'd1 quorum', 'd2 quorum', 'w1 quorum', 'client ARP', 'client']);
    const d1 = timelineSegments(report).filter((s) => s.lane === 'd1 VRRP');
    assert.deepEqual(d1, [
      { lane: 'd1 VRRP', startMs: 0, endMs: 2000, value: 'MASTER' },
      { lane: 'd1 VRRP', startMs: 2000, endMs: 10_000, value: 'down' },
    ]);
    assert.deepEqual(timelineSegments(report).filter((s) => s.lane === 'client').map((s) => `${s.startMs}-${s.endMs} ${s.value}`), ['0-2000 answered', '2000-5620 failed', '5620-9990 answered']);
    assert.deepEqual(timelineSegments(report).filter((s) => s.lane === 'VIP holders').map((s) => `${s.startMs}-${s.endMs} ${s.value}`), ['0-1950 one holder', '1950-5600 no holder', '5600-9950 one holder']);
    assert.deepEqual(timelineSegments(report).filter((s) => s.lane === 'client ARP').map((s) => `${s.startMs}-${s.endMs} ${s.value}`), ['0-5650 MAC of d1', '5650-10000 MAC of d2']);
  });

  it('counts a frozen director whose VIP is still up as a holder: two holders from the takeover to its release, as the verdict counts them', () => {
    assert.deepEqual(timelineSegments(frozen).filter((s) => s.lane === 'd1 VRRP').map((s) => `${s.startMs}-${s.endMs} ${s.value}`), ['0-2000 MASTER', '2000-8000 down, VIP up', '8000-10000 BACKUP']);
    assert.deepEqual(timelineSegments(frozen).filter((s) => s.lane === 'VIP holders').map((s) => `${s.startMs}-${s.endMs} ${s.value}`), ['0-5600 one holder', '5600-7950 two holders', '7950-9950 one holder']);
    assert.equal(drillFigures(frozen).doubleHolderMs, 2350);
    assert.equal(timelineGeometry(frozen).lanes.includes('client ARP'), false, 'no neighbour lane outside namespaces');
  });

  it('renders to PNG with each lane and marker where the report puts it', async () => {
    const { svg, png } = await renderTimeline(report);
    assert.match(svg, /^<svg/);
    const pic = decodePng(png);
    const g = timelineGeometry(report);
    assert.ok(pic.width >= g.left + g.width && pic.height >= g.top + g.height, `${pic.width}x${pic.height}`);
    const at = (tMs: number, lane: string) => pixelOf(g, tMs, lane);
    assertColours(pic, g, [
      [1000, 'd1 VRRP', timelineColours.MASTER],
      [3000, 'd1 VRRP', timelineColours.down],
      [1000, 'd2 VRRP', timelineColours.BACKUP],
      [7000, 'd2 VRRP', timelineColours.MASTER],
      [1000, 'd1 quorum', timelineColours['quorate, DC']],
      [7000, 'd2 quorum', timelineColours['quorate, DC']],
      [1000, 'w1 quorum', timelineColours.quorate],
      [1000, 'client', timelineColours.answered],
      [3500, 'client', timelineColours.failed],
      [7000, 'client', timelineColours.answered],
      [1000, 'VIP holders', timelineColours['one holder']],
      [3000, 'VIP holders', timelineColours['no holder']],
      [1000, 'client ARP', coloursOf(report)[neighbourValue('d1')]],
      [7000, 'client ARP', coloursOf(report)[neighbourValue('d2')]],
    ]);
    for (const e of report.events) {
      // A solid rule shows on every lane; the fault's is dashed, so it shows on some rows of a lane.
      const lane = e.kind === 'fault' ? 'd2 VRRP' : 'client';
      const { x, y } = at(e.tMs, lane);
      const rows = Array.from({ length: 9 }, (_, i) => y - 4 + i);
      assert.ok(rows.some((row) => seen(pic, x, row, eventColours[e.kind] as string)), `the ${e.kind} rule at ${e.tMs} ms (x ${Math.round(x)})`);
      assert.ok(!seen(pic, at(e.tMs + 400, lane).x, y, eventColours[e.kind] as string), `no ${e.kind} rule 400 ms later`);
    }
  });

  it('draws the persistent clients (on their server, failed, moved) and the sync lag past the acknowledgement rhythm', async () => {
    const withSessions: DrillReport = {
      ...report,
      neighbours: undefined,
      directors: report.directors.map((s) => (s.node === 'd2' ? { ...s, syncLagMs: s.tMs >= 6000 && s.tMs < 8000 ? 1500 : 100 } : s)),
      sessions: Array.from({ length: 100 }, (_, k) => {
        const tMs = k * 100;
        if (tMs >= 2000 && tMs < 5600) return { tMs, client: '127.0.1.1', ok: false, error: 'ECONNREFUSED' };
        return { tMs, client: '127.0.1.1', ok: true, server: tMs < 7000 ? 'rs1' : 'rs2' };
      }),
    };
    const g = timelineGeometry(withSessions);
    assert.deepEqual(g.lanes, ['d1 VRRP', 'd2 VRRP', 'VIP holders', 'd1 quorum', 'd2 quorum', 'w1 quorum', 'sync lag', 'client', 'sessions']);
    assert.deepEqual(timelineSegments(withSessions).filter((s) => s.lane === 'sessions').map((s) => `${s.startMs}-${s.endMs} ${s.value}`), ['0-2000 kept', '2000-5600 failed', '5600-7000 kept', '7000-10000 moved']);
    assert.deepEqual(timelineSegments(withSessions).filter((s) => s.lane === 'sync lag').map((s) => `${s.startMs}-${s.endMs} ${s.value}`), ['0-6000 sync in step', '6000-8000 sync behind 500 ms+', '8000-10000 sync in step']);
    assertColours(decodePng((await renderTimeline(withSessions)).png), g, [
      [1000, 'sessions', timelineColours.kept],
      [3000, 'sessions', timelineColours.failed],
      [9000, 'sessions', timelineColours.moved],
      [7000, 'sync lag', timelineColours['sync behind 500 ms+']],
      [3000, 'sync lag', timelineColours['sync in step']],
    ]);
  });

  it('draws the double holder a frozen director makes', async () => {
    assertColours(decodePng((await renderTimeline(frozen)).png), timelineGeometry(frozen), [
      [4000, 'd1 VRRP', timelineColours['down, VIP up']],
      [7000, 'VIP holders', timelineColours['two holders']],
      [9000, 'VIP holders', timelineColours['one holder']],
    ]);
  });
});
