// The kernel plane's rules: the engine's services rendered as one nftables batch, applied
// atomically with `nft -f`. LVS-NAT lives in an `ip` / `ip6` table: a prerouting nat chain
// sends each service's new connections to its chain, which picks a real server into the
// connection's ct mark (a persistence map first, then the schedule map) and DNATs to that
// server; conntrack keeps every later packet on it. LVS-DR lives in a `netdev` table: an
// ingress chain on the VIP's device picks a real server per flow into the packet mark,
// remembers the flow in a map with a timeout (so a TCP stream keeps its server when the
// set changes), and `fwd`s the packet unchanged to the server's MAC; replies go from the
// real server straight to the client. No conntrack on the director for DR.
//
// Each real server has named counters (`conns_M`, `in_M`, `out_M` for its mark M), which
// a reconcile leaves alone, so `ipvsadm -L --stats` reads the kernel's totals: NAT counts
// a connection at its DNAT and its packets both ways in a forward chain; DR counts a flow
// when it is scheduled and its packets at the `fwd` (its replies never pass).
//
// A render knows what the previous one created, so it flushes what stays, deletes what
// went, and never touches the dynamic maps (persistence, DR flows) or the counters of what
// stays: a reconcile keeps every client where it was, and every count.
import { prefixMask } from '../../address';
import type { Destination } from '../../destination';
import type { VirtualService } from '../../service';
import { scheduleMap, type ScheduleMap } from './schedule-map';

export const tableName = 'hadirector';
/** How many clients a persistence map, and flows a DR flow map, hold at most (nft's default is 65535). */
export const persistenceEntriesMax = 65_536;
export const flowEntriesMax = 1_048_576;

/** How a service's real servers are reached through the kernel plane. */
export type KernelMethod = 'nat' | 'dr';

export interface KernelService {
  readonly svc: VirtualService;
  readonly method: KernelMethod;
  /** A short name unique in the table and stable while the service lives: `s1`, `s2`. */
  readonly name: string;
  /** DR: the device the VIP's traffic comes in on, and the real servers are reached through. */
  readonly device?: string;
}

export interface RulesetInput {
  readonly services: readonly KernelService[];
  /** The mark that stands for a destination: unique in the table, stable while it lives, never 0. */
  readonly markOf: (dest: Destination) => number;
  /** jhash's seed, shared by the cluster, so every director hashes a flow alike. */
  readonly hashSeed: number;
  /** How long a DR flow is remembered after its last packet (IPVS's tcp and udp timeouts). */
  readonly flowTimeoutS: { readonly tcp: number; readonly udp: number; readonly sctp: number };
  /** For a counting scheduler (lc, wlc…): how many new connections its map is drawn for over the counts now; absent: by weight. */
  readonly picksOf?: (svc: VirtualService) => number | undefined;
}

/** The objects a render leaves in the kernel, `FAMILY KIND NAME`, for the next render to reconcile against. */
export type RenderedObjects = ReadonlySet<string>;

export interface Rendered {
  readonly batch: string;
  readonly objects: RenderedObjects;
}

/** The plane's tables, one per nftables family. */
export type TableFamily = 'ip' | 'ip6' | 'netdev';
type Family = TableFamily;

interface Chain {
  readonly family: Family;
  readonly name: string;
  /** The hook line for a base chain. */
  readonly hook?: string;
  readonly rules: string[];
}

interface KernelMap {
  readonly family: Family;
  readonly name: string;
  readonly kind: 'map' | 'set' | 'counter';
  readonly declaration: string;
  /** Static maps are refilled on every render; dynamic ones keep what the packet path wrote. */
  readonly elements?: readonly string[];
}

