// The timeline picture of a drill, from its report alone: a lane per director for its
// VRRP state (MASTER holds the VIP; a director that does not answer while the kernel
// says it still serves the VIP is `down, VIP up`), a lane counting the VIP's holders, a
// lane per node for its quorum (and whether it is the DC), a clock-skew lane when a node
// alerted, a connection-sync lane, in namespaces a lane for whose MAC the client's
// neighbour entry holds, a client lane of answered and failed requests in 10 ms buckets,
// a lane of the persistent clients (on their server, failed, moved) in 100 ms buckets,
// and a rule for the fault, the heal and every fence. A vega-lite spec, rendered to SVG by vega and to
// PNG by resvg. The plot's geometry is fixed (no autosize), so that a time and a lane
// land on a pixel that timelineGeometry() says.
import type { DirectorSample, DrillReport, SessionSample } from './report';
import { homesBefore, sessionHome } from './sessions';
import { holderCounts } from './verdict';

export interface Segment {
  readonly lane: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly value: string;
}

export interface TimelineGeometry {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly lanes: readonly string[];
  readonly durationMs: number;
}

/** Each value's colour: one scale for every lane. */
export const timelineColours: Readonly<Record<string, string>> = {
  MASTER: '#2e7d32',
  BACKUP: '#1565c0',
  INIT: '#9e9e9e',
  FAULT: '#c62828',
  down: '#000000',
  'down, VIP up': '#8d6e63',
  'one holder': '#a5d6a7',
  'no holder': '#fff176',
  'two holders': '#880e4f',
  'clocks in step': '#e3f2fd',
  'sync in step': '#b3e5fc',
  'sync behind 500 ms+': '#0277bd',
  kept: '#81c784',
  moved: '#7b1fa2',
  'skew warn': '#ffb74d',
  'skew critical': '#d84315',
  'quorate, DC': '#6a1b9a',
  quorate: '#ce93d8',
  'no quorum': '#ff8f00',
  answered: '#66bb6a',
  failed: '#e53935',
};

export const eventColours: Readonly<Record<string, string>> = { fault: '#d50000', heal: '#00c853', fence: '#ff6d00' };

const clientBucketMs = 10;
const laneStep = 28;
const plotWidth = 960;
const padding = { left: 130, top: 64, right: 150, bottom: 50 } as const;
const laneInner = 0.25;

export const clientLane = 'client';
export const holdersLane = 'VIP holders';
export const neighbourLane = 'client ARP';
export const skewLane = 'clock skew';
export const syncLane = 'sync lag';
export const sessionsLane = 'sessions';
export const connectionsLane = 'connections';
export const flowsLane = 'UDP flows';

/** The neighbour lane's colours: one per director, in name order. */
const neighbourPalette = ['#00838f', '#f9a825', '#5e35b1', '#6d4c41'];

const nodesOf = (report: DrillReport): string[] => [...new Set(report.directors.map((s) => s.node))].sort();
const directorsOf = (report: DrillReport): string[] => nodesOf(report).filter((n) => report.directors.some((s) => s.node === n && s.state !== 'none' && s.state !== 'down'));

const noNeighbour = 'no entry';

/** The neighbour lane's value for an entry holding a director's MAC. */
export const neighbourValue = (node: string): string => `MAC of ${node}`;

/** Each value's colour, the neighbour lane's included. */
export function coloursOf(report: DrillReport): Record<string, string> {
  const colours: Record<string, string> = { ...timelineColours };
  if (report.neighbours === undefined) return colours;
  directorsOf(report).forEach((n, i) => (colours[neighbourValue(n)] = neighbourPalette[i % neighbourPalette.length] as string));
  colours[noNeighbour] = '#e0e0e0';
  return colours;
}

function lanesOf(report: DrillReport): string[] {
  const directors = directorsOf(report).map((n) => `${n} VRRP`);
  const neighbour = report.neighbours !== undefined ? [neighbourLane] : [];
  const skew = report.directors.some((s) => s.skews !== undefined) ? [skewLane] : [];
  const sync = report.directors.some((s) => s.syncLagMs !== undefined) ? [syncLane] : [];
  const sessions = [...(report.sessions !== undefined ? [sessionsLane] : []), ...(report.connections !== undefined ? [connectionsLane] : []), ...(report.flows !== undefined ? [flowsLane] : [])];
  return [...directors, holdersLane, ...nodesOf(report).map((n) => `${n} quorum`), ...skew, ...sync, ...neighbour, clientLane, ...sessions];
}

