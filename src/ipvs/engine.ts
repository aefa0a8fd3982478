// The IPVS engine: virtual services, their destinations and the connection table, on an
// injected clock. It decides as the kernel's ip_vs_schedule and ip_vs_sched_persist do
// which real server a new connection goes to (persistence templates first), moves
// entries through their protocol states on each packet, and expires them on time.
// Data planes feed it packets; ipvsadm commands edit it; nothing here touches the network.
import type { Clock } from '../common/clock';
import type { Rng } from '../common/rng';
import { maskAddr, parseIpAddr, type IpAddr } from './address';
import { Connection, type ConnProtocol } from './conn/connection';
import {
  defaultTimeouts,
  newConnectionTimeoutMs,
  nextTcpState,
  setTimeouts,
  type Direction,
  type ProtocolTimeouts,
  type TcpFlags,
  type TcpState,
} from './conn/protocol-states';
import { ConnTable } from './conn/table';
import { estimate, estimatorIntervalMs } from './estimator';
import type { Destination, DestinationSettings } from './destination';
import { serviceKeyText, VirtualService, type ServiceKey, type ServiceProtocol, type ServiceSettings } from './service';
import { DestinationTrash } from './trash';

const ftpPort = 21;
/** libipvs's IPVS_SVC_PERSISTENT_TIMEOUT, what `ipvsadm -p` gives (its man page says 300). */
export const persistenceDefaultS = 360;

export interface NewConnection {
  readonly protocol: ServiceProtocol;
  readonly caddr: IpAddr;
  readonly cport: number;
  readonly vaddr: IpAddr;
  readonly vport: number;
  /** The firewall mark of the packet, for fwmark services. */
  readonly fwmark?: number;
}

export type ConnectResult =
  | { readonly ok: true; readonly conn: Connection; readonly created: boolean }
  | { readonly ok: false; readonly reason: 'no-service' | 'no-destination' | 'table-full' };

export interface EngineOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  /** sysctl expire_quiescent_template: a template on a weight-0 server is dropped at lookup. */
  readonly expireQuiescentTemplate?: boolean;
  readonly connEntriesMax?: number;
}

/**
 * A connection entry or template as another director had it (replication carries these:
 * src/sync/entry.ts): its key, where it goes, its state, and how long it has left.
 */
export interface AdoptedEntry {
  readonly protocol: ConnProtocol;
  readonly caddr: string;
  readonly cport: number;
  /** An address, or `fwmark:N` for a firewall-mark template. */
  readonly vaddr: string;
  readonly vport: number;
  readonly daddr: string;
  readonly dport: number;
  /** The IPVS state's name (ESTABLISHED, FIN_WAIT, UDP, NONE for a template…). */
  readonly state: string;
  readonly template: boolean;
  readonly remainingMs: number;
}

/** How a service's persistence templates are keyed in the table, but for the client: an FTP or port-zero service's by port 0, a fwmark service's by its mark. */
export function serviceTemplateKey(svc: VirtualService): { readonly protocol: ConnProtocol; readonly vaddr: string; readonly vport: number } {
  const key = svc.key;
  if (key.kind === 'fwmark') return { protocol: 'ip', vaddr: `fwmark:${key.mark}`, vport: 0 };
  return { protocol: key.protocol, vaddr: key.address.text, vport: key.port === ftpPort ? 0 : key.port };
}

/** Counts as the kernel plane reads them from its nftables counters. */
export interface KernelCounts {
  readonly conns: number;
  readonly inPkts: number;
  readonly inBytes: number;
  readonly outPkts: number;
  readonly outBytes: number;
}

export type AdoptResult = 'loaded' | 'present' | 'no-service' | 'no-destination' | 'table-full';

/** A sync daemon as the kernel reports it, its defaults filled in. */
export interface SyncDaemon {
  readonly mcastInterface: string;
  readonly syncId: number;
  readonly syncMaxlen: number;
  readonly mcastGroup: IpAddr;
  readonly mcastPort: number;
  readonly mcastTtl: number;
}

export class IpvsEngine {
  private readonly services = new Map<string, VirtualService>();
  /**
   * While a takeover loads the copies' entries a slice at a time (its addresses already
   * up): where an entry not loaded yet is found.
   */
  pendingAdoption: ((protocol: ConnProtocol, caddr: IpAddr, cport: number, vaddr: string, vport: number) => AdoptedEntry | undefined) | undefined;
  private lastAdopted:
    | { readonly protocol: ConnProtocol; readonly vaddr: string; readonly vport: number; readonly template: boolean; readonly family: 4 | 6; readonly svc: VirtualService }
    | undefined;
  readonly conns: ConnTable;
  timeouts: ProtocolTimeouts = defaultTimeouts;
  expireQuiescentTemplate: boolean;
  /** ipvsadm --start-daemon state; connection sync itself is hadirector's own (src/sync). */
  readonly syncDaemons = new Map<'master' | 'backup', SyncDaemon>();
  private nextEstimateMs: number;
  private readonly trash = new DestinationTrash();

