// Sync messages in the cluster envelope (the Sync message of src/heartbeat/cluster.proto):
// to the protobuf object shape and back. What comes off the network is checked field by
// field against its bounds; a message with anything out of them is no message at all.
import net from 'node:net';
import { isCount, nameMaxChars, wireCount } from '../heartbeat/wire-values';
import { ipv4WordOf } from '../ipvs/address';
import { tcpStates } from '../ipvs/conn/protocol-states';
import type { SyncChange, SyncEntry, SyncKey, SyncProtocol } from './entry';
import type { SyncMessage } from './messages';
import type { SyncRequest } from './receiver';

/** Changes in a batch, entries in a page, pages asked for at once: bounds on what is accepted. */
export const syncChangesMax = 1024;
export const syncPagesAskedMax = 64;
const pagesMax = 1 << 24;
const windowBatchesMax = 65_535;

export interface SyncBody {
  /** The director it is for; empty when it is for every one. */
  readonly to: string;
  readonly message: SyncMessage;
}

const protocols: readonly SyncProtocol[] = ['tcp', 'udp', 'sctp', 'ip'];
const requestKinds: ReadonlyArray<SyncRequest['kind']> = ['resend', 'snapshot', 'pages'];
/** Each state's name as one string, whatever datagram it came in. */
const states = new Map<string, string>([...tcpStates, 'UDP'].map((s) => [s, s]));

/**
 * Virtual and real-server addresses repeat in every entry: a copy of a million entries
 * keeps one string for each, not a million. Bounded: past the bound it starts over.
 */
const interned = new Map<string, string>();
const internedMax = 4096;

function intern(text: string): string {
  const seen = interned.get(text);
  if (seen !== undefined) return seen;
  if (interned.size >= internedMax) interned.clear();
  interned.set(text, text);
  return text;
}

function keyToWire(k: SyncKey) {
  return { protocol: protocols.indexOf(k.protocol), caddr: k.caddr, cport: k.cport, vaddr: k.vaddr, vport: k.vport };
}

function entryToWire(e: SyncEntry) {
  return { key: keyToWire(e), daddr: e.daddr, dport: e.dport, state: e.state, template: e.template, remainingMs: Math.max(0, Math.min(0xffffffff, Math.round(e.remainingMs))) };
}

function changeToWire(c: SyncChange) {
  return c.kind === 'upsert' ? { upsert: entryToWire(c.entry) } : { expire: keyToWire(c.key) };
}

