// Which process serves an address, by the kernel's word rather than the process's own:
// the listening sockets bound to it (/proc/net/tcp, tcp6) and the processes holding them
// (/proc/PID/fd). A process stopped with SIGSTOP still holds its sockets.
import fs from 'node:fs/promises';
import type { Endpoint } from '../drill/cluster';

const listenState = '0A';

/** /proc/net/tcp's form of an IPv4 address and port: the address's bytes in host (little-endian) order. */
export function procNetAddress(address: string, port: number): string {
  const bytes = address.split('.').map(Number).reverse();
  return `${bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}:${port.toString(16).padStart(4, '0')}`.toUpperCase();
}

/** The inodes of the listening TCP sockets bound to the endpoint (IPv4). */
export async function listenerInodes(at: Endpoint): Promise<ReadonlySet<string>> {
  const local = procNetAddress(at.host, at.port);
  const text = await fs.readFile('/proc/net/tcp', 'utf8').catch(() => '');
  const inodes = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[3] === listenState && f[9] !== undefined) inodes.add(f[9]);
  }
  return inodes;
}

/** Whether the process holds one of the sockets. */
export async function ownsSocket(pid: number, inodes: ReadonlySet<string>): Promise<boolean> {
  const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) return true;
  }
  return false;
}

/** Which of the named processes hold a listening socket on the endpoint. */
export async function listenerOwners(at: Endpoint, pids: ReadonlyArray<readonly [string, number]>): Promise<ReadonlySet<string>> {
  const inodes = await listenerInodes(at);
  const owners = new Set<string>();
  if (inodes.size === 0) return owners;
  for (const [name, pid] of pids) if (await ownsSocket(pid, inodes)) owners.add(name);
  return owners;
}
