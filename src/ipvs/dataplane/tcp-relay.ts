// One client connection relayed to its real server, as LVS-NAT would carry it. The
// engine's entry follows the connection through the IPVS TCP states from what the
// sockets see: the accepted client is its SYN, the real server's answer its SYN-ACK and
// the client's ACK, an end of stream a FIN, an error a RST. Each chunk read is counted as
// one packet (a userspace relay cannot see the segments on the wire).
import net from 'node:net';
import type { Connection } from '../conn/connection';
import type { IpvsEngine } from '../engine';

export interface RelayEvents {
  /** The real server refused or did not answer in time. */
  upstreamFailed(conn: Connection, reason: 'refused' | 'timeout' | 'error', error?: Error): void;
  closed(relay: TcpRelay): void;
}

export class TcpRelay {
  private upstream: net.Socket | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private clientEnded = false;
  private upstreamEnded = false;
  private finished = false;

  constructor(
    readonly conn: Connection,
    private readonly client: net.Socket,
    private readonly engine: IpvsEngine,
    private readonly events: RelayEvents,
  ) {}

  /** The client is accepted and paused; connect to the real server, then relay. */
  start(connectTimeoutMs: number): void {
    const { conn, client, engine } = this;
    engine.packet(conn, 'input', 0, { syn: true });
    client.on('error', () => this.reset('input'));
    client.on('close', () => this.finish());
    const upstream = net.connect({ host: conn.daddr.text, port: conn.dport, noDelay: true, allowHalfOpen: true });
    this.upstream = upstream;
    this.connectTimer = setTimeout(() => {
      this.events.upstreamFailed(conn, 'timeout');
      this.reset('output');
    }, connectTimeoutMs);
    upstream.once('connect', () => {
      this.clearConnectTimer();
      engine.packet(conn, 'output', 0, { syn: true, ack: true });
      engine.packet(conn, 'input', 0, { ack: true });
      this.wire(client, upstream, 'input');
      this.wire(upstream, client, 'output');
      client.resume();
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (this.connectTimer !== null) {
        this.clearConnectTimer();
        this.events.upstreamFailed(conn, err.code === 'ECONNREFUSED' ? 'refused' : 'error', err);
      }
      this.reset('output');
    });
    upstream.on('close', () => this.finish());
  }

  /** Closes both sides at once: the entry expired, or the plane is shutting down. */
  destroy(): void {
    this.clearConnectTimer();
    this.client.destroy();
    this.upstream?.destroy();
    this.finish();
  }

  get live(): boolean {
    return !this.finished;
  }

  private wire(from: net.Socket, to: net.Socket, direction: 'input' | 'output'): void {
    const { conn, engine } = this;
    from.on('data', (chunk: Buffer) => {
      engine.countPackets(conn, direction, 1, chunk.length);
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => {
      engine.packet(conn, direction, 0, { fin: true, ack: true });
      if (direction === 'input') this.clientEnded = true;
      else this.upstreamEnded = true;
      to.end();
      if (this.clientEnded && this.upstreamEnded) engine.packet(conn, direction === 'input' ? 'output' : 'input', 0, { ack: true });
    });
  }

  /** An error on one side: the kernel would see a RST from it. */
  private reset(direction: 'input' | 'output'): void {
    if (this.finished) return;
    this.clearConnectTimer();
    this.engine.packet(this.conn, direction, 0, { rst: true });
    this.client.destroy();
    this.upstream?.destroy();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer === null) return;
    clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private finish(): void {
    if (this.finished) return;
    if (!this.client.destroyed && !this.client.closed) return;
    if (this.upstream !== null && !this.upstream.destroyed && !this.upstream.closed) return;
    this.finished = true;
    this.clearConnectTimer();
    this.events.closed(this);
  }
}
