// The lab's configuration, written for loopback, rewritten for network namespaces on one
// /24 (namespacedConfig): every 127.0.0.N becomes SUBNET.N, the interface lo becomes
// eth0 (`interface lo`, `dev lo`, `label lo:NAME`, a tracked lo), and a VIP's /32
// becomes /24 (a bare one gets /24) so a client on the subnet reaches it on the link. A
// `signal` fence device (which kills a pid) becomes a `netns` one (which takes the
// node's links down): in namespaces a fence is a power-off, and a killed daemon's VIP
// stays on its eth0, answering, until its host goes dark, as on a real host. Text is
// enough: the lab's own file, written for loopback, has 127.0.0.N only ever as an
// address and `lo` only ever as the interface; and rewriting the text keeps its
// definitions, @node lines and comments as they were, which no parse and print would.
//
// The plane goes into global_defs. `userspace` (the drill): the real servers share the
// client's subnet, so only the relay, which answers the client itself, serves them.
// `kernel` (the namespaced lab): LVS-NAT and LVS-DR in nftables, for which the file
// needs two things more (withKernelServices): a gateway address the master holds, for
// the NAT real servers' route back to the clients, and a DR service to show DR by.
import fs from 'node:fs';
import { loadConfig } from '../config/load';
import type { VirtualServerConfig } from '../ipvs/config';

export type NamespacedPlane = 'userspace' | 'kernel';

const loopbackAddress = /\b127\.0\.0\.(\d{1,3})\b/g;
const loopbackInterface = /\b(interface|dev|lvs_sync_daemon_interface|lvs_sync_daemon)(\s+)lo(?![\w:.-])/g;
const loopbackLabel = /\blabel(\s+)lo:/g;
/** A line's own `@node` (or `@^node`) condition, kept in front of what it says. */
const condition = String.raw`^(\s*(?:@\^?\S+\s+)?)`;
const vipBlockOpens = new RegExp(`${condition}virtual_ipaddress(?:_excluded)?\\s*\\{\\s*$`);
const trackBlockOpens = new RegExp(`${condition}track_interface\\s*\\{\\s*$`);
const blockEntry = new RegExp(`${condition}(\\S+)(.*)$`);
const definition = /^\s*\$(\w+)\s*=\s*(\S*)/;
const signalAgentLine = /^(\s*(?:@\^?\S+\s+)?agent\s+)signal\b/;
const pidFileLine = /^(\s*(?:@\^?\S+\s+)?)pid_file\s+\S+/;

