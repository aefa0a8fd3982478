// What the readers of the cluster envelope (envelope.ts, and sync/wire.ts for its Sync
// bodies) accept of what protobufjs decoded: integers (a number for 32-bit fields, a Long
// for 64-bit ones) and the bound on names.

/** Node, cluster, link and instance names, at most. */
export const nameMaxChars = 64;

/** A non-negative integer that a number holds exactly (32-bit fields). */
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

interface LongLike {
  readonly low: number;
  readonly high: number;
}

const isLongLike = (v: unknown): v is LongLike => typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';

/** A non-negative integer that a number holds exactly, or undefined for anything else. */
export function wireCount(v: unknown): number | undefined {
  if (typeof v === 'number') return isCount(v) ? v : undefined;
  if (!isLongLike(v)) return undefined;
  const high = v.high >>> 0;
  // Past 2^53 a number is no longer exact.
  return high < 0x200000 ? high * 0x1_0000_0000 + (v.low >>> 0) : undefined;
}
