// The userspace data plane: a TCP listener or a UDP socket on each virtual service's
// address, sending each new client where the engine schedules it. It forwards as LVS-NAT
// does (the real server may listen on another port); direct routing, tunnelling and
// fwmark services need the kernel and are refused.
import dgram from 'node:dgram';
import net from 'node:net';
import { parseIpAddr, type IpAddr } from '../address';
import type { Connection } from '../conn/connection';
import type { IpvsEngine } from '../engine';
import type { ForwardMethod } from '../destination';
import { serviceDisplayName, serviceKeyText, type ServiceKey, type VirtualService } from '../service';
import type { IpvsadmCommand } from '../ipvsadm/parse';
import { ConnectDeadlines, DeferredShutdowns, rawListen, RawRelay, rawTcp, type RawBindings, type TcpHandle } from './raw-tcp';
import { zeroPlaneCounters, type DataPlane, type PlaneCounters, type PlaneEvents } from './plane';
import { TcpRelay } from './tcp-relay';
import { UdpService } from './udp-flows';

export const upstreamConnectTimeoutDefaultMs = 5000;
/** How often a listener that could not bind is tried again while its address is held. */
const listenRetryMs = 250;

/** What the refusal rules read of a service: a VirtualService, or a planned one. */
export interface ServiceShape {
  readonly key: ServiceKey;
  readonly destinations: ReadonlyArray<{ readonly forward: ForwardMethod; readonly key: string }>;
}

/** Why the userspace plane cannot carry a service or a real server, or undefined. */
export function userspaceRefusal(svc: ServiceShape): string | undefined {
  const key = svc.key;
  if (key.kind === 'fwmark') return `fwmark service ${key.mark} needs the kernel data plane (data_plane kernel or auto, as root: firewall marks are set in the kernel)`;
  if (key.protocol === 'sctp') return `SCTP service ${serviceDisplayName(key)} needs the kernel data plane (data_plane kernel or auto, as root)`;
  if (key.port === 0) return `port-zero service ${serviceDisplayName(key)} needs the kernel data plane (data_plane kernel or auto, as root)`;
  const dest = svc.destinations.find((d) => d.forward !== 'masq');
  if (dest !== undefined) {
    const method = dest.forward === 'route' ? 'direct routing (DR, -g)' : 'tunnelling (TUN, -i)';
    return `real server ${dest.key} of ${serviceDisplayName(key)} uses ${method}, which needs the kernel data plane (data_plane kernel or auto, as root); the userspace relay forwards by NAT (-m) only`;
  }
  return undefined;
}

interface Listener {
  readonly svc: VirtualService;
  close(): void;
}

export class UserspacePlane implements DataPlane {
  readonly kind = 'userspace';
  readonly counters: PlaneCounters = zeroPlaneCounters();
  private readonly listeners = new Map<string, Listener>();
  private readonly relays = new Map<Connection, TcpRelay | RawRelay>();
  /** Node's own TCP handles when present (twice as fast on new connections); net.Socket otherwise. */
  private readonly raw: RawBindings | null;
  private readonly udp = new Set<UdpService>();
  private readonly deadlines = new ConnectDeadlines();
  private readonly shutdowns = new DeferredShutdowns();
  private closing = false;
  /** Services held here whose listener could not bind, with when it first failed. */
  private readonly unbound = new Map<string, number>();
  private retry: NodeJS.Timeout | null = null;
  private reconciling: Promise<unknown> = Promise.resolve();
  /** Whether this node holds an address now: a VIP's services listen only on its master. */
  private holds: (address: string) => boolean = () => true;

  constructor(
    private readonly engine: IpvsEngine,
    private readonly events: PlaneEvents,
    private readonly connectTimeoutMs = upstreamConnectTimeoutDefaultMs,
    implementation: 'handles' | 'streams' = 'handles',
  ) {
    this.raw = implementation === 'streams' ? null : rawTcp();
  }

  /** Which TCP relay runs: on Node's handles, or on net.Socket streams. */
  get tcpRelay(): 'handles' | 'streams' {
    return this.raw === null ? 'streams' : 'handles';
  }

  get liveRelays(): number {
    return this.relays.size;
  }

  /** From now on, listen only on the addresses `holds` says this node holds. */
  setHeldAddresses(holds: (address: string) => boolean): void {
    this.holds = holds;
  }