export function renderRuleset(input: RulesetInput, previous: RenderedObjects = new Set()): Rendered {
  const chains: Chain[] = [];
  const maps: KernelMap[] = [];
  const dispatch = new Map<string, Chain>();
  const dispatchChain = (family: Family, device?: string): Chain => {
    const name = family === 'netdev' ? `in_${device ?? ''}` : 'prerouting';
    const key = `${family} ${name}`;
    let chain = dispatch.get(key);
    if (chain === undefined) {
      const hook =
        family === 'netdev'
          ? `type filter hook ingress device ${quote(device ?? '')} priority 0; policy accept;`
          : 'type nat hook prerouting priority dstnat; policy accept;';
      chain = { family, name, hook, rules: [] };
      dispatch.set(key, chain);
      chains.push(chain);
    }
    return chain;
  };
  /** Per table, the marks whose packets its counter maps count. */
  const counted = new Map<Family, number[]>();
  for (const ks of input.services) {
    const l3 = tableFamily(ks);
    const own = chainName(ks);
    dispatchChain(l3, ks.device).rules.push(`${matchOf(ks)} goto ${own}`);
    const rendered = ks.method === 'nat' ? natService(ks, own, l3, input) : drService(ks, own, input);
    chains.push(...rendered.chains);
    maps.push(...rendered.maps);
    const marks = ks.svc.destinations.map((d) => input.markOf(d));
    counted.set(l3, [...(counted.get(l3) ?? []), ...marks]);
    for (const mark of marks) for (const kind of counterKinds(ks.method)) maps.push({ family: l3, name: counterName(kind, mark), kind: 'counter', declaration: '' });
  }
  for (const [family, marks] of counted) {
    const objects = (kind: CounterKind): string[] => marks.map((m) => `${hex(m)} : "${counterName(kind, m)}"`);
    if (family === 'netdev') {
      maps.push({ family, name: 'conns', kind: 'map', declaration: '{ type mark : counter; }', elements: objects('conns') });
      continue;
    }
    // NAT's packets, both ways, by the connection's mark: the director forwards them all.
    maps.push({ family, name: 'in', kind: 'map', declaration: '{ type mark : counter; }', elements: objects('in') });
    maps.push({ family, name: 'out', kind: 'map', declaration: '{ type mark : counter; }', elements: objects('out') });
    chains.push({
      family,
      name: 'forward',
      hook: 'type filter hook forward priority filter; policy accept;',
      rules: ['ct direction original counter name ct mark map @in', 'ct direction reply counter name ct mark map @out'],
    });
  }
  return assemble(chains, maps, previous);
}

export type CounterKind = 'conns' | 'in' | 'out';

/** The counters a real server has: DR's replies never pass the director. */
export function counterKinds(method: KernelMethod): readonly CounterKind[] {
  return method === 'nat' ? ['conns', 'in', 'out'] : ['conns', 'in'];
}

/** The named counter of a real server's mark. */
export function counterName(kind: CounterKind, mark: number): string {
  return `${kind}_${mark}`;
}

/** The table a service's rules go in: DR's in netdev, NAT's in its address family's. */
export function tableFamily(ks: KernelService): TableFamily {
  return ks.method === 'dr' ? 'netdev' : familyOf(ks) === 6 ? 'ip6' : 'ip';
}

function familyOf(ks: KernelService): 4 | 6 {
  const key = ks.svc.key;
  return key.kind === 'fwmark' ? key.family : key.address.family;
}

/** What selects a service's packets in the dispatch chain. */
function matchOf(ks: KernelService): string {
  const key = ks.svc.key;
  if (key.kind === 'fwmark') return `meta mark ${hex(key.mark)}`;
  const ip = key.address.family === 6 ? 'ip6' : 'ip';
  const l4 = key.port === 0 ? `meta l4proto ${key.protocol}` : `${key.protocol} dport ${key.port}`;
  return `${ip} daddr ${key.address.text} ${l4}`;
}

interface ServiceObjects {
  readonly chains: Chain[];
  readonly maps: KernelMap[];
}

