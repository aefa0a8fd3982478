// What trackers do to an instance, with keepalived's semantics: a tracker without a
// weight puts the instance in FAULT while it fails; a positive weight is added while it
// is up, a negative one while it is down; `reverse` turns the adjustment's sign. A file
// tracker adds its value times the weight (weight 0: any value but 0 means FAULT; a sum
// of -254 or less means FAULT too). The address owner's priority (255) never moves, and
// any other stays within 1..254. Another source (host health) may add its own weight and
// FAULT reasons: they count as one more tracker's, inside the same clamp.

export type TrackKind = 'interface' | 'script' | 'file' | 'process';

export interface TrackBinding {
  readonly kind: TrackKind;
  readonly name: string;
  /** 0: FAULT while failing. */
  readonly weight: number;
  readonly reverse: boolean;
}

/** A tracker's latest reading: up or down, or (a file) a number. */
export type TrackReading = { readonly up: boolean } | { readonly value: number };

export interface TrackOutcome {
  readonly priority: number;
  /** Why the instance must be in FAULT; empty when it need not. */
  readonly faults: readonly string[];
}

/** What a source other than the trackers adds: a weight (0 or negative), and reasons for FAULT. */
export interface ExtraWeight {
  readonly weight: number;
  readonly faults: readonly string[];
}

export const noExtraWeight: ExtraWeight = { weight: 0, faults: [] };

export const ownerPriority = 255;
const lowestFileSum = -254;

export function trackedPriority(base: number, bindings: readonly TrackBinding[], read: (b: TrackBinding) => TrackReading | undefined, extra: ExtraWeight = noExtraWeight): TrackOutcome {
  let sum = extra.weight;
  const faults: string[] = [];
  for (const b of bindings) {
    const reading = read(b);
    if (reading === undefined) continue;
    const sign = b.reverse ? -1 : 1;
    const label = `track_${b.kind} ${b.name}`;
    if ('value' in reading) {
      if (b.weight === 0) {
        if (reading.value !== 0) faults.push(`${label} reads ${reading.value}`);
        continue;
      }
      const add = reading.value * b.weight * sign;
      if (add <= lowestFileSum) faults.push(`${label} reads ${reading.value} (× weight ${b.weight * sign} = ${add})`);
      else sum += add;
      continue;
    }
    if (b.weight === 0) {
      if (!reading.up) faults.push(`${label} is down`);
    } else if (b.weight > 0 ? reading.up : !reading.up) {
      sum += b.weight * sign;
    }
  }
  faults.push(...extra.faults);
  if (base === ownerPriority) return { priority: base, faults };
  return { priority: Math.min(ownerPriority - 1, Math.max(1, base + sum)), faults };
}