  constructor(private readonly options: EngineOptions) {
    this.conns = new ConnTable(options.clock.nowMs(), options.connEntriesMax);
    this.nextEstimateMs = options.clock.nowMs() + estimatorIntervalMs;
    this.expireQuiescentTemplate = options.expireQuiescentTemplate ?? false;
  }

  /** Services in kernel order: the table prints the newest first without --sort. */
  listServices(): VirtualService[] {
    return [...this.services.values()].reverse();
  }

  findService(key: ServiceKey): VirtualService | undefined {
    return this.services.get(serviceKeyText(key));
  }

  addService(key: ServiceKey, settings: ServiceSettings): VirtualService {
    const svc = new VirtualService(key, settings, { clock: this.options.clock, rng: this.options.rng });
    this.services.set(serviceKeyText(key), svc);
    this.lastAdopted = undefined;
    return svc;
  }

  /** ipvsadm -D: its destinations go to the trash, as with -d. */
  deleteService(svc: VirtualService): void {
    for (const dest of [...svc.destinations]) this.removeDestination(svc, dest);
    this.services.delete(serviceKeyText(svc.key));
    if (this.lastAdopted?.svc === svc) this.lastAdopted = undefined;
  }

  /** ipvsadm -C. */
  clear(): void {
    for (const svc of this.listServices()) this.deleteService(svc);
  }

  /** Destinations deleted but kept, for their connections or until idle a whole period. */
  get trashedDestinations(): number {
    return this.trash.size;
  }

  /** ipvsadm -a: the destination this service had there, from the trash with its counts, or a new one. */
  addDestination(svc: VirtualService, address: IpAddr, port: number, settings: DestinationSettings): Destination {
    const kept = this.trash.take(serviceKeyText(svc.key), address, port);
    return kept !== undefined ? svc.restoreDestination(kept, settings) : svc.addDestination(address, port, settings);
  }

  /** ipvsadm -d: into the trash; its connections keep it (unavailable) until they expire. */
  removeDestination(svc: VirtualService, dest: Destination): void {
    svc.removeDestination(dest);
    this.trash.put(serviceKeyText(svc.key), dest, this.options.clock.nowMs());
  }

  /** ipvsadm --set tcp tcpfin udp; a zero leaves that timeout unchanged. */
  setTimeouts(tcpS: number, tcpfinS: number, udpS: number): void {
    this.timeouts = setTimeouts(this.timeouts, tcpS, tcpfinS, udpS);
  }

  /**
   * A new connection's first packet: find its connection or template, or schedule one.
   * An existing entry for the same key is returned as it is.
   */
  connect(c: NewConnection): ConnectResult {
    const now = this.options.clock.nowMs();
    this.conns.expire(now);
    const existing = this.find(c.protocol, c.caddr, c.cport, c.vaddr.text, c.vport);
    if (existing !== undefined) return { ok: true, conn: existing, created: false };
    const svc = this.lookupService(c);
    if (svc === undefined) return { ok: false, reason: 'no-service' };
    const conn = svc.settings.persistenceS !== undefined ? this.schedulePersistent(svc, c, now) : this.scheduleNew(svc, c, now);
    if (typeof conn === 'string') return { ok: false, reason: conn };
    svc.stats.conns++;
    conn.dest.stats.conns++;
    return { ok: true, conn, created: true };
  }

  /** A packet of an existing connection: counters, state and timer. */
  packet(conn: Connection, direction: Direction, bytes: number, flags: TcpFlags = {}): void {
    this.count(conn, direction, 1, bytes);
    const before = conn.state;
    this.transition(conn, direction, flags);
    this.conns.rearm(conn, this.options.clock.nowMs(), conn.timeoutMs, conn.state !== before);
  }

  /** Ends an entry at once: a reused client port (conn_reuse_mode), or a flushed flow. */
  drop(conn: Connection): void {
    this.conns.remove(conn);
  }

  /** Counts packets without a state change (the simulator's `packets` line). */
  countPackets(conn: Connection, direction: Direction, packets: number, bytes: number): void {
    this.count(conn, direction, packets, bytes);
    this.conns.rearm(conn, this.options.clock.nowMs());
  }

