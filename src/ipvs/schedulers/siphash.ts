// The kernel's hsiphash on 64-bit machines (lib/siphash.c): SipHash-1-3 over a 4-byte
// input, truncated to 32 bits. Maglev hashing (mh) uses it with fixed keys, so that a
// client maps to the same real server as on a kernel director.

const mask64 = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & mask64;
}

/** hsiphash of one 32-bit value (hsiphash_1u32) with the two 64-bit key words. */
export function hsiphash32(value: number, key0: bigint, key1: bigint): number {
  let v0 = 0x736f6d6570736575n ^ key0;
  let v1 = 0x646f72616e646f6dn ^ key1;
  let v2 = 0x6c7967656e657261n ^ key0;
  let v3 = 0x7465646279746573n ^ key1;
  const round = (): void => {
    v0 = (v0 + v1) & mask64;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & mask64;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & mask64;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & mask64;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const b = (4n << 56n) | BigInt(value >>> 0);
  v3 ^= b;
  round();
  v0 ^= b;
  v2 ^= 0xffn;
  round();
  round();
  round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
}
