// The cluster links over UDP: one socket per link this node has an address on, bound to
// that address and the link's port. Heartbeats go unicast to each peer's address on the
// link, or to the link's multicast group when it has one. Datagrams are handed up as they
// come; the receive gate decides what they are worth.
import dgram from 'node:dgram';
import os from 'node:os';
import type { ClusterConfig, LinkConfig, NodeConfig } from '../cluster/config';

export const linkReceiveBufferBytes = 4 << 20;

export interface LinkSocketError {
  readonly link: string;
  readonly error: Error;
}

/**
 * What a failed send says of this node's own side of a link: its interface is down, or
 * its address gone (an isolating fence, a pulled cable), rather than a peer being away.
 */
const localLinkErrors = new Set(['ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL']);

interface OpenLink {
  readonly config: LinkConfig;
  readonly socket: dgram.Socket;
}

export class UdpLinks {
  private readonly open = new Map<string, OpenLink>();
  /** Links whose last send failed for a local reason. */
  private readonly down = new Set<string>();
  private listedAtStart = new Set<string>();
  /** peer → link → where to send. */
  private readonly targets = new Map<string, Map<string, { address: string; port: number }>>();
  private inFlight = 0;

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly self: NodeConfig,
    private readonly onDatagram: (datagram: Buffer, link: string) => void,
    private readonly onError: (e: LinkSocketError) => void,
    /** A send on a link failed for a local reason (its interface down, its address gone), or one succeeded again. */
    private readonly onLinkState: (link: string, up: boolean) => void = () => undefined,
  ) {
    for (const n of cluster.nodes) {
      if (n.name === self.name) continue;
      const byLink = new Map<string, { address: string; port: number }>();
      for (const a of n.addresses) byLink.set(a.link, { address: a.address, port: a.port });
      this.targets.set(n.name, byLink);
    }
  }

  /** The links this node takes part in: those it has an address on. */
  get links(): string[] {
    return this.self.addresses.map((a) => a.link);
  }

  async start(): Promise<void> {
    this.listedAtStart = listedAddresses();
    for (const a of this.self.addresses) {
      const config = this.cluster.links.find((l) => l.name === a.link);
      if (config === undefined) continue;
      const socket = dgram.createSocket({ type: a.family === 6 ? 'udp6' : 'udp4', reuseAddr: config.mcastGroup !== undefined });
      socket.on('message', (msg, from) => {
        // A multicast group loops our own datagrams back to us: not news.
        if (from.address === a.address && from.port === a.port) return;
        this.onDatagram(msg, a.link);
      });
      socket.on('error', (error) => this.onError({ link: a.link, error }));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        // A multicast link binds the wildcard address so the group's datagrams arrive.
        socket.bind(a.port, config.mcastGroup !== undefined ? undefined : a.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      // Connection-table sync comes in bursts (docs/protocol.md): room for them, as far as
      // net.core.rmem_max allows.
      try {
        socket.setRecvBufferSize(linkReceiveBufferBytes);
      } catch {
        // Left at the system's default.
      }
      if (config.mcastGroup !== undefined) {
        socket.addMembership(config.mcastGroup, a.address);
        socket.setMulticastTTL(config.ttl);
        socket.setMulticastInterface(a.address);
        socket.setMulticastLoopback(true);
      }
      this.open.set(a.link, { config, socket });
    }
  }

  /** One datagram to some peers on a link: once to a multicast link's group. */
  send(peers: readonly string[], link: string, datagram: Buffer): void {
    const [first] = peers;
    if (first !== undefined && this.open.get(link)?.config.mcastGroup !== undefined) this.sendTo(first, link, datagram);
    else for (const peer of peers) this.sendTo(peer, link, datagram);
  }

  private sendTo(peer: string, link: string, datagram: Buffer): void {
    const open = this.open.get(link);
    if (open === undefined) return;
    const group = open.config.mcastGroup;
    const target = group !== undefined ? { address: group, port: open.config.port } : this.targets.get(peer)?.get(link);
    if (target === undefined) return;
    this.inFlight++;
    // A datagram that cannot leave is lost, as on the wire: the failure detector sees it.
    open.socket.send(datagram, target.port, target.address, (err) => {
      this.inFlight--;
      // Every local failure says so (a node told it may act again learns anew); a success, once.
      if (err !== null && localLinkErrors.has((err as NodeJS.ErrnoException).code ?? '')) {
        this.down.add(link);
        this.onLinkState(link, false);
      } else if (err === null && this.down.delete(link)) {
        this.onLinkState(link, true);
      }
    });
  }

  /**
   * The links whose address is on no interface that is up: an interface set down (an
   * isolating fence) takes its addresses out of what the system lists. Only addresses
   * listed at start are judged (127.0.0.11 is served by lo without being listed).
   */
  linksDown(): string[] {
    const present = listedAddresses();
    return this.self.addresses.filter((a) => this.listedAtStart.has(a.address) && !present.has(a.address)).map((a) => a.link);
  }

  receiveBufferBytes(link: string): number | undefined {
    try {
      return this.open.get(link)?.socket.getRecvBufferSize();
    } catch {
      return undefined;
    }
  }

  /** Closes the sockets once what was sent has left (a last priority-0 advert), or after 200 ms. */
  async close(): Promise<void> {
    for (let waited = 0; this.inFlight > 0 && waited < 200; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const { socket } of this.open.values()) socket.close();
    this.open.clear();
  }
}

/** The addresses on the interfaces that are up, as the system lists them. */
function listedAddresses(): Set<string> {
  return new Set(Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
}