  private count(conn: Connection, direction: Direction, packets: number, bytes: number): void {
    for (const stats of [conn.dest.stats, conn.service?.stats]) {
      if (stats === undefined) continue;
      if (direction === 'output') {
        stats.outPkts += packets;
        stats.outBytes += bytes;
      } else {
        stats.inPkts += packets;
        stats.inBytes += bytes;
      }
    }
  }

  /** What the kernel plane counted for a real server since its last read: into its counters and its service's. */
  countKernel(svc: VirtualService, dest: Destination, seen: KernelCounts): void {
    for (const stats of [dest.stats, svc.stats]) {
      stats.conns += seen.conns;
      stats.inPkts += seen.inPkts;
      stats.inBytes += seen.inBytes;
      stats.outPkts += seen.outPkts;
      stats.outBytes += seen.outBytes;
    }
  }

  /** Puts a TCP connection in `state` as packets would have, counters and timer included. */
  setState(conn: Connection, state: TcpState): void {
    const before = conn.state;
    this.enterState(conn, state);
    this.conns.rearm(conn, this.options.clock.nowMs(), conn.timeoutMs, conn.state !== before);
  }

  /**
   * The entry a packet finds: in the table, or, while a takeover's entries are still being
   * loaded, adopted from the copies on the spot.
   */
  find(protocol: ConnProtocol, caddr: IpAddr, cport: number, vaddr: string, vport: number): Connection | undefined {
    const here = this.conns.lookup(protocol, caddr, cport, vaddr, vport);
    if (here !== undefined || this.pendingAdoption === undefined) return here;
    const copied = this.pendingAdoption(protocol, caddr, cport, vaddr, vport);
    return copied !== undefined && this.adopt(copied) === 'loaded' ? this.conns.lookup(protocol, caddr, cport, vaddr, vport) : undefined;
  }

  /**
   * An entry another director had (replication): made here as it was there, with the
   * time it has left, before this director serves its address. A template comes before
   * the connections made under it. An entry already here stays as it is, but for an
   * older template of its own (see below).
   */
  adopt(e: AdoptedEntry): AdoptResult {
    const now = this.options.clock.nowMs();
    const caddr = parseIpAddr(e.caddr);
    if (caddr === undefined) return 'no-service';
    const here = this.conns.lookup(e.protocol, caddr, e.cport, e.vaddr, e.vport);
    if (here !== undefined) {
      // A template left from when this director last served, older than the copy's (a
      // template is refreshed by every connection made under it): the client's server
      // is the copy's. Its connections keep theirs; new ones follow the new template.
      // Refreshes travel once they add a quarter of the timeout, so the copy may be that
      // much behind its master: only an own template fresher by more is surely newer.
      // One that sends the client where the copy does is kept as it is.
      const sameServer = here.dest.address.text === e.daddr && here.dport === e.dport;
      if (!e.template || !here.template || sameServer || here.expiresAtMs - now >= e.remainingMs + here.timeoutMs / 4) return 'present';
      this.conns.remove(here);
    }
    const svc = this.serviceOfEntry(e, caddr);
    if (svc === undefined) return 'no-service';
    const dest = svc.destinations.find((d) => d.address.text === e.daddr && d.port === e.dport) ?? svc.destinations.find((d) => d.address.text === e.daddr);
    if (dest === undefined || !dest.available) return 'no-destination';
    const udp = e.protocol === 'udp';
    const timeoutMs = e.template
      ? (svc.settings.persistenceS ?? persistenceDefaultS) * 1000
      : udp
        ? this.timeouts.udpMs
        : this.timeouts.tcpMs[e.state as TcpState] ?? newConnectionTimeoutMs;
    const state = e.template ? 'NONE' : udp ? 'UDP' : (e.state as TcpState);
    const conn = new Connection(this.conns.group(e.protocol, e.vaddr, e.vport), caddr, e.cport, dest, e.dport, { template: e.template, onePacket: !e.template && udp && svc.settings.onePacket }, state, timeoutMs);
    if (!e.template) {
      conn.service = svc;
      if (state === 'ESTABLISHED') conn.inactive = false;
    }
    if (!this.conns.add(conn, now, Math.min(e.remainingMs, timeoutMs))) return 'table-full';
    if (!e.template && svc.settings.persistenceS !== undefined && e.protocol !== 'ip') {
      const t = this.templateKey(svc, { protocol: e.protocol, caddr, vport: e.vport });
      const template = this.find(t.protocol, t.snet, 0, t.vaddr, t.vport);
      if (template !== undefined) {
        conn.control = template;
        template.controlled++;
      }
    }
    return 'loaded';
  }