/** The persistence key of the client: its address under the service's netmask. */
function persistenceKey(svc: VirtualService, ip: 'ip' | 'ip6'): string {
  const family = ip === 'ip6' ? 6 : 4;
  const mask = svc.settings.netmask ?? prefixMask(family, family === 6 ? 128 : 32);
  const full = prefixMask(family, family === 6 ? 128 : 32);
  return mask.text === full.text ? `${ip} saddr` : `${ip} saddr & ${mask.text}`;
}

/** The schedule as a `numgen`/`jhash` map expression yielding a mark, or undefined when no one can take a connection. */
function scheduleExpression(map: ScheduleMap | undefined, ks: KernelService, ip: 'ip' | 'ip6', input: RulesetInput): string | undefined {
  if (map === undefined) return undefined;
  const elements = map.slots.map((s) => `${s.from === s.to ? s.from : `${s.from}-${s.to}`} : ${hex(input.markOf(s.dest))}`).join(', ');
  const lookup = `map { ${elements} }`;
  switch (map.draw.kind) {
    case 'sequence':
      return `numgen inc mod ${map.modulus} ${lookup}`;
    case 'random':
      return `numgen random mod ${map.modulus} ${lookup}`;
    case 'hash': {
      const key = hashKey(map.draw.input, ks, ip);
      return `jhash ${key} mod ${map.modulus} seed ${hex(input.hashSeed)} ${lookup}`;
    }
  }
}

function hashKey(input: 'source' | 'source-port' | 'destination', ks: KernelService, ip: 'ip' | 'ip6'): string {
  if (input === 'destination') return `${ip} daddr`;
  if (input === 'source') return `${ip} saddr`;
  const key = ks.svc.key;
  const protocol = key.kind === 'address' ? key.protocol : 'tcp';
  return `${ip} saddr . ${protocol} sport`;
}

function natService(ks: KernelService, own: string, family: Family, input: RulesetInput): ServiceObjects {
  const ip = family === 'ip6' ? 'ip6' : 'ip';
  const svc = ks.svc;
  const key = svc.key;
  const dests = svc.destinations;
  const live = `${own}_live`;
  const maps: KernelMap[] = [{ family, name: live, kind: 'set', declaration: '{ type mark; }', elements: dests.map((d) => hex(input.markOf(d))) }];
  const rules: string[] = [];
  const persistence = svc.settings.persistenceS;
  const persistMap = persistenceMapName(ks);
  const client = persistenceKey(svc, ip);
  if (persistMap !== undefined) {
    maps.push({ family, name: persistMap, kind: 'map', declaration: `{ type ${ip === 'ip6' ? 'ipv6_addr' : 'ipv4_addr'} : mark; size ${persistenceEntriesMax}; flags dynamic,timeout; timeout ${persistence}s; }` });
    rules.push(`ct mark set ${client} map @${persistMap}`);
  }
  // A mark no destination has any more (its server gone, or another rule's mark) is scheduled afresh.
  rules.push(`ct mark != @${live} ct mark set 0`);
  const schedule = scheduleExpression(scheduleMap(svc, input.picksOf?.(svc)), ks, ip, input);
  if (schedule !== undefined) rules.push(`ct mark 0 ct mark set ${schedule}`);
  if (persistMap !== undefined) rules.push(`ct mark != 0 update @${persistMap} { ${client} : ct mark }`);
  const l4 = key.kind === 'address' ? `meta l4proto ${key.protocol} ` : 'meta l4proto { tcp, udp, sctp } ';
  for (const d of dests) {
    const port = d.port !== 0 ? (ip === 'ip6' ? `[${d.address.text}]:${d.port}` : `${d.address.text}:${d.port}`) : d.address.text;
    const mark = input.markOf(d);
    rules.push(`ct mark ${hex(mark)} ${d.port !== 0 ? l4 : ''}counter name "${counterName('conns', mark)}" dnat ${ip} to ${port}`);
  }
  // No destination available: dropped, as IPVS drops it.
  rules.push('counter drop');
  return { chains: [{ family, name: own, rules }], maps };
}