/** The envelope's `sync` field for a message. */
export function syncToWire(body: SyncBody): Record<string, unknown> {
  const m = body.message;
  const head = { to: body.to, epoch: m.epoch };
  switch (m.kind) {
    case 'batch':
      return { ...head, batch: { seq: m.seq, changes: m.changes.map(changeToWire) } };
    case 'page':
      return { ...head, page: { atSeq: m.page.atSeq, index: m.page.index, pages: m.page.pages, entries: m.page.entries.map(entryToWire), servedSeq: m.page.servedSeq } };
    case 'ack':
      return { ...head, ack: { copyEpoch: m.copyEpoch, appliedSeq: m.appliedSeq, windowBatches: m.windowBatches } };
    case 'request': {
      const r = m.request;
      const kind = requestKinds.indexOf(r.kind);
      if (r.kind === 'resend') return { ...head, request: { kind, copyEpoch: m.copyEpoch, afterSeq: r.afterSeq } };
      if (r.kind === 'pages') return { ...head, request: { kind, copyEpoch: m.copyEpoch, atSeq: r.atSeq, pages: r.pages } };
      return { ...head, request: { kind, copyEpoch: m.copyEpoch } };
    }
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const isPort = (v: unknown): v is number => isCount(v) && v <= 65535;
const isAddress = (v: unknown): v is string => typeof v === 'string' && v.length <= 45 && (ipv4WordOf(v) !== undefined || net.isIPv6(v));

function keyFromWire(v: unknown): SyncKey | undefined {
  if (!isObj(v)) return undefined;
  const protocol = typeof v['protocol'] === 'number' ? protocols[v['protocol']] : undefined;
  const { caddr, cport, vaddr, vport } = v;
  if (protocol === undefined || !isAddress(caddr) || !isPort(cport) || !isPort(vport)) return undefined;
  const fwmark = typeof vaddr === 'string' && /^fwmark:\d{1,10}$/.test(vaddr);
  if (!(protocol === 'ip' ? fwmark : isAddress(vaddr))) return undefined;
  return { protocol, caddr, cport, vaddr: intern(vaddr as string), vport };
}

function entryFromWire(v: unknown): SyncEntry | undefined {
  if (!isObj(v)) return undefined;
  const key = keyFromWire(v['key']);
  const daddr = v['daddr'];
  const dport = v['dport'];
  const state = typeof v['state'] === 'string' ? states.get(v['state']) : undefined;
  const template = v['template'];
  const remainingMs = v['remainingMs'];
  if (key === undefined || !isAddress(daddr) || !isPort(dport) || state === undefined || typeof template !== 'boolean' || !isCount(remainingMs)) {
    return undefined;
  }
  // Spelt out rather than spread: a page holds a thousand of these.
  return { protocol: key.protocol, caddr: key.caddr, cport: key.cport, vaddr: key.vaddr, vport: key.vport, daddr: intern(daddr), dport, state, template, remainingMs };
}

function changeFromWire(v: unknown): SyncChange | undefined {
  if (!isObj(v)) return undefined;
  if (isObj(v['upsert'])) {
    const entry = entryFromWire(v['upsert']);
    return entry === undefined ? undefined : { kind: 'upsert', entry };
  }
  const key = keyFromWire(v['expire']);
  return key === undefined ? undefined : { kind: 'expire', key };
}

/** Every element converted, or undefined when one is bad or there are too many. */
function all<T>(v: unknown, max: number, convert: (x: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(v) || v.length > max) return undefined;
  const out: T[] = [];
  for (const x of v) {
    const c = convert(x);
    if (c === undefined) return undefined;
    out.push(c);
  }
  return out;
}

function requestFromWire(r: Obj): { copyEpoch: number; request: SyncRequest } | undefined {
  const kind = typeof r['kind'] === 'number' ? requestKinds[r['kind']] : undefined;
  const copyEpoch = wireCount(r['copyEpoch']);
  if (kind === undefined || copyEpoch === undefined) return undefined;
  if (kind === 'snapshot') return { copyEpoch, request: { kind } };
  if (kind === 'resend') {
    const afterSeq = wireCount(r['afterSeq']);
    return afterSeq === undefined ? undefined : { copyEpoch, request: { kind, afterSeq } };
  }
  const pages = all(r['pages'], syncPagesAskedMax, (x) => (isCount(x) && x < pagesMax ? x : undefined));
  const atSeq = wireCount(r['atSeq']);
  return pages === undefined || atSeq === undefined ? undefined : { copyEpoch, request: { kind, atSeq, pages } };
}

/**
 * The envelope's `sync` field as a message, or undefined when it is out of bounds. It is
 * read as protobufjs decoded it (absent fields read as their defaults, 64-bit ones as
 * Longs) or as a plain object.
 */
export function syncFromWire(v: unknown): SyncBody | undefined {
  if (!isObj(v)) return undefined;
  const { to, batch, page, ack, request } = v;
  const epoch = wireCount(v['epoch']);
  if (typeof to !== 'string' || to.length > nameMaxChars || epoch === undefined) return undefined;
  if (isObj(batch)) {
    const changes = all(batch['changes'], syncChangesMax, changeFromWire);
    const seq = wireCount(batch['seq']);
    if (changes === undefined || seq === undefined) return undefined;
    return { to, message: { kind: 'batch', epoch, seq, changes } };
  }
  if (isObj(page)) {
    const entries = all(page['entries'], syncChangesMax, entryFromWire);
    const { index, pages } = page;
    const [atSeq, servedSeq] = [wireCount(page['atSeq']), wireCount(page['servedSeq'] ?? 0)];
    if (entries === undefined || atSeq === undefined || servedSeq === undefined || !isCount(index) || !isCount(pages) || pages > pagesMax || index >= pages) return undefined;
    return { to, message: { kind: 'page', epoch, page: { atSeq, index, pages, entries, servedSeq } } };
  }
  if (isObj(ack)) {
    const [copyEpoch, appliedSeq] = [wireCount(ack['copyEpoch']), wireCount(ack['appliedSeq'])];
    const windowBatches = ack['windowBatches'] ?? 0;
    if (copyEpoch === undefined || appliedSeq === undefined || !isCount(windowBatches) || windowBatches > windowBatchesMax) return undefined;
    return { to, message: { kind: 'ack', epoch, copyEpoch, appliedSeq, windowBatches } };
  }
  if (isObj(request)) {
    const r = requestFromWire(request);
    return r === undefined ? undefined : { to, message: { kind: 'request', epoch, ...r } };
  }
  return undefined;
}
