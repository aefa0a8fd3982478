// The kernel data plane: the engine's services as nftables rules (ruleset.ts), applied as
// one atomic `nft -f` batch on every change. The rules stand on every director, master or
// backup: only the VIP's holder receives the VIP's traffic, so a new master forwards from
// its first packet. The master's DR flows are read into the engine's table, which
// replication carries to the backups; at a takeover they go into the new master's flow
// maps before the VIP comes up. The engine stays the model (its schedulers, weights,
// persistence); the kernel carries the packets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Connection } from '../../conn/connection';
import type { Destination } from '../../destination';
import { parseIpAddr } from '../../address';
import { serviceTemplateKey, type AdoptedEntry, type IpvsEngine } from '../../engine';
import { serviceDisplayName, serviceKeyText, type VirtualService } from '../../service';
import { zeroPlaneCounters, type DataPlane, type PlaneCounters, type PlaneEvents } from '../plane';
import { conntrackEntries, conntrackRestoreLines, parseConntrackList, type ConntrackRun, type NatEntry } from './conntrack';
import { DestinationMarks } from './marks';
import { followsLoad } from './schedule-map';
import { counterKinds, counterName, flowStores, hex, persistenceMapName, renderRuleset, tableFamily, tableName, type CounterKind, type KernelMethod, type KernelService, type RenderedObjects, type TableFamily } from './ruleset';

/** Applies a batch: undefined when it applied, else nft's complaint. */
export type NftApply = (batch: string) => Promise<string | undefined>;

/** `nft list map|set FAMILY hadirector NAME` as nft prints it; undefined when it could not be read. */
export type NftListMap = (family: TableFamily, kind: 'map' | 'set', name: string) => Promise<string | undefined>;

/** `nft -j list counters table FAMILY hadirector`, parsed; undefined when it could not be read. */
export type NftListCounters = (family: TableFamily) => Promise<unknown>;

/** How a service goes through the kernel: its method and (DR) device, or why it cannot. */
export type KernelShape = { readonly method: KernelMethod; readonly device?: string } | { readonly refused: string };

export interface KernelPlaneOptions {
  readonly engine: IpvsEngine;
  readonly apply: NftApply;
  readonly events: PlaneEvents;
  /** jhash's seed: the same on every director of the cluster. */
  readonly hashSeed: number;
  readonly shapeOf: (svc: VirtualService) => KernelShape;
  readonly listMap?: NftListMap;
  /** Reads the real servers' counters, for `ipvsadm -L --stats` and the metrics. */
  readonly listCounters?: NftListCounters;
  /** conntrack-tools, for NAT's connections; without it they are not replicated. */
  readonly conntrack?: ConntrackRun;
}

/** A DR service's flow map or set (flowStores), or a service's persistence map, as the last render made it. */
interface SessionMap {
  readonly svc: VirtualService;
  readonly family: TableFamily;
  readonly kind: 'map' | 'set';
  readonly name: string;
  readonly timeoutS: number;
  /** A set of one real server's flows: that server's mark. */
  readonly mark?: number;
}

/**
 * A counting scheduler's map is drawn for the new connections expected before the next
 * poll: the most its service took in one poll of the last ten (a burst is likely to come
 * again), at least a few per server so every server the scheduler would pick has a share.
 */
function picksOf(svc: VirtualService, recent: readonly number[] | undefined): number | undefined {
  if (!followsLoad(svc)) return undefined;
  return Math.max(picksPerServerMin * svc.destinations.length, ...(recent ?? []));
}

const picksPerServerMin = 4;
/** How many polls' new connections picksOf looks back on. */
const recentPolls = 10;

/**
 * Entries read into the table between two turns of the event loop: a poll of a full table
 * must not hold up the heartbeats and adverts that share the loop.
 */
const entriesPerTurn = 500;

/** How often the director asks for a poll (its tick). */
const pollIntervalMs = 1000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Elements written in one batch when flows are restored: a takeover of a million flows goes in steps. */
const restoreBatchElements = 10_000;

const families = ['ip', 'ip6', 'netdev'] as const;

