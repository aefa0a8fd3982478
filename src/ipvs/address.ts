// Addresses as IPVS handles them: IPv4 as one 32-bit word, IPv6 as four, in network
// order read as numbers (what the kernel gets from ntohl). Schedulers hash these words;
// ipvsadm prints the canonical text (inet_ntop's form, IPv6 compressed as in RFC 5952).
import net from 'node:net';

export interface IpAddr {
  readonly family: 4 | 6;
  /** One word for IPv4, four for IPv6; each an unsigned 32-bit number. */
  readonly words: readonly number[];
  /** Canonical text, also the key of maps. */
  readonly text: string;
}

export function parseIpAddr(text: string): IpAddr | undefined {
  // Dotted quads first, by hand: replication parses millions at a takeover.
  const word = ipv4WordOf(text);
  if (word !== undefined) return { family: 4, words: [word], text };
  return net.isIPv6(text) ? ipv6FromWords(ipv6Words(text)) : undefined;
}

/**
 * The word of an IPv4 address in canonical dotted-quad form (four decimal numbers
 * 0-255, no leading zeros), or undefined for anything else.
 */
export function ipv4WordOf(text: string): number | undefined {
  let word = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      word = word * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3 && !(digits === 1 && octet === 0)) {
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  return dots === 3 && digits > 0 ? word * 256 + octet : undefined;
}

export function ipv4FromWord(word: number): IpAddr {
  const w = word >>> 0;
  return { family: 4, words: [w], text: ipv4Text(w) };
}

/** An IPv4 word as dotted-quad text. */
export function ipv4Text(word: number): string {
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

export function ipv6FromWords(words: readonly number[]): IpAddr {
  const w = words.map((x) => x >>> 0);
  return { family: 6, words: w, text: formatIpv6(w) };
}

function ipv6Words(text: string): number[] {
  let groups: number[];
  let body = text;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (v4 !== null) {
    const w = ipv4WordOf(v4[1] as string) ?? 0;
    tail = [w >>> 16, w & 0xffff];
    body = body.slice(0, -(v4[1] as string).length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const [head, rest] = body.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  if (rest === undefined) groups = [...parse(head), ...tail];
  else {
    const left = parse(head);
    const right = [...parse(rest), ...tail];
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push((((groups[i] ?? 0) << 16) | (groups[i + 1] ?? 0)) >>> 0);
  return words;
}

/** RFC 5952: lower case, leading zeros dropped, the longest run (≥ 2) of zero groups as `::`. */
function formatIpv6(words: readonly number[]): string {
  const groups: number[] = [];
  for (const w of words) groups.push(w >>> 16, w & 0xffff);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ipv4FromWord(((groups[6] as number) << 16) | (groups[7] as number)).text}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The address folded to one word, as sh, dh, mh and lblc fold an IPv6 address. */
export function foldAddr(addr: IpAddr): number {
  let fold = 0;
  for (const w of addr.words) fold = (fold ^ w) >>> 0;
  return fold;
}

export function compareAddr(a: IpAddr, b: IpAddr): number {
  if (a.family !== b.family) return a.family - b.family;
  for (let i = 0; i < a.words.length; i++) {
    const d = (a.words[i] as number) - (b.words[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

export function sameAddr(a: IpAddr, b: IpAddr): boolean {
  return a.text === b.text;
}

/** `addr` with the host part cleared by a netmask given as an address (persistence granularity). */
export function maskAddr(addr: IpAddr, mask: IpAddr): IpAddr {
  const words = addr.words.map((w, i) => (w & (mask.words[i] ?? 0xffffffff)) >>> 0);
  return addr.family === 4 ? ipv4FromWord(words[0] as number) : ipv6FromWords(words);
}

/** A netmask address from a prefix length. */
export function prefixMask(family: 4 | 6, prefix: number): IpAddr {
  const words: number[] = [];
  for (let i = 0; i < (family === 4 ? 1 : 4); i++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * i));
    words.push(bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
  }
  return family === 4 ? ipv4FromWord(words[0] as number) : ipv6FromWords(words);
}

/** `a.b.c.d:port` or `[v6]:port`, as ipvsadm writes an endpoint. */
export function formatEndpoint(addr: IpAddr, port: number): string {
  return addr.family === 6 ? `[${addr.text}]:${port}` : `${addr.text}:${port}`;
}