  /**
   * Opens a listener for each service of the engine without one, closes the rest; resolves
   * with what could not be done. One at a time, so two callers never bind the same address.
   * A listener that cannot bind (in the loopback world, the previous holder may still have
   * it for a moment) is tried again every listenRetryMs while its address is held here.
   */
  async reconcile(): Promise<string[]> {
    const { refusals, bindFailures } = await this.reconcileInTurn();
    return [...refusals, ...bindFailures];
  }

  private reconcileInTurn(): Promise<{ refusals: string[]; bindFailures: string[] }> {
    const next = this.reconciling.then(() => this.reconcileNow());
    this.reconciling = next.catch(() => undefined);
    return next;
  }

  private async reconcileNow(): Promise<{ refusals: string[]; bindFailures: string[] }> {
    const refusals: string[] = [];
    const bindFailures: string[] = [];
    if (this.closing) return { refusals, bindFailures };
    const held = this.engine.listServices().filter((svc) => svc.key.kind !== 'address' || this.holds(svc.key.address.text));
    const wanted = new Map(held.map((svc) => [serviceKeyText(svc.key), svc]));
    for (const [key, listener] of this.listeners) {
      if (wanted.get(key) !== listener.svc) {
        listener.close();
        this.listeners.delete(key);
      }
    }
    for (const key of this.unbound.keys()) if (!wanted.has(key)) this.unbound.delete(key);
    for (const [key, svc] of wanted) {
      if (this.listeners.has(key)) continue;
      const refusal = userspaceRefusal(svc);
      if (refusal !== undefined) {
        refusals.push(refusal);
        continue;
      }
      try {
        this.listeners.set(key, await this.listen(svc));
        const since = this.unbound.get(key);
        if (since !== undefined) {
          this.unbound.delete(key);
          this.events.info(`listening on ${serviceDisplayName(svc.key)} after ${Date.now() - since} ms of retries`, { service: serviceDisplayName(svc.key) });
        }
      } catch (err) {
        // Only an address still in use (its previous holder letting go) is worth another try;
        // each failure is reported once, and the retries are silent until one succeeds.
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' || /EADDRINUSE/.test((err as Error).message);
        if (!this.unbound.has(key)) bindFailures.push(`cannot listen on ${serviceDisplayName(svc.key)}: ${(err as Error).message}${inUse ? ` (retrying every ${listenRetryMs} ms while held)` : ''}`);
        if (inUse && !this.unbound.has(key)) this.unbound.set(key, Date.now());
      }
    }
    this.scheduleRetry();
    return { refusals, bindFailures };
  }

