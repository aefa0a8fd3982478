// What a drill needs of the cluster it runs against, whatever runs it: the loopback lab
// (every node a process on 127.0.0.0/8, no root) or namespaces of the drill's own (root:
// a real VIP on a bridge, gratuitous ARP, a client in a namespace of its own).
import type { HadConfig } from '../config/model';
import type { ClientSample, SessionSample } from './report';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** TCP unless said. */
  readonly udp?: boolean;
}

/** The drill's time: ms since it began (monotonic), and the wall clock then, for what another process timed. */
export interface DrillTime {
  nowMs(): number;
  readonly t0Wall: number;
}

/** The drill's clients: started after warm-up begins, stopped once the cluster settled again. */
export interface DrillTraffic {
  start(): void;
  /** Stops sending; resolves once every request has its answer or its error. */
  stop(): Promise<void>;
  /** Every request, in the order sent. */
  readonly samples: readonly ClientSample[];
}

/** The persistent clients: several, each from its own source address. */
export interface SessionTraffic extends DrillTraffic {
  readonly samples: readonly SessionSample[];
}

export interface DrillClients {
  /** Requests through the VIP at a fixed rate. */
  traffic(time: DrillTime, everyMs: number): DrillTraffic;
  /**
   * Sessions: clients each from its own source address (on loopback only, where every
   * 127/8 address is this host's), each on a new connection every time, or `longLived`,
   * each on one connection kept open.
   */
  sessions?(time: DrillTime, everyMs: number, longLived: boolean): SessionTraffic | undefined;
  /** UDP flows, each from its own source address and port, through the first UDP virtual service (on loopback only). */
  flows?(time: DrillTime, everyMs: number): SessionTraffic | undefined;
}

export interface DrillCluster {
  /** Every node of the cluster block, directors and witnesses. */
  readonly nodes: readonly string[];
  /** The configuration as the first node reads it (the cluster block is everyone's). */
  readonly config: HadConfig;
  /** The file the nodes run (the drill's own copy, which a scenario may break and mend). */
  readonly configFile: string;
  /** Where the nodes' logs and control sockets are. */
  readonly dir: string;
  /** The TCP virtual service the clients use. */
  readonly vip: Endpoint;
  /** The real servers, by `ADDRESS:PORT`. */
  readonly reals: ReadonlyMap<string, Endpoint>;
  /** Real servers, then nodes. */
  start(): Promise<void>;
  /** Every node asked to stop, every real server closed, everything the drill made removed. */
  stop(): Promise<void>;
  socket(node: string): string;
  log(node: string): string;
  startNode(node: string): void;
  /** Undoes what a fence did to the node's host besides ending its process (its links taken down), as switching it on would. */
  powerOn(node: string): Promise<void>;
  running(node: string): boolean;
  /** Resolves once the node exited, for a signal that ends it. */
  signal(node: string, signal: NodeJS.Signals): Promise<void>;
  startReal(name: string): Promise<void>;
  /** Closes a real server and its open connections, as a crash would. */
  stopReal(name: string): Promise<void>;
  /** Drops every packet between two nodes, both ways; undefined when done, else why it cannot be. */
  cutLink(a: string, b: string): Promise<string | undefined>;
  /** Undoes every cutLink. */
  restoreLinks(): Promise<void>;
  /**
   * The nodes the kernel says still serve the VIP (its address on their interface, or
   * their listener bound on it), whatever they answer: a frozen director still holds what
   * it held.
   */
  vipHolders(): Promise<ReadonlySet<string>>;
  /** The drill's clients of its virtual services. */
  readonly clients: DrillClients;
  /** Why a scenario cannot be drilled against this cluster, or undefined. */
  cannot?(scenario: string): string | undefined;
  /**
   * Sets a node's wall clock this far from the host's (its monotonic clock runs on), as
   * an NTP step would; only for a cluster started with clocks it can shift (libfaketime).
   */
  shiftClock?(node: string, offsetMs: number): Promise<string | undefined>;
  /** Which node's MAC the client's neighbour entry for the VIP holds (namespaces only). */
  clientNeighbour?(): Promise<string | undefined>;
}
