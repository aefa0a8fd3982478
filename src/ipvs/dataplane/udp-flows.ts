// UDP through the userspace plane: one socket on the VIP, and per client flow (the
// engine's entry) one socket towards its real server, so replies can be told apart and
// sent back to the client from the VIP. A flow lives as long as its entry: the udp
// timeout after its last datagram.
import dgram from 'node:dgram';
import { parseIpAddr, type IpAddr } from '../address';
import type { Connection } from '../conn/connection';
import type { IpvsEngine } from '../engine';

export const udpFlowsMax = 16_384;

export interface UdpEvents {
  dropped(reason: 'no-destination' | 'too-many-flows' | 'table-full', from: string): void;
}

interface Flow {
  readonly conn: Connection;
  readonly upstream: dgram.Socket;
}

export class UdpService {
  private readonly flows = new Map<Connection, Flow>();

  constructor(
    private readonly socket: dgram.Socket,
    private readonly vaddr: IpAddr,
    private readonly vport: number,
    private readonly engine: IpvsEngine,
    private readonly events: UdpEvents,
  ) {
    socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /** The entry expired: its flow ends with it. */
  expired(conn: Connection): void {
    const flow = this.flows.get(conn);
    if (flow === undefined) return;
    this.flows.delete(conn);
    flow.upstream.close();
  }

  close(): void {
    for (const flow of this.flows.values()) flow.upstream.close();
    this.flows.clear();
    this.socket.close();
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const caddr = parseIpAddr(rinfo.address);
    if (caddr === undefined) return;
    const r = this.engine.connect({ protocol: 'udp', caddr, cport: rinfo.port, vaddr: this.vaddr, vport: this.vport });
    if (!r.ok) {
      this.events.dropped(r.reason === 'table-full' ? 'table-full' : 'no-destination', `${rinfo.address}:${rinfo.port}`);
      return;
    }
    let flow = this.flows.get(r.conn);
    if (flow === undefined) {
      if (this.flows.size >= udpFlowsMax) {
        if (r.created) this.engine.drop(r.conn);
        this.events.dropped('too-many-flows', `${rinfo.address}:${rinfo.port}`);
        return;
      }
      flow = this.openFlow(r.conn, rinfo);
    }
    this.engine.packet(r.conn, 'input', msg.length);
    flow.upstream.send(msg, r.conn.dport, r.conn.daddr.text);
  }

  private openFlow(conn: Connection, client: dgram.RemoteInfo): Flow {
    const upstream = dgram.createSocket(conn.daddr.family === 6 ? 'udp6' : 'udp4');
    upstream.on('error', () => {
      // An ICMP error from the real server (refused port): the datagram is lost, as it
      // would be through the kernel; the flow stays until its entry expires.
    });
    upstream.on('message', (reply, from) => {
      if (from.port !== conn.dport || from.address !== conn.daddr.text) return;
      this.engine.packet(conn, 'output', reply.length);
      this.socket.send(reply, client.port, client.address);
    });
    const flow = { conn, upstream };
    this.flows.set(conn, flow);
    return flow;
  }
}
