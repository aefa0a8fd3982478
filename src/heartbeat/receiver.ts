// The gate every cluster datagram passes: authentic, of our cluster and protocol version,
// from a configured node that is not us, and not seen before in its sender's boot epoch
// (a 64-wide window takes reordering across links). Everything else is dropped and
// counted by reason; nothing here throws.
import { decodeEnvelope, protocolVersion, type ClusterKey, type DecodeFailure, type Envelope } from './envelope';

export const replayWindow = 64;

export type DropReason = DecodeFailure | 'version' | 'foreign-cluster' | 'unknown-node' | 'from-self' | 'replay' | 'old-epoch';

export const dropReasons: readonly DropReason[] = ['oversize', 'short', 'bad-tag', 'malformed', 'version', 'foreign-cluster', 'unknown-node', 'from-self', 'replay', 'old-epoch'];

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

  /**
   * `provesFresh`: whether an envelope from an older epoch shows it was sent now, by
   * echoing a timestamp we sent moments ago. A node restarted with its clock stepped
   * back has a lower epoch; a recorded old datagram cannot echo what we just sent.
   */
  constructor(
    private readonly clusterId: string,
    private readonly key: ClusterKey,
    private readonly nodes: ReadonlySet<string>,
    private readonly self: string,
    private readonly provesFresh: (e: Envelope) => boolean = () => false,
  ) {}

  /** The envelope, or the reason it was dropped (already counted). */
  accept(datagram: Uint8Array): Envelope | DropReason {
    const decoded = decodeEnvelope(datagram, this.key);
    const verdict = typeof decoded === 'string' ? decoded : this.check(decoded);
    if (typeof verdict === 'string') {
      this.dropped.set(verdict, (this.dropped.get(verdict) ?? 0) + 1);
      return verdict;
    }
    this.accepted++;
    return verdict;
  }

  private check(e: Envelope): Envelope | DropReason {
    if (e.version !== protocolVersion) return 'version';
    if (e.clusterId !== this.clusterId) return 'foreign-cluster';
    if (e.sender === this.self) return 'from-self';
    if (!this.nodes.has(e.sender)) return 'unknown-node';
    return this.fresh(e) ? e : this.staleReason(e);
  }

  private staleReason(e: Envelope): DropReason {
    const w = this.windows.get(e.sender);
    return w !== undefined && e.bootEpoch !== w.epoch ? 'old-epoch' : 'replay';
  }

  /** Records the sequence when it is new for its sender's epoch. */
  private fresh(e: Envelope): boolean {
    const w = this.windows.get(e.sender);
    if (w === undefined || e.bootEpoch > w.highestEpoch || (e.bootEpoch !== w.epoch && this.provesFresh(e))) {
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
