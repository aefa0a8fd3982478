// Where a director keeps its control socket and pid file unless told: /run/hadirector
// for root, else $XDG_RUNTIME_DIR/hadirector or /tmp/hadirector-UID; one file per node
// name, so several directors of a lab can share a host.
import os from 'node:os';
import path from 'node:path';

export function runtimeDir(env: Readonly<Record<string, string | undefined>>): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (uid === 0) return '/run/hadirector';
  const xdg = env['XDG_RUNTIME_DIR'];
  return xdg !== undefined && xdg !== '' ? path.join(xdg, 'hadirector') : path.join(os.tmpdir(), `hadirector-${uid}`);
}

export function defaultControlPath(node: string, env: Readonly<Record<string, string | undefined>>): string {
  return path.join(runtimeDir(env), `${node}.sock`);
}

export function defaultPidFile(node: string, env: Readonly<Record<string, string | undefined>>): string {
  return path.join(runtimeDir(env), `${node}.pid`);
}