export class KernelPlane implements DataPlane {
  readonly kind = 'kernel';
  readonly counters: PlaneCounters = zeroPlaneCounters();
  private applied: RenderedObjects = new Set();
  private readonly marks = new DestinationMarks();
  private readonly names = new Map<string, string>();
  private nextName = 1;
  private reconciling: Promise<unknown> = Promise.resolve();
  private closed = false;
  private flowMaps: SessionMap[] = [];
  private persistenceMaps: SessionMap[] = [];
  private rendered: KernelService[] = [];
  private lastBatch = '';
  /** By service key: its new connections in each of the last polls, the newest last. */
  private readonly newConnections = new Map<string, number[]>();
  /** The marks of the NAT real servers the rules carry now. */
  private natMarks = new Set<number>();
  /** Each counter as last read, by `FAMILY NAME`: what the engine was given is the growth since. */
  private lastCounts = new Map<string, Count>();
  private polling = false;
  private pollsToSkip = 0;

  constructor(private readonly o: KernelPlaneOptions) {}

  /** Removes what a previous run left (its tables), so the first render starts from nothing. */
  async start(): Promise<string | undefined> {
    return this.o.apply(dropTables());
  }

  reconcile(): Promise<string[]> {
    const next = this.reconciling.then(() => this.reconcileNow());
    this.reconciling = next.catch(() => undefined);
    return next;
  }

  /** The rules stand on every director; only the VIP's holder receives its traffic. */
  setHeldAddresses(_holds: (address: string) => boolean): void {}

  /** The kernel expires its own connections. */
  expired(_conns: readonly Connection[]): void {}

  async close(_drainMs: number): Promise<void> {
    await this.reconciling;
    this.closed = true;
    const problem = await this.o.apply(dropTables());
    if (problem !== undefined) this.o.events.warn(`nftables: the ${tableName} tables could not be removed: ${problem}`, { code: 'HAD_KERNEL_PLANE' });
    this.applied = new Set();
  }

  private async reconcileNow(): Promise<string[]> {
    if (this.closed) return [];
    const problems: string[] = [];
    const services: KernelService[] = [];
    const seen = new Set<string>();
    for (const svc of this.o.engine.listServices()) {
      const shape = this.o.shapeOf(svc);
      if ('refused' in shape) {
        problems.push(`${serviceDisplayName(svc.key)}: ${shape.refused}`);
        continue;
      }
      const key = serviceKeyText(svc.key);
      seen.add(key);
      services.push({ svc, method: shape.method, name: this.nameOf(key), ...(shape.device !== undefined ? { device: shape.device } : {}) });
    }
    for (const key of this.names.keys()) if (!seen.has(key)) this.names.delete(key);
    const timeouts = this.o.engine.timeouts;
    const flowTimeoutS = { tcp: timeouts.tcpMs.ESTABLISHED / 1000, udp: timeouts.udpMs / 1000, sctp: timeouts.tcpMs.ESTABLISHED / 1000 };
    const picks = (svc: VirtualService): number | undefined => picksOf(svc, this.newConnections.get(serviceKeyText(svc.key)));
    const rendered = renderRuleset({ services, markOf: (d) => this.marks.of(d), hashSeed: this.o.hashSeed, flowTimeoutS, picksOf: picks }, this.applied);
    // A reconcile that changes nothing (a counting scheduler's map drawn alike) writes nothing.
    if (rendered.batch === this.lastBatch) return problems;
    const refused = await this.o.apply(rendered.batch);
    if (refused !== undefined) return [...problems, `nftables refused the rules (the previous ones stay): ${refused}`];
    const natMarks = new Set(services.flatMap((ks) => (ks.method === 'nat' ? ks.svc.destinations.map((d) => this.marks.of(d)) : [])));
    const gone = [...this.natMarks].filter((m) => !natMarks.has(m));
    this.applied = rendered.objects;
    this.lastBatch = rendered.batch;
    this.rendered = services;
    this.natMarks = natMarks;
    await this.expireGone(gone);
    this.flowMaps = services.flatMap((ks) => {
      if (ks.method !== 'dr') return [];
      const timeoutS = flowTimeoutS[ks.svc.key.kind === 'address' ? ks.svc.key.protocol : 'tcp'];
      return flowStores(ks, timeoutS, (d) => this.marks.of(d)).map((st): SessionMap => ({ svc: ks.svc, family: 'netdev', timeoutS, ...st }));
    });
    this.persistenceMaps = services.flatMap((ks) => {
      const name = persistenceMapName(ks);
      const timeoutS = ks.svc.settings.persistenceS;
      return name === undefined || timeoutS === undefined ? [] : [{ svc: ks.svc, family: tableFamily(ks), kind: 'map' as const, name, timeoutS }];
    });
    return problems;
  }

