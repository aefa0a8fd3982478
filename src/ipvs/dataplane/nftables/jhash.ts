// The hash nftables' `jhash EXPR mod N seed S` computes (nft_hash.c): the kernel's jhash()
// (Bob Jenkins' lookup3, include/linux/jhash.h) of the expression's bytes as they sit in
// the register, scaled into 0..N−1 by reciprocal_scale(). With it the engine can say which
// map slot, and so which real server, the kernel plane gives a client.

const initval = 0xdeadbeef;

function rol32(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** jhash(key, length, seed) over `bytes`. */
export function jhash(bytes: Uint8Array, seed: number): number {
  let a = (initval + bytes.length + seed) >>> 0;
  let b = a;
  let c = a;
  let k = 0;
  let length = bytes.length;
  const word = (i: number): number => ((bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24)) >>> 0;
  while (length > 12) {
    a = (a + word(k)) >>> 0;
    b = (b + word(k + 4)) >>> 0;
    c = (c + word(k + 8)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol32(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol32(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol32(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol32(b, 4)) >>> 0; b = (b + a) >>> 0;
    length -= 12;
    k += 12;
  }
  if (length === 0) return c;
  // The tail, as the fall-through switch adds it: missing bytes are zero.
  const tail = (i: number): number => (i < length ? (bytes[k + i] ?? 0) : 0);
  c = (c + (tail(8) | (tail(9) << 8) | (tail(10) << 16) | (tail(11) << 24))) >>> 0;
  b = (b + (tail(4) | (tail(5) << 8) | (tail(6) << 16) | (tail(7) << 24))) >>> 0;
  a = (a + (tail(0) | (tail(1) << 8) | (tail(2) << 16) | (tail(3) << 24))) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 24)) >>> 0;
  return c;
}

/** reciprocal_scale(): a 32-bit value scaled into 0..modulus−1. */
export function reciprocalScale(value: number, modulus: number): number {
  return Number((BigInt(value >>> 0) * BigInt(modulus)) >> 32n);
}

/** What `jhash KEY mod MODULUS seed SEED` gives for the key's register bytes. */
export function nftJhash(bytes: Uint8Array, modulus: number, seed: number): number {
  return reciprocalScale(jhash(bytes, seed), modulus);
}

/** An address's register bytes: network order, as `ip saddr` / `ip6 saddr` loads it. */
export function addressBytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  words.forEach((w, i) => {
    out[i * 4] = (w >>> 24) & 0xff;
    out[i * 4 + 1] = (w >>> 16) & 0xff;
    out[i * 4 + 2] = (w >>> 8) & 0xff;
    out[i * 4 + 3] = w & 0xff;
  });
  return out;
}
