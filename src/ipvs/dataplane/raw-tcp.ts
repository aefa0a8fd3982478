// The TCP relay on Node's own TCP handles, beneath net.Socket. A userspace director
// spends most of its time opening and closing connections, and a net.Socket (a stream,
// its state, its events) costs more than the system calls it wraps: on these handles a
// relay opens and closes connections about twice as fast. The handles are internal to
// Node (process.binding('tcp_wrap'), still on its allow-list); `rawTcp()` checks that
// every piece is there, and the plane falls back to net.Socket when one is missing.
import util from 'node:util';
import type { Connection } from '../conn/connection';
import type { IpvsEngine } from '../engine';

/** What is used of a TCP handle. */
export interface TcpHandle {
  // Node checks natively that these are functions: assigning anything else aborts.
  onread: (buf: ArrayBuffer | undefined) => void;
  onconnection: (status: number, client: TcpHandle | undefined) => void;
  readonly writeQueueSize: number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  listen(backlog: number): number;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  readStart(): number;
  readStop(): number;
  setNoDelay(on: boolean): number;
  getpeername(out: { address?: string; port?: number }): number;
  writeBuffer(req: WriteReq, data: Buffer): number;
  shutdown(req: ShutdownReq): number;
  close(callback?: () => void): void;
  reset(callback?: () => void): number;
}

interface ConnectReq {
  oncomplete: (status: number) => void;
}
interface WriteReq {
  handle: TcpHandle;
  buffer: Buffer | undefined;
  oncomplete: (status: number) => void;
}
interface ShutdownReq {
  handle: TcpHandle;
  oncomplete: (status: number) => void;
}

export interface RawBindings {
  readonly TCP: new (type: number) => TcpHandle;
  readonly TCPConnectWrap: new () => ConnectReq;
  readonly WriteWrap: new () => WriteReq;
  readonly ShutdownWrap: new () => ShutdownReq;
  readonly serverType: number;
  readonly socketType: number;
  readonly state: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kArrayBufferOffset: number;
  readonly kLastWriteWasAsync: number;
}

const eof = -4095; // UV_EOF
const ignoreRead = (): void => undefined;
const ignoreWrite = (): void => undefined;
/**
 * Node keeps a write request only while its write is in flight; one whose write went out
 * at once (the common case) carries the next chunk, on this relay or a later one, which
 * spares an allocation per chunk.
 */
const spareWrites: WriteReq[] = [];
const spareWritesMax = 1024;
/** Pause reading a side while this many bytes wait to be written to the other. */
const writeQueueHighBytes = 256 * 1024;

let cached: RawBindings | null | undefined;

/** Node's TCP handles, or null where this Node has not got them as expected. */
export function rawTcp(): RawBindings | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap') as { TCP?: unknown; TCPConnectWrap?: unknown; constants?: { SERVER?: number; SOCKET?: number } };
    const stream = binding('stream_wrap') as Record<string, unknown>;
    const b = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream['WriteWrap'],
      ShutdownWrap: stream['ShutdownWrap'],
      serverType: tcp.constants?.SERVER,
      socketType: tcp.constants?.SOCKET,
      state: stream['streamBaseState'],
      kReadBytesOrError: stream['kReadBytesOrError'],
      kArrayBufferOffset: stream['kArrayBufferOffset'],
      kLastWriteWasAsync: stream['kLastWriteWasAsync'],
    };
    const complete =
      typeof b.TCP === 'function' &&
      typeof b.TCPConnectWrap === 'function' &&
      typeof b.WriteWrap === 'function' &&
      typeof b.ShutdownWrap === 'function' &&
      typeof b.serverType === 'number' &&
      typeof b.socketType === 'number' &&
      b.state instanceof Int32Array &&
      typeof b.kReadBytesOrError === 'number' &&
      typeof b.kArrayBufferOffset === 'number' &&
      typeof b.kLastWriteWasAsync === 'number';
    if (complete && typeof (new (b.TCP as new (t: number) => TcpHandle)(b.socketType as number)).reset === 'function') cached = b as RawBindings;
  } catch {
    cached = null;
  }
  return cached;
}

function errorText(status: number): string {
  try {
    return util.getSystemErrorName(status);
  } catch {
    return `error ${status}`;
  }
}

export interface RawListener {
  close(): void;
}

