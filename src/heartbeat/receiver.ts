// The gate every cluster datagram passes: authentic, of our cluster and protocol version,
// from a configured node that is not us, and not seen before in its sender's boot epoch
// (a 64-wide window takes reordering across links). Everything else is dropped and
// counted by reason; nothing here throws.
import { decodeEnvelope, protocolVersion, type ClusterKey, type DecodeFailure, type Envelope } from './envelope';

export const replayWindow = 64;

/** `after-leave`: sent before the sender's leave and overtaken by it (the cluster node drops these). */
export type DropReason = DecodeFailure | 'version' | 'foreign-cluster' | 'unknown-node' | 'from-self' | 'replay' | 'old-epoch' | 'after-leave';

export const dropReasons: readonly DropReason[] = ['oversize', 'short', 'bad-tag', 'malformed', 'version', 'foreign-cluster', 'unknown-node', 'from-self', 'replay', 'old-epoch', 'after-leave'];

interface SenderWindow {
  epoch: number;
  /** The highest epoch ever seen: an epoch at or below it must prove itself fresh. */
  highestEpoch: number;
  highest: number;
  /** Bit i set: sequence highest - i was seen (i < 64). */
  seen: bigint;
}

const fullMask = (1n << BigInt(replayWindow)) - 1n;

export class Receiver {
  readonly dropped = new Map<DropReason, number>(dropReasons.map((r) => [r, 0]));
  accepted = 0;
  private readonly windows = new Map<string, SenderWindow>();

  constructor(
    private readonly clusterId: string,
    private readonly key: ClusterKey,
    private readonly nodes: ReadonlySet<string>,
    private readonly self: string,
  ) {}

  /**
   * The envelope, or the reason it was dropped (already counted). `recentSends`: the send
   * times of our latest heartbeats to each peer. An envelope from an older epoch is taken
   * when it echoes one of them: it was sent now. A node restarted with its clock stepped
   * back has a lower epoch; a recorded old datagram cannot echo what we just sent.
   */
  accept(datagram: Uint8Array, recentSends: ReadonlyMap<string, readonly number[]> = new Map()): Envelope | DropReason {
    const decoded = decodeEnvelope(datagram, this.key);
    const verdict = typeof decoded === 'string' ? decoded : this.check(decoded, recentSends);
    if (typeof verdict === 'string') return this.count(verdict);
    this.accepted++;
    return verdict;
  }

  /** Counts a datagram dropped for `reason`, here or by the caller after a look inside. */
  count(reason: DropReason): DropReason {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
    return reason;
  }

  private check(e: Envelope, recentSends: ReadonlyMap<string, readonly number[]>): Envelope | DropReason {
    if (e.version !== protocolVersion) return 'version';
    if (e.clusterId !== this.clusterId) return 'foreign-cluster';
    if (e.sender === this.self) return 'from-self';
    if (!this.nodes.has(e.sender)) return 'unknown-node';
    return this.fresh(e, recentSends) ? e : this.staleReason(e);
  }

  private echoesRecentSend(e: Envelope, recentSends: ReadonlyMap<string, readonly number[]>): boolean {
    const hb = e.heartbeat;
    return hb !== undefined && hb.to === this.self && hb.echoOriginWallUs > 0 && (recentSends.get(e.sender) ?? []).includes(hb.echoOriginWallUs);
  }

  private staleReason(e: Envelope): DropReason {
    const w = this.windows.get(e.sender);
    return w !== undefined && e.bootEpoch !== w.epoch ? 'old-epoch' : 'replay';
  }

  /** Records the sequence when it is new for its sender's epoch. */
  private fresh(e: Envelope, recentSends: ReadonlyMap<string, readonly number[]>): boolean {
    const w = this.windows.get(e.sender);
    if (w === undefined || e.bootEpoch > w.highestEpoch || (e.bootEpoch !== w.epoch && this.echoesRecentSend(e, recentSends))) {
      this.windows.set(e.sender, { epoch: e.bootEpoch, highestEpoch: Math.max(e.bootEpoch, w?.highestEpoch ?? 0), highest: e.sequence, seen: 1n });
      return true;
    }
    if (e.bootEpoch !== w.epoch) return false;
    if (e.sequence > w.highest) {
      const shift = e.sequence - w.highest;
      w.seen = shift >= replayWindow ? 1n : ((w.seen << BigInt(shift)) | 1n) & fullMask;
      w.highest = e.sequence;
      return true;
    }
    const age = w.highest - e.sequence;
    if (age >= replayWindow) return false;
    const bit = 1n << BigInt(age);
    if ((w.seen & bit) !== 0n) return false;
    w.seen |= bit;
    return true;
  }
}