  /**
   * An entry the kernel keeps for this director (a DR flow of the kernel plane): into the
   * table, or, when it is there, its timer set to what the kernel has left, so
   * replication carries it as it carries the engine's own.
   */
  noteKernelEntry(e: AdoptedEntry): AdoptResult {
    const result = this.adopt(e);
    if (result !== 'present') return result;
    const caddr = parseIpAddr(e.caddr);
    const here = caddr === undefined ? undefined : this.conns.lookup(e.protocol, caddr, e.cport, e.vaddr, e.vport);
    if (here !== undefined && !here.template) this.conns.rearm(here, this.options.clock.nowMs(), e.remainingMs);
    return result;
  }

  /** Runs expiry and the 2-second rate estimates up to now; returns what expired. */
  tick(): Connection[] {
    const now = this.options.clock.nowMs();
    for (let n = 0; this.nextEstimateMs <= now && n < 1000; n++) {
      for (const svc of this.services.values()) {
        estimate(svc.stats, svc.stats.estimator);
        for (const dest of svc.destinations) estimate(dest.stats, dest.stats.estimator);
      }
      this.nextEstimateMs += estimatorIntervalMs;
    }
    if (this.nextEstimateMs <= now) this.nextEstimateMs = now + estimatorIntervalMs;
    const expired = this.conns.expire(now);
    this.trash.sweep(now);
    return expired;
  }

  /** ipvsadm -Z, for one service or all. */
  zero(svc?: VirtualService): void {
    for (const s of svc === undefined ? this.services.values() : [svc]) {
      s.stats.zero();
      for (const dest of s.destinations) dest.stats.zero();
    }
  }

  private lookupService(c: NewConnection): VirtualService | undefined {
    if (c.fwmark !== undefined && c.fwmark !== 0) {
      const byMark = this.services.get(serviceKeyText({ kind: 'fwmark', mark: c.fwmark, family: c.vaddr.family }));
      if (byMark !== undefined) return byMark;
    }
    return (
      this.services.get(serviceKeyText({ kind: 'address', protocol: c.protocol, address: c.vaddr, port: c.vport })) ??
      // A port-zero service takes every port of its address.
      this.services.get(serviceKeyText({ kind: 'address', protocol: c.protocol, address: c.vaddr, port: 0 }))
    );
  }

  private scheduleNew(svc: VirtualService, c: NewConnection, now: number): Connection | 'no-destination' | 'table-full' {
    const dest = svc.schedule({ saddr: c.caddr, sport: c.cport, daddr: c.vaddr, dport: c.vport });
    if (dest === null) return 'no-destination';
    return this.newConnection(svc, c, dest, now, false);
  }

  /** ip_vs_sched_persist: the client's template decides, or a new one is made. */
  private schedulePersistent(svc: VirtualService, c: NewConnection, now: number): Connection | 'no-destination' | 'table-full' {
    const t = this.templateKey(svc, c);
    const servicePort = svc.key.kind === 'address' ? svc.key.port : 0;
    let template = this.find(t.protocol, t.snet, 0, t.vaddr, t.vport);
    if (template !== undefined && !this.templateUsable(template)) {
      this.conns.hide(template);
      template = undefined;
    }
    let dest: Destination;
    if (template === undefined) {
      const chosen = svc.schedule({ saddr: c.caddr, sport: c.cport, daddr: c.vaddr, dport: c.vport });
      if (chosen === null) return 'no-destination';
      dest = chosen;
      const dport = c.vport === servicePort && servicePort !== ftpPort ? dest.port : 0;
      const timeoutMs = (svc.settings.persistenceS ?? persistenceDefaultS) * 1000;
      template = new Connection(this.conns.group(t.protocol, t.vaddr, t.vport), t.snet, 0, dest, dport, { template: true, onePacket: false }, 'NONE', timeoutMs);
      if (!this.conns.add(template, now)) return 'table-full';
    } else {
      dest = template.dest;
    }
    const conn = this.newConnection(svc, c, dest, now, true);
    if (typeof conn === 'string') return conn;
    conn.control = template;
    template.controlled++;
    // Each connection made under a template restarts the template's timer.
    this.conns.rearm(template, now);
    return conn;
  }

