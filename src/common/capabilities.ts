// What this process may do, by its effective Linux capabilities (/proc/self/status
// CapEff), so that a director run by systemd with only CAP_NET_ADMIN and CAP_NET_RAW
// manages addresses as root would.
import fs from 'node:fs';

export const capNetAdmin = 12;
export const capNetRaw = 13;

/** The effective set as a bit mask; everything for root where /proc cannot say. */
export function effectiveCapabilities(statusText?: string): bigint {
  let text = statusText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/status', 'utf8');
    } catch {
      return process.getuid?.() === 0 ? ~0n : 0n;
    }
  }
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  return hex === undefined ? 0n : BigInt(`0x${hex}`);
}

export function hasCapability(bit: number, mask = effectiveCapabilities()): boolean {
  return (mask & (1n << BigInt(bit))) !== 0n;
}
