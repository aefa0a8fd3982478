// keepalived's script security warning: scripts that exist on this host (vrrp_script,
// notify scripts, MISC_CHECK, quorum_up/down) run as root while enable_script_security is
// off. keepalived reports it ("SECURITY VIOLATION") and runs them anyway; so does
// hadirector, with a warning at the first such script. A cluster on loopback alone (the
// lab) runs as whoever started it, and is not warned about.
import path from 'node:path';
import type { Command } from './values';
import { isRedirection } from './script-exec';
import type { ParseContext } from './keywords';
import type { HadConfig } from './model';
import { onLoopbackOnly } from '../cluster/config';

/** Where keepalived looks for a script named without a path. */
export const scriptSearchPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function checkScriptSecurity(config: HadConfig, cx: ParseContext): void {
  if (config.global.enableScriptSecurity || cx.fs.isProgram === undefined) return;
  if (config.cluster !== undefined && config.cluster.nodes.length > 0 && onLoopbackOnly(config.cluster)) return;
  const found = commands(config).find((c) => exists(c, cx));
  if (found === undefined) return;
  cx.diags.warn(
    'HAD_CFG_RISKY',
    `scripts run as root while enable_script_security is off ('${found.argv[0]}' and any other): set enable_script_security (and script_user) in global_defs, as keepalived asks`,
    found.where,
  );
}

function commands(config: HadConfig): Command[] {
  const notify = (n: { notify?: Command; master?: Command; backup?: Command; fault?: Command; stop?: Command }) => [n.notify, n.master, n.backup, n.fault, n.stop];
  return [
    ...config.vrrpScripts.map((s) => s.script),
    ...config.vrrpInstances.flatMap((i) => notify(i.notify)),
    ...config.vrrpSyncGroups.flatMap((g) => notify(g.notify)),
    config.global.hostHealth.notify,
    ...config.virtualServers.flatMap((vs) => [vs.quorumUp, vs.quorumDown, ...vs.realServers.flatMap((rs) => [rs.notifyUp, rs.notifyDown, ...rs.checkers.map((c) => (c.kind === 'MISC_CHECK' ? c.path : undefined))])]),
  ].filter((c): c is Command => c !== undefined && c.argv.length > 0);
}

function exists(c: Command, cx: ParseContext): boolean {
  const isProgram = cx.fs.isProgram;
  return isProgram === undefined || commandFound(c, (p) => isProgram(p), cx.baseDir);
}

/** Whether a command's program is on this host: a path as written, or a name on keepalived's search path. */
export function commandFound(c: Command, isFile: (absPath: string) => boolean, baseDir = '/'): boolean {
  const program = c.argv[0];
  if (program === undefined) return false;
  // keepalived runs `</dev/tcp/HOST/PORT` and the like through the shell: nothing to find.
  if (isRedirection(program)) return true;
  if (program.includes('/')) return isFile(path.resolve(baseDir, program));
  return scriptSearchPath.some((dir) => isFile(path.join(dir, program)));
}

/**
 * A tracked vrrp_script whose program is not on this host is not run and moves nothing,
 * as keepalived disables it ("not found, ignoring"); said once per script. Only where the
 * file system can tell (the host's, not a test's).
 */
export function checkScriptsFound(config: HadConfig, cx: ParseContext): void {
  if (cx.fs.isProgram === undefined) return;
  const tracked = new Set([...config.vrrpInstances, ...config.vrrpSyncGroups].flatMap((t) => t.trackScripts.map((r) => r.name)));
  for (const s of config.vrrpScripts) {
    if (s.script === undefined || !tracked.has(s.name) || (s.script.argv[0] ?? '') === '' || exists(s.script, cx)) continue;
    cx.diags.warn('HAD_CFG_BAD_VALUE', `vrrp_script ${s.name}: '${s.script.argv[0]}' is not on this host: the script is not run and moves no instance (keepalived disables it too)`, s.script.where);
  }
}