  /**
   * A NAT real server gone from its service takes its connections with it, as IPVS does
   * with expire_nodest_conn: their conntrack entries are deleted, so a client's next packet
   * is scheduled afresh (and a TCP client hears a reset) instead of going on to a server
   * that left. A DR flow of a server gone is scheduled afresh by its rules already.
   */
  private async expireGone(marks: readonly number[]): Promise<void> {
    const run = this.o.conntrack;
    if (run === undefined) return;
    for (const mark of marks) await run(['-D', '--mark', String(mark)]);
  }

  /**
   * Reads the kernel into the engine: its sessions into the table, where replication takes
   * them to the other directors and `ipvsadm -L -c` lists them (every DR flow map, NAT's
   * conntrack entries), and the real servers' counters into their stats. Run on the
   * director's tick; one read at a time. Resolves with how many sessions it saw.
   */
  async pollSessions(): Promise<number> {
    if (this.polling || this.closed) return 0;
    if (this.pollsToSkip > 0) {
      this.pollsToSkip--;
      return 0;
    }
    this.polling = true;
    const startedMs = performance.now();
    try {
      await this.pollCounters();
      // Each persistence map's clients become the engine's templates, so a backup taking over keeps each client on its server.
      const templates = (pm: SessionMap, client: MapElement, dest: Destination): AdoptedEntry => ({ ...templateOf(pm.svc), caddr: client.address, daddr: dest.address.text, dport: dest.port, remainingMs: client.expiresS * 1000 });
      const seen = (await this.readStores(this.flowMaps, flowEntry)) + (await this.readStores(this.persistenceMaps, templates)) + (await this.pollConntrack());
      // The counting schedulers' maps, drawn again over the counts just read.
      if (this.rendered.some((ks) => followsLoad(ks.svc))) await this.reconcile();
      return seen;
    } finally {
      this.polling = false;
      // A full table takes seconds to list: the next polls wait for twice that, so listing
      // takes at most a third of the time (and of nft's and conntrack's CPU).
      this.pollsToSkip = Math.floor((2 * (performance.now() - startedMs)) / pollIntervalMs);
    }
  }

  private async pollCounters(): Promise<void> {
    const list = this.o.listCounters;
    if (list === undefined) return;
    const now = new Map<string, Count>();
    for (const family of new Set(this.rendered.map(tableFamily))) {
      for (const [name, count] of namedCounters(await list(family))) now.set(`${family} ${name}`, count);
    }
    const grown = (family: TableFamily, kind: CounterKind, mark: number): Count => {
      const key = `${family} ${counterName(kind, mark)}`;
      const count = now.get(key);
      if (count === undefined) return noCount;
      const last = this.lastCounts.get(key);
      // Lower than last time: the counter was made anew (its server gone and back).
      return last === undefined || count.packets < last.packets ? count : { packets: count.packets - last.packets, bytes: count.bytes - last.bytes };
    };
    for (const ks of this.rendered) {
      const family = tableFamily(ks);
      let opened = 0;
      for (const dest of ks.svc.destinations) {
        const mark = this.marks.of(dest);
        const kinds = counterKinds(ks.method);
        const conns = grown(family, 'conns', mark);
        const into = grown(family, 'in', mark);
        const out = kinds.includes('out') ? grown(family, 'out', mark) : noCount;
        opened += conns.packets;
        if (conns.packets + into.packets + out.packets === 0) continue;
        this.o.engine.countKernel(ks.svc, dest, { conns: conns.packets, inPkts: into.packets, inBytes: into.bytes, outPkts: out.packets, outBytes: out.bytes });
      }
      const key = serviceKeyText(ks.svc.key);
      this.newConnections.set(key, [...(this.newConnections.get(key) ?? []), opened].slice(-recentPolls));
    }
    for (const key of this.newConnections.keys()) if (!this.names.has(key)) this.newConnections.delete(key);
    this.lastCounts = now;
  }