/** A service's persistence map (when it has persistence): its timeout is in the name, so a new timeout makes a new map. */
export function persistenceMapName(ks: KernelService): string | undefined {
  const persistence = ks.svc.settings.persistenceS;
  return persistence === undefined ? undefined : `${chainName(ks)}_p${persistence}`;
}

/** A service's own chain, and the prefix of its sets and maps. */
function chainName(ks: KernelService): string {
  return `${ks.method === 'dr' ? 'd' : 's'}_${ks.name}`;
}

/**
 * Where a DR service remembers its flows: one map from the flow to its server's mark, or,
 * for IPv6, one set of flows per real server. nft 1.0.6 (Debian 12's) cannot write a map
 * keyed by an IPv6 address and a port: it refuses the rule or, with the port first, stores
 * the address shifted. Sets keyed so are written right, at the cost of one lookup per
 * real server. The timeout is in the name, so a new timeout makes new ones.
 */
export interface FlowStore {
  readonly name: string;
  readonly kind: 'map' | 'set';
  /** A set's server. */
  readonly mark?: number;
}

export function flowStores(ks: KernelService, timeoutS: number, markOf: (dest: Destination) => number): FlowStore[] {
  const base = `d_${ks.name}_f${timeoutS}`;
  if (familyOf(ks) === 4) return [{ name: base, kind: 'map' }];
  return ks.svc.destinations.map((d) => {
    const mark = markOf(d);
    return { name: `${base}_${mark}`, kind: 'set', mark };
  });
}

function drService(ks: KernelService, own: string, input: RulesetInput): ServiceObjects {
  const svc = ks.svc;
  const key = svc.key;
  const ip = familyOf(ks) === 6 ? 'ip6' : 'ip';
  const protocol = key.kind === 'address' ? key.protocol : 'tcp';
  const device = ks.device ?? '';
  const dests = svc.destinations;
  const live = `${own}_live`;
  const forward = `${own}_fwd`;
  const timeout = input.flowTimeoutS[protocol];
  const stores = flowStores(ks, timeout, input.markOf);
  const flow = `${ip} saddr . ${protocol} sport`;
  const address = ip === 'ip6' ? 'ipv6_addr' : 'ipv4_addr';
  const dynamic = `size ${flowEntriesMax}; flags dynamic,timeout; timeout ${timeout}s;`;
  const maps: KernelMap[] = [
    { family: 'netdev', name: live, kind: 'set', declaration: '{ type mark; }', elements: dests.map((d) => hex(input.markOf(d))) },
    ...stores.map((st): KernelMap => ({ family: 'netdev', name: st.name, kind: st.kind, declaration: `{ type ${address} . inet_service${st.kind === 'map' ? ' : mark' : ''}; ${dynamic} }` })),
  ];
  const persistence = svc.settings.persistenceS;
  const client = persistenceKey(svc, ip);
  const persistMap = persistenceMapName(ks);
  const lookup = stores.map((st) => (st.kind === 'map' ? `meta mark set ${flow} map @${st.name}` : `${flow} @${st.name} meta mark set ${hex(st.mark ?? 0)}`));
  // Every packet refreshes its flow (and its client's persistence): a stream keeps its server while it lasts.
  const persistRefresh = persistMap !== undefined ? ` update @${persistMap} { ${client} : meta mark }` : '';
  const remember = (then: string): string[] =>
    stores.map((st) => (st.kind === 'map' ? `meta mark != 0 update @${st.name} { ${flow} : meta mark }${persistRefresh} ${then}` : `meta mark ${hex(st.mark ?? 0)} update @${st.name} { ${flow} }${persistRefresh} ${then}`));
  const rules: string[] = [...lookup, `meta mark != @${live} meta mark set 0`, ...remember(`goto ${forward}`)];
  // A new flow (or one whose server went): its client's persistent server, else the schedule's.
  if (persistMap !== undefined) {
    maps.push({ family: 'netdev', name: persistMap, kind: 'map', declaration: `{ type ${address} : mark; size ${persistenceEntriesMax}; flags dynamic,timeout; timeout ${persistence}s; }` });
    rules.push(`meta mark set ${client} map @${persistMap}`, `meta mark != @${live} meta mark set 0`);
  }
  const schedule = scheduleExpression(scheduleMap(svc, input.picksOf?.(svc)), ks, ip, input);
  if (schedule !== undefined) rules.push(`meta mark 0 meta mark set ${schedule}`);
  rules.push(...remember(`counter name meta mark map @conns goto ${forward}`));
  rules.push('counter drop');
  const forwarding = dests.map((d) => {
    const mark = input.markOf(d);
    return `meta mark ${hex(mark)} counter name "${counterName('in', mark)}" fwd ${ip} to ${d.address.text} device ${quote(device)}`;
  });
  return {
    chains: [
      { family: 'netdev', name: own, rules },
      { family: 'netdev', name: forward, rules: [...forwarding, 'counter drop'] },
    ],
    maps,
  };
}

