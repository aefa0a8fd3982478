// What a drill records, in time order, in milliseconds since the drill started: each
// director as the drill sampled it over its control socket (and what the kernel says it
// still serves), each client request, session, connection and UDP datagram, the client's
// neighbour entry in namespaces, and the drill's own events (the fault, the heal) with
// the fences the directors reported. This is report.json; the verdict and the timeline
// picture read nothing else.
import type { VrrpState } from '../vrrp/instance';

export interface DirectorSample {
  readonly tMs: number;
  readonly node: string;
  /** `down`: its control socket did not answer (killed, frozen, not started); `none`: it runs no instance (a witness). */
  readonly state: VrrpState | 'down' | 'none';
  /** Whether it said it holds the VIP; unknown while down. */
  readonly holdsVip?: boolean;
  /** Whether the kernel says its host still serves the VIP (its address, or its listener), answering or not. */
  readonly vipOnHost?: boolean;
  readonly quorate?: boolean;
  /** Past its start-up: it has heard every peer, or initdead has passed (until then it takes nothing over). */
  readonly settled?: boolean;
  readonly dc?: string;
  /** The peers it counts dead. */
  readonly peersDown?: readonly string[];
  /** How long the oldest change it sent has waited for a peer's acknowledgement (connection sync), in ms. */
  readonly syncLagMs?: number;
  /** Its copy of each peer's connection table is whole and current. */
  readonly copiesWhole?: boolean;
  /** The peers whose clock it finds too far from its own (skew_warn, skew_critical). */
  readonly skews?: ReadonlyArray<{ readonly peer: string; readonly level: 'warn' | 'critical' }>;
}

export interface ClientSample {
  readonly tMs: number;
  readonly ok: boolean;
  /** The real server that answered. */
  readonly server?: string;
  readonly latencyMs?: number;
  readonly error?: string;
}

/** A request of a session: one of several clients, each from its own source address, each kept on one real server by persistence. */
export interface SessionSample extends ClientSample {
  /** The client's source address. */
  readonly client: string;
  /** The connection it went on, numbered as first seen (long-lived clients keep theirs). */
  readonly connection?: number;
}

/** The director whose MAC the client's neighbour entry for the VIP held (namespaces only). */
export interface NeighbourSample {
  readonly tMs: number;
  /** Undefined: no entry, or a MAC of no director. */
  readonly node?: string;
}

export type DrillEventKind = 'fault' | 'heal' | 'fence';

export interface DrillEvent {
  readonly tMs: number;
  readonly kind: DrillEventKind;
  /** The director it concerns: the one faulted, healed, or fenced. */
  readonly node?: string;
  readonly detail: string;
}

export interface DrillReport {
  readonly scenario: string;
  /** Wall-clock start, for the reader; every tMs is monotonic from it. */
  readonly startedAt: string;
  readonly durationMs: number;
  /** Master_Down_Interval of the instance the drill watches, for the outage bound. */
  readonly masterDownIntervalMs: number;
  readonly directors: readonly DirectorSample[];
  readonly clients: readonly ClientSample[];
  /** The persistent clients' requests, each on a new connection (on loopback). */
  readonly sessions?: readonly SessionSample[];
  /** The long-lived clients' requests, each client on one kept-alive connection (on loopback). */
  readonly connections?: readonly SessionSample[];
  /** The UDP flows' datagrams, each flow a source address and port of its own (on loopback, with a UDP virtual service). */
  readonly flows?: readonly SessionSample[];
  /** Whether the data plane keeps an established connection through a takeover (kernel forwarding); the userspace relay does not. */
  readonly keepsConnections?: boolean;
  /** Whether the directors copy their connection tables (sync), so a session should survive a takeover. */
  readonly sync?: boolean;
  /** host_health's hold time: a director whose host was red takes no VIP back before it. */
  readonly hostHoldMs?: number;
  /** The client's neighbour entry for the VIP, when the drill runs in namespaces. */
  readonly neighbours?: readonly NeighbourSample[];
  readonly events: readonly DrillEvent[];
}