  /**
   * Reads each flow store or persistence map into the engine's table: an entry per element
   * whose mark is a live real server's (`entryOf` says which), a few hundred at a turn of
   * the event loop. Resolves with how many.
   */
  private async readStores(stores: readonly SessionMap[], entryOf: (store: SessionMap, element: MapElement, dest: Destination) => AdoptedEntry | undefined): Promise<number> {
    const list = this.o.listMap;
    if (list === undefined) return 0;
    let seen = 0;
    for (const store of stores) {
      let read = 0;
      for (const element of mapElements((await list(store.family, store.kind, store.name)) ?? '', store.mark)) {
        if (++read % entriesPerTurn === 0) await nextTurn();
        const dest = this.marks.destinationOf(element.mark);
        const entry = dest === undefined ? undefined : entryOf(store, element, dest);
        if (entry === undefined) continue;
        this.o.engine.noteKernelEntry(entry);
        seen++;
      }
    }
    return seen;
  }

  private async pollConntrack(): Promise<number> {
    const run = this.o.conntrack;
    if (run === undefined || !this.rendered.some((ks) => ks.method === 'nat')) return 0;
    const listed = await run(['-L']);
    if (listed.code !== 0) return 0;
    let seen = 0;
    let read = 0;
    for (const e of conntrackEntries(listed.stdout)) {
      if (++read % entriesPerTurn === 0) await nextTurn();
      if (this.natDestinationOf(e) === undefined) continue;
      this.o.engine.noteKernelEntry({ ...e, template: false, remainingMs: e.remainingS * 1000 });
      seen++;
    }
    return seen;
  }

  /** The real server of a NAT service a conntrack entry goes to, when it is one of the plane's. */
  private natDestinationOf(e: { protocol: string; vaddr: string; vport: number; daddr: string; dport: number }): Destination | undefined {
    const daddr = parseIpAddr(e.daddr);
    if (daddr === undefined) return undefined;
    for (const { svc, method } of this.rendered) {
      const key = svc.key;
      if (method !== 'nat') continue;
      if (key.kind !== 'address' || key.protocol !== e.protocol || key.address.text !== e.vaddr || (key.port !== e.vport && key.port !== 0)) continue;
      const dest = svc.findDestination(daddr, e.dport);
      if (dest !== undefined) return dest;
    }
    return undefined;
  }