/**
 * The batch: flush what stays, delete what went (rules first, then what they referred to:
 * chains, maps and sets, and last the counters the maps name), create what is new, fill
 * the rules and static maps. Counters that stay are never touched, so they keep counting.
 */
function assemble(chains: readonly Chain[], maps: readonly KernelMap[], previous: RenderedObjects): Rendered {
  const objects = new Set<string>();
  const tables = new Set<Family>([...chains.map((c) => c.family), ...maps.map((m) => m.family)]);
  for (const c of chains) objects.add(`${c.family} chain ${c.name}`);
  for (const m of maps) objects.add(`${m.family} ${m.kind} ${m.name}`);
  const lines: string[] = [];
  for (const t of tables) lines.push(`add table ${t} ${tableName}`);
  const before = [...previous].map((p) => {
    const [family, kind, name] = p.split(' ') as [Family, string, string];
    return { id: p, family, kind, name, stays: objects.has(p) };
  });
  for (const p of before) if (p.kind === 'chain') lines.push(`flush chain ${p.family} ${tableName} ${p.name}`);
  const refilled = new Set(maps.filter((m) => m.elements !== undefined).map((m) => `${m.family} ${m.kind} ${m.name}`));
  for (const p of before) if (p.stays && refilled.has(p.id)) lines.push(`flush ${p.kind} ${p.family} ${tableName} ${p.name}`);
  for (const kinds of [['chain'], ['map', 'set'], ['counter']]) {
    for (const p of before) if (!p.stays && kinds.includes(p.kind)) lines.push(`delete ${p.kind} ${p.family} ${tableName} ${p.name}`);
  }
  for (const m of [...maps].sort((a, b) => Number(b.kind === 'counter') - Number(a.kind === 'counter'))) {
    lines.push(`add ${m.kind} ${m.family} ${tableName} ${m.name}${m.declaration !== '' ? ` ${m.declaration}` : ''}`);
    if (m.elements !== undefined && m.elements.length > 0) lines.push(`add element ${m.family} ${tableName} ${m.name} { ${m.elements.join(', ')} }`);
  }
  for (const c of chains) lines.push(c.hook !== undefined ? `add chain ${c.family} ${tableName} ${c.name} { ${c.hook} }` : `add chain ${c.family} ${tableName} ${c.name}`);
  for (const c of chains) for (const r of c.rules) lines.push(`add rule ${c.family} ${tableName} ${c.name} ${r}`);
  // A table left with nothing in it goes too.
  for (const p of before) {
    if (!tables.has(p.family) && !lines.includes(`delete table ${p.family} ${tableName}`)) lines.push(`delete table ${p.family} ${tableName}`);
  }
  return { batch: `${lines.join('\n')}\n`, objects };
}

/** A mark or a number as nft writes it: 0x and eight hex digits. */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function quote(device: string): string {
  return `"${device.replace(/[^A-Za-z0-9_.:@-]/g, '')}"`;
}
