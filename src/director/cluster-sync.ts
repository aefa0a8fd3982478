// Connection-table replication on a director: the engine's table changes go out to the
// other directors in batches, their tables come in as copies, and a takeover loads the
// copies' entries for the instance's addresses into the engine before the addresses
// come up. Messages ride in the cluster envelope on the sync link (the transport).
import type { Clock, TimerHandle } from '../common/clock';
import type { Logger } from '../common/log';
import type { Connection } from '../ipvs/conn/connection';
import type { AdoptResult, IpvsEngine } from '../ipvs/engine';
import { describeCopy, SyncEndpoint, type CopyStatus, type SyncSettings } from '../sync/endpoint';
import type { SyncEntry, SyncKey } from '../sync/entry';
import { newSync } from '../sync/config';
import { everyPeer, type Outgoing } from '../sync/messages';
import type { PeerLag } from '../sync/sender';
import type { SyncBody } from '../sync/wire';

/** Changes wait at most this long to go out, so a burst leaves in full batches. */
export const syncFlushMs = 10;
/** Batches sent in one turn of the event loop: the data plane gets its turn between. */
const flushBatchesMax = 16;
/** Entries a takeover loads in one turn of the event loop. */
export const adoptSliceEntries = 2000;

/**
 * What a batch costs in a socket's receive buffer: a batch of 256 IPv4 entries is about
 * 17 KB, and the kernel charges a datagram more than its bytes (about 1 KB more on
 * loopback, up to about twice its bytes once fragmented on the wire).
 */
const batchChargeBytes = 34 * 1024;

/** Carries sync messages to the other directors (the cluster node, on its sync link). */
export interface SyncTransport {
  sendSync(body: SyncBody): void;
  /** The receive buffer of the socket sync arrives on, as the kernel granted it. */
  syncReceiveBufferBytes?(): number | undefined;
}

export interface SyncStatus {
  readonly epoch: number;
  readonly lastSeq: number;
  readonly pendingChanges: number;
  /** Each peer's lag behind this director's stream. */
  readonly peers: Array<PeerLag & { readonly peer: string }>;
  /** This director's copy of each peer's table. */
  readonly copies: CopyStatus[];
  readonly sent: { readonly batches: number; readonly resent: number; readonly snapshots: number; readonly coalesced: number };
}

function keyOf(conn: Connection): SyncKey {
  return { protocol: conn.protocol, caddr: conn.caddrText, cport: conn.cport, vaddr: conn.vaddr, vport: conn.vport };
}

/** An entry as replication carries it; spelt out rather than spread from keyOf, as it runs for every change. */
function entryOf(conn: Connection, nowMs: number): SyncEntry {
  return {
    protocol: conn.protocol,
    caddr: conn.caddrText,
    cport: conn.cport,
    vaddr: conn.vaddr,
    vport: conn.vport,
    daddr: conn.daddr.text,
    dport: conn.dport,
    state: conn.state,
    template: conn.template,
    remainingMs: Math.max(0, conn.expiresAtMs - nowMs),
  };
}

export class ClusterSync {
  private readonly endpoint: SyncEndpoint<Connection>;
  private flushTimer: TimerHandle | undefined;
  private tickTimer: TimerHandle | undefined;
  private transport: SyncTransport | undefined;
  /** Addresses of takeovers still loading, each with how many. */
  private readonly adopting = new Map<string, number>();
  private readonly loaders = new Set<TimerHandle>();
  /** Instance and holder → since when a preemption has waited for the copy, and whether it stopped waiting. */
  private readonly holding = new Map<string, { readonly sinceMs: number; gaveUp: boolean }>();