  /**
   * Before this director takes the VIPs over: the sessions the old master replicated go
   * into the kernel, each to its real server with the time it had left (DR flows into
   * the flow maps, NAT connections into conntrack), so the first packet of an
   * established connection finds its server. Resolves with what went wrong.
   */
  async restoreSessions(entries: Iterable<AdoptedEntry>): Promise<string[]> {
    await this.reconciling;
    const nat: NatEntry[] = [];
    const byService = new Map<string, SessionMap[]>();
    for (const fm of this.flowMaps) byService.set(serviceKeyText(fm.svc.key), [...(byService.get(serviceKeyText(fm.svc.key)) ?? []), fm]);
    const elements = new Map<SessionMap, string[]>();
    const add = (map: SessionMap, element: string): void => {
      const list = elements.get(map) ?? [];
      list.push(element);
      elements.set(map, list);
    };
    const templates = new Map(this.persistenceMaps.map((pm) => [templateText(templateOf(pm.svc)), pm]));
    for (const e of entries) {
      if (e.template) {
        const pm = templates.get(templateText(e));
        const daddr = parseIpAddr(e.daddr);
        const dest = pm === undefined || daddr === undefined ? undefined : pm.svc.findDestination(daddr, e.dport) ?? pm.svc.destinations.find((d) => d.address.text === e.daddr);
        if (pm !== undefined && dest !== undefined) add(pm, `${e.caddr} timeout ${pm.timeoutS}s expires ${expiresS(e.remainingMs, pm.timeoutS)}s : ${hex(this.marks.of(dest))}`);
        continue;
      }
      const natDest = e.protocol === 'tcp' || e.protocol === 'udp' ? this.natDestinationOf(e) : undefined;
      if (natDest !== undefined && (e.protocol === 'tcp' || e.protocol === 'udp')) {
        nat.push({ ...e, protocol: e.protocol, family: e.caddr.includes(':') ? 6 : 4, remainingS: e.remainingMs / 1000, mark: this.marks.of(natDest) });
        continue;
      }
      const vaddr = parseIpAddr(e.vaddr);
      const stores = vaddr === undefined || e.protocol === 'ip' ? undefined : byService.get(serviceKeyText({ kind: 'address', protocol: e.protocol, address: vaddr, port: e.vport }));
      const daddr = parseIpAddr(e.daddr);
      const dest = stores === undefined || daddr === undefined ? undefined : stores[0]?.svc.findDestination(daddr, e.dport);
      if (stores === undefined || dest === undefined) continue;
      const mark = this.marks.of(dest);
      const fm = stores.find((st) => st.kind === 'map' || st.mark === mark);
      if (fm === undefined) continue;
      const flow = `${e.caddr} . ${e.cport} timeout ${fm.timeoutS}s expires ${expiresS(e.remainingMs, fm.timeoutS)}s`;
      add(fm, fm.kind === 'map' ? `${flow} : ${hex(mark)}` : flow);
    }
    const problems: string[] = [];
    for (const [map, list] of elements) {
      for (let i = 0; i < list.length; i += restoreBatchElements) {
        const refused = await this.o.apply(`add element ${map.family} ${tableName} ${map.name} { ${list.slice(i, i + restoreBatchElements).join(', ')} }\n`);
        const what = this.flowMaps.includes(map) ? 'flows' : 'persistent clients';
        if (refused !== undefined) problems.push(`nftables refused the replicated ${what} of ${serviceDisplayName(map.svc.key)}: ${refused}`);
      }
    }
    const run = this.o.conntrack;
    if (nat.length > 0 && run !== undefined) {
      const present = await run(['-L']);
      const lines = conntrackRestoreLines(nat, present.code === 0 ? parseConntrackList(present.stdout) : []);
      const written = await withBatchFile(lines, (file) => run(['-R', file]));
      if (written.code !== 0) problems.push(`conntrack refused the replicated NAT connections: ${written.stderr.trim().split('\n').at(-1) ?? `exit ${written.code}`}`);
    } else if (nat.length > 0) {
      problems.push(`${nat.length} replicated NAT connections not written: conntrack (conntrack-tools) is not installed`);
    }
    return problems;
  }

  /** A short name for a service, kept while it lives so its maps (persistence, flows) survive a reconcile. */
  private nameOf(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = `v${this.nextName++}`;
      this.names.set(key, name);
    }
    return name;
  }
}

