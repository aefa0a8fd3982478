// A copy of a peer's connection table: entries by key, each with when it expires on this
// node's own clock (now + the remaining time it arrived with), bounded in size. On a
// takeover its live entries, with what time they have left, are what the new master
// loads before its addresses come up.
//
// A copy holds as many entries as the peer's table, so an entry is kept small, as the
// engine keeps its own: entries are grouped by virtual service (protocol, address,
// port), and within a group found by a number for an IPv4 client (address × 65536 +
// port) rather than by a string; the expiry is a whole millisecond.
import type { Clock } from '../common/clock';
import { ipv4Text, ipv4WordOf } from '../ipvs/address';
import type { SyncChange, SyncEntry, SyncKey, SyncProtocol } from './entry';

class Copied {
  constructor(
    readonly daddr: string,
    readonly dport: number,
    readonly state: string,
    readonly template: boolean,
    readonly expiresAtMs: number,
  ) {}
}

interface Group {
  readonly id: string;
  /** A template was ever copied into it: the groups of services without persistence are skipped when templates are looked for. */
  templates: boolean;
  readonly protocol: SyncProtocol;
  readonly vaddr: string;
  readonly vport: number;
  readonly clients: Map<number | string, Copied>;
}

/** Entries looked at per sweep: a copy of millions is swept a slice at a time. */
export const sweepSliceEntries = 20_000;

function clientKey(caddr: string, cport: number): number | string {
  const word = ipv4WordOf(caddr);
  return word === undefined ? `${caddr}|${cport}` : word * 65536 + cport;
}

function clientOf(key: number | string): { caddr: string; cport: number } {
  if (typeof key === 'string') {
    const bar = key.lastIndexOf('|');
    return { caddr: key.slice(0, bar), cport: Number(key.slice(bar + 1)) };
  }
  return { caddr: ipv4Text(Math.floor(key / 65536)), cport: key % 65536 };
}

export class ShadowTable {
  private readonly groups = new Map<string, Group>();
  private count = 0;
  private lastGroup: Group | undefined;
  private sweeping: Generator<readonly [Group, number | string, Copied]> | undefined;
  /** Entries refused at the bound. */
  refused = 0;

  constructor(
    private readonly clock: Clock,
    readonly entriesMax: number,
  ) {}

  get size(): number {
    return this.count;
  }

  apply(change: SyncChange): void {
    if (change.kind === 'expire') {
      const group = this.groupOf(change.key, false);
      if (group?.clients.delete(clientKey(change.key.caddr, change.key.cport)) === true) this.count--;
      return;
    }
    const e = change.entry;
    const group = this.groupOf(e, true) as Group;
    const key = clientKey(e.caddr, e.cport);
    const copied = new Copied(e.daddr, e.dport, e.state, e.template, Math.ceil(this.clock.nowMs() + e.remainingMs));
    if (e.template) group.templates = true;
    const before = group.clients.size;
    group.clients.set(key, copied);
    if (group.clients.size === before) return;
    if (this.count >= this.entriesMax) {
      group.clients.delete(key);
      this.refused++;
    } else {
      this.count++;
    }
  }

  /** Takes the entries of `other` (a snapshot's staging copy) in place of its own. */
  replaceWith(other: ShadowTable): void {
    this.groups.clear();
    for (const [id, group] of other.groups) this.groups.set(id, group);
    this.count = other.count;
    this.refused += other.refused;
    this.lastGroup = undefined;
    this.sweeping = undefined;
    other.groups.clear();
    other.lastGroup = undefined;
    other.count = 0;
  }

  /** Drops what has expired by now among the next slice of entries; returns how many. */
  sweep(sliceEntries = sweepSliceEntries): number {
    const now = this.clock.nowMs();
    let dropped = 0;
    this.sweeping ??= this.all();
    for (let n = 0; n < sliceEntries; n++) {
      const next = this.sweeping.next();
      if (next.done === true) {
        this.sweeping = undefined;
        break;
      }
      const [group, key, copied] = next.value;
      if (copied.expiresAtMs <= now) {
        group.clients.delete(key);
        this.count--;
        dropped++;
      }
    }
    return dropped;
  }

  /** The live entries with the time they have left now. */
  live(): SyncEntry[] {
    return [...this.liveEntries()];
  }

  /**
   * The same, one at a time as they are asked for (a takeover loads millions a slice at
   * a time); only templates, or only connections, when `templates` says which.
   */
  *liveEntries(templates?: boolean): Generator<SyncEntry> {
    for (const [group, key, c] of this.all(templates === true)) {
      if (templates !== undefined && c.template !== templates) continue;
      const now = this.clock.nowMs();
      if (c.expiresAtMs > now) yield entryOf(group, key, c, c.expiresAtMs - now);
    }
  }

  get(k: SyncKey): SyncEntry | undefined {
    const group = this.groupOf(k, false);
    const key = clientKey(k.caddr, k.cport);
    const c = group?.clients.get(key);
    const now = this.clock.nowMs();
    return group === undefined || c === undefined || c.expiresAtMs <= now ? undefined : entryOf(group, key, c, c.expiresAtMs - now);
  }

  private groupOf(k: SyncKey, create: boolean): Group | undefined {
    // Most entries of a batch belong to the group of the one before.
    const last = this.lastGroup;
    if (last !== undefined && last.vport === k.vport && last.vaddr === k.vaddr && last.protocol === k.protocol) return last;
    const id = `${k.protocol}|${k.vaddr}|${k.vport}`;
    let group = this.groups.get(id);
    if (group === undefined && create) {
      group = { id, templates: false, protocol: k.protocol, vaddr: k.vaddr, vport: k.vport, clients: new Map() };
      this.groups.set(id, group);
    }
    if (group !== undefined) this.lastGroup = group;
    return group;
  }

  private *all(withTemplates = false): Generator<readonly [Group, number | string, Copied]> {
    for (const group of this.groups.values()) {
      if (withTemplates && !group.templates) continue;
      for (const [key, c] of group.clients) yield [group, key, c];
    }
  }
}

function entryOf(group: Group, key: number | string, c: Copied, remainingMs: number): SyncEntry {
  const { caddr, cport } = clientOf(key);
  return { protocol: group.protocol, caddr, cport, vaddr: group.vaddr, vport: group.vport, daddr: c.daddr, dport: c.dport, state: c.state, template: c.template, remainingMs };
}
