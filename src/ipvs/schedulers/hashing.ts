// Source hashing (ip_vs_sh.c) and destination hashing (ip_vs_dh.c): a 256-bucket table
// filled by walking the destination list (sh gives each destination as many consecutive
// buckets as its weight, dh one each), indexed by a multiplicative hash of the client
// (sh) or of the packet's destination address (dh). The hash is the kernel's hash_32()
// (include/linux/hash.h, as current ip_vs_sh_hashkey() and ip_vs_dh_hashkey() use it): the
// 32-bit product with 0x61C88647, its top 8 bits. The same address lands
// on the same real server as on a current kernel director with the same list.
import { foldAddr, type IpAddr } from '../address';
import type { Destination } from '../destination';
import { isSchedulable, RebuildingScheduler, type PacketFacts, type ScheduledService } from './scheduler';

const tableBits = 8;
export const hashTableSize = 1 << tableBits;
const goldenRatio32 = 0x61c88647;

/** The kernel's hash_32(value, 8): the top 8 bits of the 32-bit product with GOLDEN_RATIO_32. */
export function hash32(value: number): number {
  return Math.imul(value >>> 0, goldenRatio32) >>> (32 - tableBits);
}

/** ip_vs_sh_hashkey(): (offset + hash_32(port + address)) mod 256. */
export function shHashKey(addr: IpAddr, port: number, offset: number): number {
  return (offset + hash32(port + foldAddr(addr))) & (hashTableSize - 1);
}

/** ip_vs_dh_hashkey(): hash_32 of the destination address. */
export function dhHashKey(addr: IpAddr): number {
  return hash32(foldAddr(addr));
}

abstract class BucketScheduler extends RebuildingScheduler {
  abstract override readonly name: 'sh' | 'dh';
  protected buckets: Array<Destination | null> = new Array<Destination | null>(hashTableSize).fill(null);

  protected abstract weighted(): boolean;

  constructor(svc: ScheduledService) {
    super();
    this.rebuild(svc);
  }

  /** A bucket's destination, for tests and the what-if simulator. */
  bucket(index: number): Destination | null {
    return this.buckets[index] ?? null;
  }

  protected rebuild(svc: ScheduledService): void {
    const list = svc.destinations;
    let p = 0;
    let filled = 0;
    for (let i = 0; i < hashTableSize; i++) {
      if (list.length === 0) {
        this.buckets[i] = null;
        continue;
      }
      if (p === list.length) p = 0;
      const dest = list[p] as Destination;
      this.buckets[i] = dest;
      // sh fills `weight` buckets per destination (at least one); dh one each.
      if (!this.weighted() || ++filled >= dest.weight) {
        p++;
        filled = 0;
      }
    }
  }
}

export class SourceHashScheduler extends BucketScheduler {
  readonly name = 'sh';

  protected weighted(): boolean {
    return true;
  }

  schedule(svc: ScheduledService, packet: PacketFacts): Destination | null {
    const port = svc.flags.flag2 ? packet.sport : 0; // sh-port
    const first = shHashKey(packet.saddr, port, 0);
    const dest = this.buckets[first] ?? null;
    if (dest === null) return null;
    if (isSchedulable(dest)) return dest;
    if (!svc.flags.flag1) return null; // no sh-fallback
    // Walk the table from the original hash, deterministically, for a usable destination.
    for (let offset = 0; offset < hashTableSize; offset++) {
      const next = this.buckets[shHashKey(packet.saddr, port, (offset + first) % hashTableSize)] ?? null;
      if (next === null) return null;
      if (isSchedulable(next)) return next;
    }
    return null;
  }
}

export class DestinationHashScheduler extends BucketScheduler {
  readonly name = 'dh';

  protected weighted(): boolean {
    return false;
  }

  schedule(_svc: ScheduledService, packet: PacketFacts): Destination | null {
    const dest = this.buckets[dhHashKey(packet.daddr)] ?? null;
    return dest !== null && dest.available && isSchedulable(dest) ? dest : null;
  }
}