  private scheduleRetry(): void {
    if (this.unbound.size === 0 || this.retry !== null || this.closing) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      // The callers that asked for these services heard of their refusals already.
      void this.reconcileInTurn().then(({ bindFailures }) => {
        for (const message of bindFailures) this.events.warn(message, {});
      });
    }, listenRetryMs);
    this.retry.unref();
  }

  /** Entries the engine expired: their connections end with them. */
  expired(conns: readonly Connection[]): void {
    for (const conn of conns) {
      this.relays.get(conn)?.destroy();
      for (const u of this.udp) u.expired(conn);
    }
  }

  /** Stops accepting, lets live connections finish for up to `drainMs`, then cuts them. */
  async close(drainMs: number): Promise<void> {
    this.closing = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.unbound.clear();
    for (const listener of this.listeners.values()) listener.close();
    this.listeners.clear();
    const deadline = Date.now() + drainMs;
    while (this.relays.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(50, drainMs)));
    for (const relay of [...this.relays.values()]) relay.destroy();
  }

  private listen(svc: VirtualService): Promise<Listener> {
    const key = svc.key;
    if (key.kind !== 'address') throw new Error('fwmark services are refused before listening');
    return key.protocol === 'udp' ? this.listenUdp(svc, key.address.text, key.port) : this.listenTcp(svc, key.address.text, key.port);
  }

  private listenTcp(svc: VirtualService, host: string, port: number): Promise<Listener> {
    const raw = this.raw;
    if (raw !== null) {
      try {
        const listener = rawListen(raw, host, port, (client, peer) => this.acceptRaw(raw, svc, client, peer));
        return Promise.resolve({ svc, close: () => listener.close() });
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => this.accept(svc, client));
    server.maxConnections = 65_536;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 4096 }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.events.warn('listener error', { service: serviceDisplayName(svc.key), error: err.message }));
        resolve({ svc, close: () => server.close() });
      });
    });
  }

  private listenUdp(svc: VirtualService, host: string, port: number): Promise<Listener> {
    const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.events.warn('udp socket error', { service: serviceDisplayName(svc.key), error: err.message }));
        const vaddr = parseIpAddr(host);
        if (vaddr === undefined) {
          socket.close();
          reject(new Error(`bad address ${host}`));
          return;
        }
        const service = new UdpService(socket, vaddr, port, this.engine, {
          dropped: () => this.counters.udpDropped++,
        });
        this.udp.add(service);
        resolve({
          svc,
          close: () => {
            service.close();
            this.udp.delete(service);
          },
        });
      });
    });
  }

  /** The engine's entry for a new client, or undefined (counted) when none can be had. */
  private admit(svc: VirtualService, caddr: IpAddr, cport: number): Connection | undefined {
    if (this.closing || svc.key.kind !== 'address') return undefined;
    // The listener is bound to the VIP itself, so the service's address is the local one.
    const c = { protocol: 'tcp' as const, caddr, cport, vaddr: svc.key.address, vport: svc.key.port };
    let r = this.engine.connect(c);
    if (r.ok && !r.created) {
      // The client reused a port whose entry is still in the table (TIME_WAIT, say):
      // the kernel's conn_reuse_mode schedules such a connection afresh.
      this.relays.get(r.conn)?.destroy();
      this.engine.drop(r.conn);
      r = this.engine.connect(c);
    }
    if (!r.ok) {
      this.counters.noDestination++;
      return undefined;
    }
    this.counters.accepted++;
    return r.conn;
  }

  private upstreamFailed(conn: Connection, reason: 'refused' | 'timeout' | 'error', detail?: string): void {
    if (reason === 'refused') this.counters.upstreamRefused++;
    else if (reason === 'timeout') this.counters.upstreamTimeout++;
    else this.counters.upstreamError++;
    this.events.warn(`real server ${reason === 'refused' ? 'refused the connection' : reason === 'timeout' ? 'did not answer in time' : 'failed'}`, {
      realServer: `${conn.daddr.text}:${conn.dport}`,
      client: `${conn.caddr.text}:${conn.cport}`,
      ...(detail !== undefined ? { error: detail } : {}),
    });
  }

  /** A relay replaced by a reused client port may close after its successor is listed. */
  private relayClosed(done: TcpRelay | RawRelay): void {
    if (this.relays.get(done.conn) === done) this.relays.delete(done.conn);
  }

  private acceptRaw(raw: RawBindings, svc: VirtualService, client: TcpHandle, peer: { address: string; port: number }): void {
    const caddr = parseIpAddr(peer.address);
    const conn = caddr === undefined ? undefined : this.admit(svc, caddr, peer.port);
    if (conn === undefined) {
      if (client.reset(() => undefined) !== 0) client.close();
      return;
    }
    const relay = new RawRelay(
      raw,
      conn,
      client,
      this.engine,
      {
        upstreamFailed: (c, reason, detail) => this.upstreamFailed(c, reason, detail),
        closed: (done) => this.relayClosed(done),
      },
      this.deadlines,
      this.shutdowns,
    );
    this.relays.set(conn, relay);
    relay.start(this.connectTimeoutMs);
  }

  private accept(svc: VirtualService, client: net.Socket): void {
    const caddr = client.remoteAddress === undefined ? undefined : parseIpAddr(client.remoteAddress);
    const conn = caddr === undefined || client.remotePort === undefined ? undefined : this.admit(svc, caddr, client.remotePort);
    if (conn === undefined) {
      client.resetAndDestroy();
      return;
    }
    const relay = new TcpRelay(conn, client, this.engine, {
      upstreamFailed: (c, reason, error) => this.upstreamFailed(c, reason, error?.message),
      closed: (done) => this.relayClosed(done),
    });
    this.relays.set(conn, relay);
    relay.start(this.connectTimeoutMs);
  }
}

/** The userspace plane's veto on an ipvsadm change it could not carry. */
export function userspaceAdmit(c: IpvsadmCommand): string | undefined {
  const service = c.name === 'add-service' || c.name === 'edit-service' || c.name === 'add-server' || c.name === 'edit-server';
  if (!service) return undefined;
  if (c.service.kind === 'fwmark') return 'hadirector: fwmark services need the kernel data plane; this director runs the userspace relay';
  if (c.service.protocol === 'sctp') return 'hadirector: SCTP services need the kernel data plane; this director runs the userspace relay';
  if (c.name === 'add-service' && c.service.port === 0) return 'hadirector: port-zero services need the kernel data plane; this director runs the userspace relay';
  if ((c.name === 'add-server' || c.name === 'edit-server') && c.dest.forward !== 'masq') {
    return 'hadirector: the userspace data plane forwards by masquerading only: give -m (-g and -i need the kernel data plane)';
  }
  return undefined;
}