/** Listens on address:port, handing each accepted connection's peer to `accept`. */
export function rawListen(b: RawBindings, address: string, port: number, accept: (client: TcpHandle, peer: { address: string; port: number }) => void): RawListener {
  const server = new b.TCP(b.serverType);
  const status = address.includes(':') ? server.bind6(address, port, 0) : server.bind(address, port);
  const listened = status === 0 ? server.listen(4096) : status;
  if (listened !== 0) {
    server.close();
    throw new Error(errorText(listened));
  }
  server.onconnection = (err, client) => {
    if (err !== 0 || client === undefined) return;
    const peer: { address?: string; port?: number } = {};
    if (client.getpeername(peer) !== 0 || peer.address === undefined || peer.port === undefined) {
      client.close();
      return;
    }
    accept(client, { address: peer.address, port: peer.port });
  };
  return { close: () => server.close() };
}

/**
 * Connect deadlines for every relay at once: one timer sweeping four times a second
 * instead of a timer per connection, so a timeout fires up to 250 ms late.
 */
export class ConnectDeadlines {
  private readonly pending = new Map<{ timedOut(): void }, number>();
  private timer: NodeJS.Timeout | null = null;

  add(relay: { timedOut(): void }, atMs: number): void {
    this.pending.set(relay, atMs);
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), 250);
      this.timer.unref();
    }
  }

  remove(relay: { timedOut(): void }): void {
    this.pending.delete(relay);
  }

  private sweep(): void {
    const now = performance.now();
    for (const [relay, atMs] of this.pending) {
      if (atMs > now) continue;
      this.pending.delete(relay);
      relay.timedOut();
    }
    if (this.pending.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

/**
 * Half-closes wait one turn of the event loop. With a new connection per request the
 * server's FIN is usually followed at once by the client's: when the client's arrives
 * in that turn, both are closed (each close sends its FIN) and the shutdown, with its
 * poll changes, is never made. haproxy defers its half-closes the same way.
 */
export class DeferredShutdowns {
  private queued: Array<{ flushShutdown(): void }> = [];
  private ready: Array<{ flushShutdown(): void }> = [];
  private scheduled = false;

  add(relay: { flushShutdown(): void }): void {
    this.queued.push(relay);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.turn());
    }
  }

  /** Relays queued before the previous turn shut down now; the newer ones wait one more poll. */
  private turn(): void {
    const due = this.ready;
    this.ready = this.queued;
    this.queued = [];
    for (const relay of due) relay.flushShutdown();
    if (this.ready.length > 0) setImmediate(() => this.turn());
    else this.scheduled = false;
  }
}

export interface RawRelayEvents {
  upstreamFailed(conn: Connection, reason: 'refused' | 'timeout' | 'error', detail: string): void;
  closed(relay: RawRelay): void;
}

/** One client relayed to its real server on raw handles; the same IPVS states as TcpRelay. */
export class RawRelay {
  private upstream: TcpHandle | null = null;
  private connectTimeoutMs = 0;
  private ended = { input: false, output: false };
  private shutdownsDone = 0;
  /** Per direction, a write request whose write completed at once, for the next chunk. */
  private readonly spare: Record<'input' | 'output', WriteReq | null> = { input: null, output: null };
  /** The handle whose half-close waits in `shutdowns`, if any. */
  private pendingShutdown: TcpHandle | null = null;
  private closed = false;

  constructor(
    private readonly b: RawBindings,
    readonly conn: Connection,
    private readonly client: TcpHandle,
    private readonly engine: IpvsEngine,
    private readonly events: RawRelayEvents,
    private readonly deadlines: ConnectDeadlines,
    private readonly shutdowns: DeferredShutdowns,
  ) {}

  get live(): boolean {
    return !this.closed;
  }

  start(connectTimeoutMs: number): void {
    const { b, conn, engine } = this;
    engine.packet(conn, 'input', 0, { syn: true });
    const upstream = new b.TCP(b.socketType);
    this.upstream = upstream;
    const req = new b.TCPConnectWrap();
    req.oncomplete = (status) => {
      if (this.closed) return;
      this.deadlines.remove(this);
      if (status !== 0) {
        this.events.upstreamFailed(conn, errorText(status) === 'ECONNREFUSED' ? 'refused' : 'error', errorText(status));
        this.reset('output');
        return;
      }
      engine.packet(conn, 'output', 0, { syn: true, ack: true });
      engine.packet(conn, 'input', 0, { ack: true });
      this.client.setNoDelay(true);
      upstream.setNoDelay(true);
      this.wire(this.client, upstream, 'input');
      this.wire(upstream, this.client, 'output');
      this.client.readStart();
      upstream.readStart();
    };
    const daddr = conn.daddr;
    const status = daddr.family === 6 ? upstream.connect6(req, daddr.text, conn.dport) : upstream.connect(req, daddr.text, conn.dport);
    if (status !== 0) {
      this.events.upstreamFailed(conn, 'error', errorText(status));
      this.reset('output');
      return;
    }
    this.connectTimeoutMs = connectTimeoutMs;
    this.deadlines.add(this, performance.now() + connectTimeoutMs);
  }