function vrrpValue(s: DirectorSample): string {
  if (s.state === 'down' || s.state === 'none') return s.vipOnHost === true ? 'down, VIP up' : 'down';
  return s.state.toUpperCase();
}

/** Consecutive samples of one value joined; each lasts until the next sample of its node. */
export function timelineSegments(report: DrillReport): Segment[] {
  const lanes = new Set(lanesOf(report));
  const out: Segment[] = [];
  const lastOf = new Map<string, number>();
  const push = (lane: string, startMs: number, endMs: number, value: string): void => {
    const i = lastOf.get(lane);
    const last = i === undefined ? undefined : out[i];
    if (i !== undefined && last !== undefined && last.value === value && last.endMs >= startMs) out[i] = { ...last, endMs };
    else lastOf.set(lane, out.push({ lane, startMs, endMs, value }) - 1);
  };
  const byNode = new Map<string, typeof report.directors>();
  for (const s of report.directors) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
  for (const [node, samples] of byNode) {
    samples.forEach((s, i) => {
      const end = samples[i + 1]?.tMs ?? report.durationMs;
      if (lanes.has(`${node} VRRP`)) push(`${node} VRRP`, s.tMs, end, vrrpValue(s));
      push(`${node} quorum`, s.tMs, end, s.state === 'down' ? 'down' : s.quorate === true ? (s.dc === node ? 'quorate, DC' : 'quorate') : 'no quorum');
    });
  }
  // The skew and sync lanes say the worst of every node's latest sample.
  const latest = new Map<string, DirectorSample>();
  report.directors.forEach((s, i) => {
    latest.set(s.node, s);
    const end = report.directors[i + 1]?.tMs ?? report.durationMs;
    const now = [...latest.values()];
    if (lanes.has(skewLane)) {
      const levels = now.flatMap((x) => (x.skews ?? []).map((k) => k.level));
      push(skewLane, s.tMs, end, levels.includes('critical') ? 'skew critical' : levels.includes('warn') ? 'skew warn' : 'clocks in step');
    }
    if (lanes.has(syncLane)) push(syncLane, s.tMs, end, now.some((x) => (x.syncLagMs ?? 0) > syncBehindMs) ? 'sync behind 500 ms+' : 'sync in step');
  });
  for (const c of holderCounts(report.directors)) push(holdersLane, c.startMs, c.endMs, c.count === 0 ? 'no holder' : c.count === 1 ? 'one holder' : 'two holders');
  (report.neighbours ?? []).forEach((n, i, all) => push(neighbourLane, n.tMs, all[i + 1]?.tMs ?? report.durationMs, n.node !== undefined ? neighbourValue(n.node) : noNeighbour));
  for (const seg of bucketed(report.clients, clientBucketMs, report.durationMs, (c) => (c.ok ? 'answered' : 'failed'), clientRank)) push(clientLane, seg.startMs, seg.endMs, seg.value);
  const faultMs = report.events.find((e) => e.kind === 'fault')?.tMs ?? report.durationMs;
  for (const [lane, samples] of [[sessionsLane, report.sessions], [connectionsLane, report.connections], [flowsLane, report.flows]] as const) {
    if (samples !== undefined) for (const seg of sessionSegments(samples, faultMs, report.durationMs)) push(lane, seg.startMs, seg.endMs, seg.value);
  }
  return out;
}

/** Acknowledgements come in rhythm (the lab's every 250 ms): a change waiting less than this is that rhythm, not a lag. */
const syncBehindMs = 500;
const sessionBucketMs = 100;
const clientRank: Readonly<Record<string, number>> = { answered: 0, failed: 1 };
const sessionRank: Readonly<Record<string, number>> = { kept: 0, failed: 1, moved: 2 };

/**
 * Samples in buckets of `bucketMs`, each bucket the worst value (by `rank`) of its
 * samples; a bucket lasts until the next one with samples (a request every 20 ms leaves
 * every other 10 ms bucket empty), the last one at most to the end of the drill.
 */
function bucketed<T extends { readonly tMs: number }>(samples: readonly T[], bucketMs: number, durationMs: number, valueOf: (s: T) => string, rank: Readonly<Record<string, number>>): Array<{ startMs: number; endMs: number; value: string }> {
  const buckets = new Map<number, string>();
  for (const s of samples) {
    const value = valueOf(s);
    const b = Math.floor(s.tMs / bucketMs) * bucketMs;
    const was = buckets.get(b);
    if (was === undefined || (rank[value] ?? 0) > (rank[was] ?? 0)) buckets.set(b, value);
  }
  const starts = [...buckets.keys()].sort((a, b) => a - b);
  return starts.map((b, i) => ({ startMs: b, endMs: Math.min(starts[i + 1] ?? b + bucketMs, durationMs), value: buckets.get(b) as string }));
}