  constructor(
    private readonly engine: IpvsEngine,
    self: string,
    peers: readonly string[],
    private readonly clock: Clock,
    private readonly log: Logger,
    settings: Partial<SyncSettings> = {},
    /** How long a director that would preempt waits for a whole copy of the holder's table. */
    private readonly preemptWaitMs = newSync().preemptWaitMs,
  ) {
    const table = engine.conns;
    this.endpoint = new SyncEndpoint<Connection>({
      self,
      peers,
      clock,
      epoch: Math.round(clock.wallMs()),
      settings,
      snapshot: () => [...table.entries()],
      items: {
        entry: (conn, nowMs) => (table.holds(conn) ? entryOf(conn, nowMs) : undefined),
        key: keyOf,
        identity: (conn) => conn,
      },
    });
  }

  /** Starts streaming the engine's changes. */
  start(transport: SyncTransport): void {
    this.transport = transport;
    // Peers keep no more batches in flight to this director than its socket holds: with
    // net.core.rmem_max at its usual 208 KiB, about 12, not the 128 of a 4 MiB buffer.
    const bufferBytes = transport.syncReceiveBufferBytes?.();
    if (bufferBytes !== undefined && bufferBytes > 0) this.endpoint.receiveWindowBatches = Math.max(1, Math.floor(bufferBytes / batchChargeBytes));
    this.engine.conns.observer = {
      changed: (conn) => {
        this.endpoint.sender.upsert(conn);
        this.scheduleFlush();
      },
      removed: (conn) => {
        this.endpoint.sender.expire(conn);
        this.scheduleFlush();
      },
    };
    // Acks, requests asked again, and the first requests for the peers' tables go out on the tick.
    this.scheduleTick();
  }

  stop(): void {
    this.engine.conns.observer = undefined;
    this.engine.pendingAdoption = undefined;
    for (const timer of this.loaders) this.clock.clearTimeout(timer);
    this.loaders.clear();
    this.adopting.clear();
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    if (this.tickTimer !== undefined) this.clock.clearTimeout(this.tickTimer);
    this.transport = undefined;
  }

  receive(sender: string, body: SyncBody): void {
    this.send(this.endpoint.receive(sender, body.message));
  }

  /**
   * Before this director serves `addresses`: the copies become its table. A first slice
   * of their entries goes into the engine at once (a small table, all of it); the rest
   * a slice per turn of the event loop, and meanwhile a packet whose entry is not loaded
   * yet finds it in the copies (the engine adopts it on the spot). So the addresses come
   * up after a slice, not after millions, and the first packet finds its entry.
   */
  takeOver(instance: string, addresses: readonly string[]): void {
    const startedMs = this.clock.nowMs();
    const wanted = new Set(addresses);
    for (const a of addresses) this.adopting.set(a, (this.adopting.get(a) ?? 0) + 1);
    this.engine.pendingAdoption = (protocol, caddr, cport, vaddr, vport) =>
      this.adopting.has(vaddr) || (vaddr.startsWith('fwmark:') && this.adopting.size > 0) ? this.endpoint.lookup({ protocol, caddr: caddr.text, cport, vaddr, vport }) : undefined;
    const entries = this.endpoint.takeover((e) => wanted.has(e.vaddr) || e.vaddr.startsWith('fwmark:'));
    const results = new Map<AdoptResult, number>();
    const step = (): void => {
      for (let n = 0; n < adoptSliceEntries; n++) {
        const next = entries.next();
        if (next.done === true) {
          finish();
          return;
        }
        const r = this.engine.adopt(next.value);
        results.set(r, (results.get(r) ?? 0) + 1);
      }
      const timer = this.clock.setTimeout(() => {
        this.loaders.delete(timer);
        step();
      }, 0);
      this.loaders.add(timer);
    };
    const finish = (): void => {
      for (const a of addresses) {
        const left = (this.adopting.get(a) ?? 1) - 1;
        if (left > 0) this.adopting.set(a, left);
        else this.adopting.delete(a);
      }
      if (this.adopting.size === 0) this.engine.pendingAdoption = undefined;
      const loaded = results.get('loaded') ?? 0;
      const skipped = [...results].filter(([r]) => r !== 'loaded').map(([r, n]) => `${n} ${r}`);
      const copies = this.endpoint.copyStatus().map((c) => `${c.peer} ${c.inSync ? 'in sync' : describeCopy(c)}`);
      this.log.info(
        `${instance}: loaded ${loaded} connection entries from the copies (${copies.join(', ') || 'no peers'}) in ${Math.round(this.clock.nowMs() - startedMs)} ms${skipped.length > 0 ? `; not loaded: ${skipped.join(', ')}` : ''}`,
        { component: 'sync' },
      );
    };
    step();
  }

