// keepalived's script security warning: scripts that exist on this host (vrrp_script,
// notify scripts, MISC_CHECK, quorum_up/down) run as root while enable_script_security is
// off. keepalived reports it ("SECURITY VIOLATION") and runs them anyway; so does
// hadirector, with a warning at the first such script. A cluster on loopback alone (the
// lab) runs as whoever started it, and is not warned about.
import path from 'node:path';
import type { Command } from './values';
import type { ParseContext } from './keywords';
import type { HadConfig } from './model';
import { isLoopbackAddress } from '../vip/driver';

/** Where keepalived looks for a script named without a path. */
export const scriptSearchPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function checkScriptSecurity(config: HadConfig, cx: ParseContext): void {
  if (config.global.enableScriptSecurity) return;
  const nodes = config.cluster?.nodes ?? [];
  if (nodes.length > 0 && nodes.every((n) => n.addresses.every((a) => isLoopbackAddress(a.address)))) return;
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
    ...config.virtualServers.flatMap((vs) => [vs.quorumUp, vs.quorumDown, ...vs.realServers.flatMap((rs) => [rs.notifyUp, rs.notifyDown, ...rs.checkers.map((c) => (c.kind === 'MISC_CHECK' ? c.path : undefined))])]),
  ].filter((c): c is Command => c !== undefined && c.argv.length > 0);
}

function exists(c: Command, cx: ParseContext): boolean {
  const program = c.argv[0] as string;
  if (program.includes('/')) return cx.fs.isFile(path.resolve(cx.baseDir, program));
  return scriptSearchPath.some((dir) => cx.fs.isFile(path.join(dir, program)));
}
