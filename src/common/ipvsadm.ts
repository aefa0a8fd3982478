// The system's ipvsadm, run with arguments and a stdin (what `-R` reads), and whether the
// kernel's IPVS can be programmed here. Debian's ipvsadm loads ip_vs itself when asked,
// but /proc/net/ip_vs only exists once the module is in: that is the sign IPVS is there.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { capNetAdmin, hasCapability } from './capabilities';

export interface IpvsadmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs ipvsadm with `args`, `stdin` written to it; never rejects. */
export type IpvsadmRunner = (args: readonly string[], stdin: string) => Promise<IpvsadmResult>;

const ipvsadmPaths = ['/usr/sbin/ipvsadm', '/sbin/ipvsadm', '/usr/bin/ipvsadm'];

/** What one run may print before it is stopped: a `-S` of 100 000 real servers is ~6 MB. */
export const ipvsadmOutputBytesMax = 64 * 1024 * 1024;

/** Runs `ipvsadm ARGS` (with `wrap` before it, e.g. `ip netns exec NS`); never rejects. */
export function spawnIpvsadm(args: readonly string[], stdin: string, wrap: readonly string[] = []): Promise<IpvsadmResult> {
  return new Promise((resolve) => {
    const argv = [...wrap, 'ipvsadm', ...args];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let bytes = 0;
    const take = (d: Buffer, into: 'stdout' | 'stderr'): void => {
      bytes += d.length;
      if (bytes > ipvsadmOutputBytesMax) {
        child.kill();
        return;
      }
      if (into === 'stdout') stdout += d.toString();
      else stderr += d.toString();
    };
    child.stdout.on('data', (d: Buffer) => take(d, 'stdout'));
    child.stderr.on('data', (d: Buffer) => take(d, 'stderr'));
    // ipvsadm that exits before reading all of stdin closes the pipe: its exit says why.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.on('close', (code) => {
      if (bytes > ipvsadmOutputBytesMax) resolve({ code: 1, stdout: '', stderr: `ipvsadm printed more than ${ipvsadmOutputBytesMax} bytes` });
      else resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** Why the kernel's IPVS cannot be programmed here, or undefined when it can. */
export function ipvsUnavailable(): string | undefined {
  if (!hasCapability(capNetAdmin)) return 'needs root or CAP_NET_ADMIN (ipvsadm programs the kernel)';
  if (!fs.existsSync('/proc/net/ip_vs')) return 'the kernel has no IPVS (no /proc/net/ip_vs: modprobe ip_vs)';
  if (!ipvsadmPaths.some((p) => fs.existsSync(p))) return 'needs ipvsadm (apt-get install ipvsadm)';
  return undefined;
}