  /** The real server did not accept within the connect timeout. */
  timedOut(): void {
    if (this.closed) return;
    this.events.upstreamFailed(this.conn, 'timeout', `no answer within ${this.connectTimeoutMs} ms`);
    this.reset('output');
  }

  destroy(): void {
    this.finish(true);
  }

  private wire(from: TcpHandle, to: TcpHandle, direction: 'input' | 'output'): void {
    const { b, conn, engine } = this;
    const onWritten = (status: number): void => {
      if (status < 0) this.reset(direction === 'input' ? 'output' : 'input');
      else if (to.writeQueueSize < writeQueueHighBytes && !this.closed && !this.ended[direction]) from.readStart();
    };
    from.onread = (buf) => {
      const n = b.state[b.kReadBytesOrError] as number;
      if (n > 0 && buf !== undefined) {
        const chunk = Buffer.from(buf, b.state[b.kArrayBufferOffset] as number, n);
        engine.countPackets(conn, direction, 1, n);
        let req = this.spare[direction];
        this.spare[direction] = null;
        if (req === null) {
          req = spareWrites.pop() ?? new b.WriteWrap();
          req.handle = to;
          req.oncomplete = onWritten;
        }
        req.buffer = chunk;
        const status = to.writeBuffer(req, chunk);
        if (status < 0) this.reset(direction === 'input' ? 'output' : 'input');
        else if (b.state[b.kLastWriteWasAsync] === 0) {
          req.buffer = undefined;
          this.spare[direction] = req;
        } else if (to.writeQueueSize >= writeQueueHighBytes) from.readStop();
        return;
      }
      if (n === eof) {
        from.readStop();
        this.ended[direction] = true;
        engine.packet(conn, direction, 0, { fin: true, ack: true });
        const other = direction === 'input' ? 'output' : 'input';
        if (!this.ended[other]) {
          this.pendingShutdown = to;
          this.shutdowns.add(this);
          return;
        }
        if (to.writeQueueSize === 0 && from.writeQueueSize === 0) {
          // Both sides have ended and nothing waits to be written: closing sends the last FINs.
          engine.packet(conn, other, 0, { ack: true });
          this.finish(false);
          return;
        }
        this.flushShutdown();
        this.shutdown(to);
        return;
      }
      if (n < 0) this.reset(direction);
    };
  }

  /** The half-close deferred by `shutdowns`, unless the relay closed meanwhile. */
  flushShutdown(): void {
    const to = this.pendingShutdown;
    this.pendingShutdown = null;
    if (to !== null && !this.closed) this.shutdown(to);
  }

  private shutdown(to: TcpHandle): void {
    const req = new this.b.ShutdownWrap();
    req.handle = to;
    req.oncomplete = () => {
      this.shutdownsDone++;
      this.maybeDone();
    };
    if (to.shutdown(req) !== 0) this.finish(false);
  }

  /** Both sides ended and both shutdowns flushed: a clean close. */
  private maybeDone(): void {
    if (this.shutdownsDone < 2) return;
    this.engine.packet(this.conn, 'input', 0, { ack: true });
    this.finish(false);
  }

  /** An error on one side: the kernel would see a RST from it, and both ends are reset. */
  private reset(direction: 'input' | 'output'): void {
    if (this.closed) return;
    this.engine.packet(this.conn, direction, 0, { rst: true });
    this.finish(true);
  }

  private finish(abort: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.deadlines.remove(this);
    for (const direction of ['input', 'output'] as const) {
      const req = this.spare[direction];
      this.spare[direction] = null;
      if (req === null || spareWrites.length >= spareWritesMax) continue;
      req.oncomplete = ignoreWrite;
      spareWrites.push(req);
    }
    for (const h of [this.client, this.upstream]) {
      if (h === null) continue;
      h.onread = ignoreRead;
      // reset() sends a RST where the connection is up; a handle not yet connected just closes.
      if (!abort || h.reset(() => undefined) !== 0) h.close();
    }
    this.events.closed(this);
  }
}
