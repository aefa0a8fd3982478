// The system's ipvsadm, run with arguments and a stdin (what `-R` reads), and whether the
// kernel's IPVS can be programmed here. Debian's ipvsadm loads ip_vs itself when asked,
// but /proc/net/ip_vs only exists once the module is in: that is the sign IPVS is there.
import fs from 'node:fs';
import { capNetAdmin, hasCapability } from './capabilities';
import { runProgram, type ProgramResult } from './program';

export type IpvsadmResult = ProgramResult;

/** Runs ipvsadm with `args`, `stdin` written to it; never rejects. */
export type IpvsadmRunner = (args: readonly string[], stdin: string) => Promise<IpvsadmResult>;

const ipvsadmPaths = ['/usr/sbin/ipvsadm', '/sbin/ipvsadm', '/usr/bin/ipvsadm'];

/** What one run may print before it is stopped: a `-S` of 100 000 real servers is ~6 MB. */
export const ipvsadmOutputBytesMax = 64 * 1024 * 1024;

/** Runs `ipvsadm ARGS` (with `wrap` before it, e.g. `ip netns exec NS`); never rejects. */
export function spawnIpvsadm(args: readonly string[], stdin: string, wrap: readonly string[] = []): Promise<IpvsadmResult> {
  return runProgram([...wrap, 'ipvsadm', ...args], { stdin, outputBytesMax: ipvsadmOutputBytesMax });
}

/** Why the kernel's IPVS cannot be programmed here, or undefined when it can. */
export function ipvsUnavailable(): string | undefined {
  if (!hasCapability(capNetAdmin)) return 'needs root or CAP_NET_ADMIN (ipvsadm programs the kernel)';
  if (!fs.existsSync('/proc/net/ip_vs')) return 'the kernel has no IPVS (no /proc/net/ip_vs: modprobe ip_vs)';
  if (!ipvsadmPaths.some((p) => fs.existsSync(p))) return 'needs ipvsadm (apt-get install ipvsadm)';
  return undefined;
}