/** Sessions in 100 ms buckets: all answered as before the fault (by their server, on their connection), some failed, or some moved. */
function sessionSegments(samples: readonly SessionSample[], faultMs: number, durationMs: number): Array<{ startMs: number; endMs: number; value: string }> {
  const home = homesBefore(samples, faultMs);
  // A client first answered after the fault is at home where it was first answered.
  for (const s of samples) {
    const where = sessionHome(s);
    if (where !== undefined && !home.has(s.client)) home.set(s.client, where);
  }
  return bucketed(samples, sessionBucketMs, durationMs, (s) => (!s.ok ? 'failed' : sessionHome(s) === home.get(s.client) ? 'kept' : 'moved'), sessionRank);
}

export function timelineGeometry(report: DrillReport): TimelineGeometry {
  const lanes = lanesOf(report);
  return { left: padding.left, top: padding.top, width: plotWidth, height: lanes.length * laneStep, lanes, durationMs: report.durationMs };
}

/** Where a time and a lane's middle land in the picture, in pixels. */
export function pixelOf(g: TimelineGeometry, tMs: number, lane: string): { x: number; y: number } {
  const i = g.lanes.indexOf(lane);
  const step = g.height / (g.lanes.length - laneInner);
  return { x: g.left + (tMs / g.durationMs) * g.width, y: g.top + i * step + (step * (1 - laneInner)) / 2 };
}

export function timelineSpec(report: DrillReport): Record<string, unknown> {
  const g = timelineGeometry(report);
  const colours = coloursOf(report);
  const segments = timelineSegments(report);
  // The legend names only what the picture shows.
  const shown = new Set(segments.map((x) => x.value));
  const values = Object.keys(colours).filter((v) => shown.has(v));
  const x = { field: 'startMs', type: 'quantitative', title: 'ms since the drill began', scale: { domain: [0, report.durationMs], nice: false, zero: true } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `drill ${report.scenario}, ${report.startedAt}`, anchor: 'start', offset: 26 },
    width: g.width,
    height: g.height,
    autosize: { type: 'none' },
    padding: { ...padding },
    background: 'white',
    layer: [
      {
        data: { values: segments },
        mark: { type: 'rect' },
        encoding: {
          x,
          x2: { field: 'endMs' },
          y: { field: 'lane', type: 'nominal', sort: g.lanes, title: null, scale: { domain: g.lanes, paddingInner: laneInner, paddingOuter: 0 } },
          color: { field: 'value', type: 'nominal', title: null, scale: { domain: values, range: values.map((v) => colours[v]) } },
        },
      },
      {
        data: { values: report.events.map((e) => ({ ...e, label: `${e.kind}${e.node !== undefined ? ` ${e.node}` : ''}` })) },
        layer: [
          { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'tMs', type: 'quantitative', scale: { domain: [0, report.durationMs], nice: false } }, color: { value: eventColours.fault }, strokeDash: { value: [4, 2] } }, transform: [{ filter: "datum.kind === 'fault'" }] },
          { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'tMs', type: 'quantitative' }, color: { value: eventColours.heal } }, transform: [{ filter: "datum.kind === 'heal'" }] },
          { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'tMs', type: 'quantitative' }, color: { value: eventColours.fence } }, transform: [{ filter: "datum.kind === 'fence'" }] },
          { mark: { type: 'text', angle: 0, dy: -6, baseline: 'bottom', fontSize: 10 }, encoding: { x: { field: 'tMs', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } } },
        ],
      },
    ],
  };
}

/** The little of vega-lite and vega this uses (their own typings need the DOM's). */
interface VegaLite {
  compile(spec: object): { spec: object };
}
interface Vega {
  parse(spec: object): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
}

/** Both are ES modules, loaded when a picture is drawn. */
const esModule = (name: string): Promise<unknown> => import(name);

/** The picture as SVG and as PNG. */
export async function renderTimeline(report: DrillReport): Promise<{ svg: string; png: Buffer }> {
  const vegaLite = (await esModule('vega-lite')) as VegaLite;
  const vega = (await esModule('vega')) as Vega;
  const { Resvg } = await import('@resvg/resvg-js');
  const compiled = vegaLite.compile(timelineSpec(report)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  return { svg, png: Buffer.from(png) };
}