/** Runs `use` with `text` in a file of its own, removed after. */
async function withBatchFile<T>(text: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'hadirector-conntrack-'));
  try {
    const file = path.join(dir, 'batch');
    await fs.promises.writeFile(file, text, { mode: 0o600 });
    return await use(file);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** The seconds an element written back gets: what the entry had left, within 1 and the map's timeout. */
function expiresS(remainingMs: number, timeoutS: number): number {
  return Math.max(1, Math.min(timeoutS, Math.ceil(remainingMs / 1000)));
}

/** A DR flow as the engine's entry: the client's tuple, the server its mark names, the time it has left. */
function flowEntry(fm: SessionMap, flow: MapElement, dest: Destination): AdoptedEntry | undefined {
  const key = fm.svc.key;
  if (key.kind !== 'address' || flow.port === undefined) return undefined;
  const udp = key.protocol === 'udp';
  return {
    protocol: udp ? 'udp' : 'tcp',
    caddr: flow.address,
    cport: flow.port,
    vaddr: key.address.text,
    vport: key.port,
    daddr: dest.address.text,
    dport: dest.port,
    state: udp ? 'UDP' : 'ESTABLISHED',
    template: false,
    remainingMs: flow.expiresS * 1000,
  };
}

/** A service's persistence template in the engine's table, but for its client, server and time. */
function templateOf(svc: VirtualService): Pick<AdoptedEntry, 'protocol' | 'cport' | 'vaddr' | 'vport' | 'state' | 'template'> {
  return { ...serviceTemplateKey(svc), cport: 0, state: 'NONE', template: true };
}

const templateText = (t: Pick<AdoptedEntry, 'protocol' | 'vaddr' | 'vport'>): string => `${t.protocol} ${t.vaddr} ${t.vport}`;

/** One element of a flow or persistence map or set as `nft list` prints it. */
export interface MapElement {
  readonly address: string;
  /** A flow's client port; a persistence entry has none. */
  readonly port?: number;
  readonly mark: number;
  readonly expiresS: number;
}

/**
 * The elements of `nft list map|set` of a flow store (`ADDRESS . PORT [timeout T] [expires
 * E] [: MARK]`) or a persistence map (`ADDRESS [...] : MARK`), one by one. A set's
 * elements are all `setMark`'s. nft's text rather than its JSON: a million flows are
 * read a few at a time, where JSON.parse would hold the event loop for seconds.
 */
export function* mapElements(text: string, setMark?: number): Generator<MapElement> {
  const opened = text.indexOf('elements = {');
  if (opened === -1) return;
  const closed = text.indexOf('}', opened);
  const body = text.slice(opened + 'elements = {'.length, closed === -1 ? text.length : closed);
  const element = /([^,]+)/g;
  for (let m = element.exec(body); m !== null; m = element.exec(body)) {
    const [key, data] = (m[1] as string).split(' : ');
    const words = (key ?? '').trim().split(/\s+/);
    const mark = data !== undefined ? Number(data.trim()) : setMark;
    const address = words[0];
    if (address === undefined || address === '' || mark === undefined || !Number.isInteger(mark)) continue;
    const port = words[1] === '.' ? Number(words[2]) : undefined;
    if (port !== undefined && !Number.isInteger(port)) continue;
    const expires = words.indexOf('expires');
    const expiresS = expires === -1 ? 0 : durationS(words[expires + 1] ?? '');
    yield port !== undefined ? { address, port, mark, expiresS } : { address, mark, expiresS };
  }
}

/** nft's duration (`1d2h3m4s5ms`, any part left out) in whole seconds. */
function durationS(text: string): number {
  const unitS: Record<string, number> = { d: 86_400, h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|d|h|m|s)/g)) total += Number(n) * (unitS[unit as string] ?? 0);
  return Math.round(total);
}

interface Count {
  readonly packets: number;
  readonly bytes: number;
}

const noCount: Count = { packets: 0, bytes: 0 };

/** The named counters in `nft -j list counters`, by name. */
export function namedCounters(json: unknown): Map<string, Count> {
  const out = new Map<string, Count>();
  for (const item of (json as { nftables?: unknown[] } | undefined)?.nftables ?? []) {
    const c = (item as { counter?: { name?: unknown; packets?: unknown; bytes?: unknown } }).counter;
    if (c === undefined || typeof c.name !== 'string' || typeof c.packets !== 'number' || typeof c.bytes !== 'number') continue;
    out.set(c.name, { packets: c.packets, bytes: c.bytes });
  }
  return out;
}

/** Deletes the plane's tables, whether they exist or not (an `add` first makes the `delete` safe). */
function dropTables(): string {
  return families.map((f) => `add table ${f} ${tableName}\ndelete table ${f} ${tableName}\n`).join('');
}