/** A VIP entry's address with /24 for /32 (or none); `defined` expands `$NAME` to tell IPv4 from IPv6. */
function widenedVip(line: string, defined: ReadonlyMap<string, string>): string {
  const m = blockEntry.exec(line);
  if (m === null) return line;
  const [, lead, address, rest] = m as unknown as [string, string, string, string];
  if (address.startsWith('#') || address.startsWith('!')) return line;
  if (address.endsWith('/32')) return `${lead}${address.slice(0, -3)}/24${rest}`;
  const expanded = address.replace(/\$\{(\w+)\}|\$(\w+)/g, (_all, a?: string, b?: string) => defined.get(a ?? b ?? '') ?? '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(expanded) ? `${lead}${address}/24${rest}` : line;
}

/**
 * The lab's configuration text for the namespaces on `subnet` whose names begin with
 * `prefix`, forwarded by `plane` (see the top of this file).
 */
export function namespacedConfig(text: string, subnet: string, prefix: string, plane: NamespacedPlane = 'userspace'): string {
  const defined = new Map<string, string>();
  let block: 'vips' | 'tracked' | undefined;
  return text
    .split('\n')
    .map((original) => {
      let line = original.replace(loopbackAddress, (_all, n: string) => `${subnet}.${n}`).replace(loopbackInterface, '$1$2eth0').replace(loopbackLabel, 'label$1eth0:');
      line = line.replace(signalAgentLine, '$1netns').replace(pidFileLine, `$1namespace ${prefix}-%n`);
      const def = definition.exec(line);
      if (def !== null) defined.set(def[1] as string, def[2] as string);
      if (block !== undefined && /^\s*\}/.test(line)) block = undefined;
      else if (block === 'vips') line = widenedVip(line, defined);
      else if (block === 'tracked') line = line.replace(new RegExp(`${condition}lo(?=\\s|$)`), '$1eth0');
      else if (vipBlockOpens.test(line)) block = 'vips';
      else if (trackBlockOpens.test(line)) block = 'tracked';
      if (/^global_defs\s*\{/.test(line)) return `${line}\n    data_plane ${plane}`;
      return line;
    })
    .join('\n');
}

/** What withKernelServices added to the file. */
export interface KernelServices {
  /** The web service: the first TCP LVS-NAT virtual_server by address. */
  readonly web: { readonly host: string; readonly port: number };
  /** The vrrp_instance that carries the web VIP, and now the gateway too. */
  readonly instance: string;
  /** The floating address the NAT real servers route the clients' replies through. */
  readonly gateway: string;
  /** The LVS-DR twin's port, on the web VIP. */
  readonly drPort: number;
}

/** How far past the web port the DR twin's port is looked for. */
const drPortTriesMax = 64;
const gatewayHost = 254;

/**
 * Adds to the rewritten file `configFile` (read for `node`) what the kernel plane needs
 * to serve the lab: SUBNET.254/24 beside the web VIP in its vrrp_instance, the NAT real
 * servers' gateway, which the master holds and a takeover moves; and at the end of the
 * file an LVS-DR twin of the web service, the same real servers on the next free port.
 * Returns what it added, or why it cannot.
 */
export function withKernelServices(configFile: string, node: string, subnet: string): KernelServices | string {
  const config = loadConfig(configFile, { node }).config;
  const web = config.virtualServers.find((vs) => vs.protocol === 'TCP' && vs.method === 'NAT' && vs.key.kind === 'address' && vs.realServers.length > 0);
  if (web === undefined || web.key.kind !== 'address') return 'no TCP LVS-NAT virtual_server by address with real servers: nothing to show the kernel plane with';
  const webKey = web.key;
  const carrier = config.vrrpInstances.find((vi) => vi.virtualIpAddresses.some((v) => v.address === webKey.address));
  const entry = carrier?.virtualIpAddresses.find((v) => v.address === webKey.address);
  if (carrier === undefined || entry === undefined) return `no vrrp_instance carries the VIP ${webKey.address}: the kernel plane's DR needs the device it comes in on`;
  const gateway = `${subnet}.${gatewayHost}`;
  const used = new Set(config.virtualServers.flatMap((vs) => (vs.key.kind === 'address' && vs.key.address === webKey.address ? [vs.key.port] : [])));
  let drPort = webKey.port + 1;
  while (used.has(drPort) && drPort < webKey.port + drPortTriesMax) drPort++;
  if (used.has(drPort) || drPort > 65535) return `no free port after ${webKey.port} on ${webKey.address} for the DR service`;

  const lines = fs.readFileSync(entry.where.file, 'utf8').split('\n');
  const at = entry.where.line - 1;
  const lead = new RegExp(condition).exec(lines[at] ?? '')?.[1] ?? '        ';
  const indent = /^\s*/.exec(lead)?.[0] ?? '';
  lines.splice(at + 1, 0, `${indent}# Added by hadirector lab --netns: the NAT real servers' route back to the clients; the master holds it.`, `${lead}${gateway}/24`);
  fs.writeFileSync(entry.where.file, lines.join('\n'));
  fs.appendFileSync(configFile, drTwin(web, webKey.address, webKey.port, drPort));
  return { web: { host: webKey.address, port: webKey.port }, instance: carrier.name, gateway, drPort };
}

/**
 * The web service again, by LVS-DR on `port`: DR cannot change the port, so each real
 * server answers on it; rr, so the lab's rounds go from one real server to the next.
 */
function drTwin(web: VirtualServerConfig, vip: string, webPort: number, port: number): string {
  const addresses = [...new Map(web.realServers.map((rs) => [rs.address, rs.weight])).entries()];
  const realServers = addresses.map(([address, weight]) => `    real_server ${address} ${port} {\n        weight ${weight}\n        TCP_CHECK {\n            connect_timeout 2\n        }\n    }\n`);
  return [
    '',
    `# Added by hadirector lab --netns: an LVS-DR twin of ${vip}:${webPort}, the same real servers,`,
    '# which carry the VIP on their lo and answer the client straight, not through the director.',
    `virtual_server ${vip} ${port} {`,
    '    protocol TCP',
    '    lb_algo rr',
    '    lb_kind DR',
    '    delay_loop 2',
    ...realServers.map((r) => r.trimEnd()),
    '}',
    '',
  ].join('\n');
}