  /** The key of a client's persistence template in a service (ip_vs_sched_persist's). */
  private templateKey(svc: VirtualService, c: { readonly protocol: ServiceProtocol; readonly caddr: IpAddr; readonly vport: number }) {
    const snet = svc.settings.netmask === undefined ? c.caddr : maskAddr(c.caddr, svc.settings.netmask);
    const key = svc.key;
    if (key.kind === 'address' && c.vport !== key.port) return { protocol: c.protocol as ConnProtocol, snet, vaddr: key.address.text, vport: 0 };
    return { ...serviceTemplateKey(svc), snet };
  }

  /** The service a replicated entry belongs to: as a packet finds it, or, for a template, by its key. */
  private serviceOfEntry(e: AdoptedEntry, caddr: IpAddr): VirtualService | undefined {
    // A takeover adopts entries grouped by service: the last answer is likely the next.
    const last = this.lastAdopted;
    if (last !== undefined && last.vport === e.vport && last.vaddr === e.vaddr && last.protocol === e.protocol && last.template === e.template && last.family === caddr.family) {
      return last.svc;
    }
    const svc = this.findServiceOfEntry(e, caddr);
    if (svc !== undefined) this.lastAdopted = { protocol: e.protocol, vaddr: e.vaddr, vport: e.vport, template: e.template, family: caddr.family, svc };
    return svc;
  }

  private findServiceOfEntry(e: AdoptedEntry, caddr: IpAddr): VirtualService | undefined {
    const mark = /^fwmark:(\d+)$/.exec(e.vaddr);
    if (mark !== null) return this.services.get(serviceKeyText({ kind: 'fwmark', mark: Number(mark[1]), family: caddr.family }));
    const vaddr = parseIpAddr(e.vaddr);
    if (vaddr === undefined || e.protocol === 'ip') return undefined;
    const found = this.lookupService({ protocol: e.protocol, caddr, cport: e.cport, vaddr, vport: e.vport });
    if (found !== undefined || !e.template) return found;
    // An FTP service's templates have virtual port 0.
    return [...this.services.values()].find((s) => s.key.kind === 'address' && s.key.protocol === e.protocol && s.key.address.text === vaddr.text && s.settings.persistenceS !== undefined);
  }

  /** ip_vs_check_template: the template's server must still exist and, optionally, not be quiescent. */
  private templateUsable(template: Connection): boolean {
    const dest = template.dest;
    if (!dest.available) return false;
    return !(this.expireQuiescentTemplate && dest.weight === 0);
  }

  private newConnection(svc: VirtualService, c: NewConnection, dest: Destination, now: number, persistent: boolean): Connection | 'table-full' {
    const servicePort = svc.key.kind === 'address' ? svc.key.port : 0;
    // ip_vs_schedule takes the real server's port whenever it has one; ip_vs_sched_persist
    // only on the service's own port, so a port-0 or fwmark service keeps the client's.
    const mapped = persistent ? c.vport === servicePort : true;
    const dport = mapped && dest.port !== 0 ? dest.port : c.vport;
    const onePacket = svc.settings.onePacket && c.protocol === 'udp';
    const state = c.protocol === 'udp' ? 'UDP' : 'NONE';
    const timeoutMs = c.protocol === 'udp' ? this.timeouts.udpMs : newConnectionTimeoutMs;
    const conn = new Connection(this.conns.group(c.protocol, c.vaddr.text, c.vport), c.caddr, c.cport, dest, dport, { template: false, onePacket }, state, timeoutMs);
    conn.service = svc;
    if (!this.conns.add(conn, now)) return 'table-full';
    return conn;
  }

  private transition(conn: Connection, direction: Direction, flags: TcpFlags): void {
    if (conn.template) return;
    if (conn.state === 'UDP') {
      conn.timeoutMs = this.timeouts.udpMs;
      return;
    }
    let dir = direction;
    if (conn.noOutput) {
      if (dir === 'output') conn.noOutput = false;
      else dir = 'input-only';
    }
    this.enterState(conn, nextTcpState(conn.state, dir, flags));
  }

  /** A state change moves the entry between active and inactive at its destination. */
  private enterState(conn: Connection, next: TcpState): void {
    const dest = conn.dest;
    if (next !== conn.state && !conn.template) {
      if (!conn.inactive && next !== 'ESTABLISHED') {
        dest.moveConnection('active', 'inactive');
        conn.inactive = true;
      } else if (conn.inactive && next === 'ESTABLISHED') {
        dest.moveConnection('inactive', 'active');
        conn.inactive = false;
      }
    }
    conn.state = next;
    conn.timeoutMs = this.timeouts.tcpMs[next];
  }
}
