// Maglev hashing (ip_vs_mh.c; Eisenbud et al., NSDI 2016, §3.4): each destination gets a
// permutation of the 4093 table slots from two hashes of its address and port; slots are
// filled in turns proportional to weight (the last non-zero weight, so that quiescing a
// server does not reshuffle the table). A client hashes to a slot; mh-fallback walks on
// when that slot's destination cannot take connections, mh-port adds the client port.
import { foldAddr, type IpAddr } from '../address';
import type { Destination } from '../destination';
import { isSchedulable, RebuildingScheduler, type PacketFacts, type ScheduledService } from './scheduler';
import { hsiphash32 } from './siphash';
import { gcd } from './wrr';

export const maglevTableSize = 4093;
/** Half of CONFIG_IP_VS_MH_TAB_INDEX (12): weights are shifted down to about 6 bits. */
const maglevTableBits = 6;
const hash1 = { k0: 2654435761n, k1: 2654435761n };
const hash2 = { k0: 2654446892n, k1: 2654446892n };

export function maglevHash(addr: IpAddr, port: number, key: { k0: bigint; k1: bigint }, offset: number): number {
  return hsiphash32((offset + port + foldAddr(addr)) >>> 0, key.k0, key.k1);
}

/** Position of the highest set bit, 1-based; 0 for 0 (the kernel's fls). */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

export class MaglevScheduler extends RebuildingScheduler {
  readonly name = 'mh';
  private lookup: Array<Destination | null> = new Array<Destination | null>(maglevTableSize).fill(null);

  constructor(svc: ScheduledService) {
    super();
    this.rebuild(svc);
  }

  slot(index: number): Destination | null {
    return this.lookup[index] ?? null;
  }

  schedule(svc: ScheduledService, packet: PacketFacts): Destination | null {
    const port = svc.flags.flag2 ? packet.sport : 0; // mh-port
    const first = maglevHash(packet.saddr, port, hash1, 0) % maglevTableSize;
    const dest = this.lookup[first] ?? null;
    if (dest === null) return null;
    if (isSchedulable(dest)) return dest;
    if (!svc.flags.flag1) return null; // no mh-fallback
    for (let offset = 0; offset < maglevTableSize; offset++) {
      const roffset = (offset + first) % maglevTableSize;
      const next = this.lookup[maglevHash(packet.saddr, port, hash1, roffset) % maglevTableSize] ?? null;
      if (next === null) return null;
      if (isSchedulable(next)) return next;
    }
    return null;
  }

  protected rebuild(svc: ScheduledService): void {
    const list = svc.destinations;
    let g = 0;
    let maxWeight = 0;
    for (const dest of list) {
      if (dest.lastWeight > 0) g = g > 0 ? gcd(dest.lastWeight, g) : dest.lastWeight;
      if (dest.lastWeight > maxWeight) maxWeight = dest.lastWeight;
    }
    if (g < 1) {
      this.lookup.fill(null);
      return;
    }
    const shift = Math.max(0, fls(Math.floor(maxWeight / g)) - maglevTableBits);
    const setup = list.map((dest) => {
      const offset = maglevHash(dest.address, dest.port, hash1, 0) % maglevTableSize;
      const skip = (maglevHash(dest.address, dest.port, hash2, 0) % (maglevTableSize - 1)) + 1;
      const turns = Math.floor(dest.lastWeight / g) >> shift || (dest.lastWeight !== 0 ? 1 : 0);
      return { offset, skip, perm: offset, turns };
    });
    // Slots keep their old destination unless reassigned; every slot is filled below.
    const taken = new Uint8Array(maglevTableSize);
    let n = 0;
    let p = 0;
    let turnsTaken = 0;
    while (n < maglevTableSize) {
      if (p === list.length) p = 0;
      while (p < list.length) {
        const ds = setup[p] as { perm: number; skip: number; turns: number };
        if (ds.turns < 1) {
          p++;
          continue;
        }
        let c = ds.perm;
        while (taken[c] === 1) {
          ds.perm += ds.skip;
          if (ds.perm >= maglevTableSize) ds.perm -= maglevTableSize;
          c = ds.perm;
        }
        taken[c] = 1;
        this.lookup[c] = list[p] as Destination;
        if (++n === maglevTableSize) return;
        if (++turnsTaken >= ds.turns) {
          turnsTaken = 0;
          p++;
        }
      }
    }
  }
}