  /** The copies' live entries for `addresses` (and fwmark services), templates first: what a takeover loads. */
  copied(addresses: readonly string[]): Iterable<SyncEntry> {
    const wanted = new Set(addresses);
    return this.endpoint.takeover((e) => wanted.has(e.vaddr) || e.vaddr.startsWith('fwmark:'));
  }

  /**
   * Why `instance` must not preempt `holder` yet: this director's copy of the holder's
   * table is not whole (it has just started, or the holder restarted). Preempting now
   * would serve the holder's clients from an empty table. After `preempt_wait` it
   * preempts anyway, and says with what.
   */
  preemptHold(instance: string, holder: string): string | undefined {
    const copy = this.endpoint.copyStatus().find((c) => c.peer === holder);
    if (copy === undefined) return undefined;
    const key = `${instance} ${holder}`;
    const wait = this.holding.get(key);
    if (copy.inSync) {
      if (wait !== undefined) {
        this.holding.delete(key);
        this.log.info(`${instance}: the copy of ${holder}'s connection table is whole (${copy.entries} entries): may preempt`, { component: 'sync' });
      }
      return undefined;
    }
    const now = this.clock.nowMs();
    if (wait === undefined) {
      this.holding.set(key, { sinceMs: now, gaveUp: false });
      this.log.info(`${instance}: waits for a whole copy of ${holder}'s connection table before preempting it`, { component: 'sync' });
    } else if (now - wait.sinceMs >= this.preemptWaitMs) {
      if (!wait.gaveUp) {
        wait.gaveUp = true;
        this.log.warn(`${instance}: preempting ${holder} after ${Math.round(this.preemptWaitMs)} ms without a whole copy of its connection table: ${describeCopy(copy)}`, { component: 'sync' });
      }
      return undefined;
    }
    return `waiting for a whole copy of ${holder}'s connection table: ${describeCopy(copy)}`;
  }

  status(): SyncStatus {
    const sender = this.endpoint.sender;
    return {
      epoch: this.endpoint.epoch,
      lastSeq: sender.lastSeq,
      pendingChanges: sender.pendingChanges,
      peers: this.endpoint.lags(),
      copies: this.endpoint.copyStatus(),
      sent: { batches: sender.lastSeq, resent: sender.resentBatches, snapshots: sender.snapshotsServed, coalesced: sender.coalesced },
    };
  }

  /** Sends every pending change now, whatever the window: before letting go of the addresses at a stop. */
  flushNow(): void {
    this.flush(Number.POSITIVE_INFINITY, true);
  }

  private flush(maxBatches: number, ignoreWindow: boolean): void {
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.send(this.endpoint.flush(maxBatches, ignoreWindow));
    // More than one turn's worth, or the window is full: the rest goes a moment later,
    // coalescing what changes meanwhile.
    if (this.endpoint.sender.pendingChanges > 0) this.scheduleFlush(1);
  }

  private scheduleFlush(ms = syncFlushMs): void {
    if (this.flushTimer === undefined && this.transport !== undefined) this.flushTimer = this.clock.setTimeout(() => this.flush(flushBatchesMax, false), ms);
  }

  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      this.send(this.endpoint.tick());
      this.scheduleTick();
    }, this.endpoint.settings.retryMs);
  }

  private send(out: readonly Outgoing[]): void {
    const transport = this.transport;
    if (transport === undefined) return;
    for (const o of out) transport.sendSync({ to: o.to === everyPeer ? '' : o.to, message: o.message });
  }
}
