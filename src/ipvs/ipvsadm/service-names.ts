// Port numbers and service names, as ipvsadm shows them without -n (getservbyport) and
// reads them in addresses (getservbyname). /etc/services is read once when present; a
// small built-in table answers on machines without it, so output stays the same.
// Addresses are always printed as numbers: there is no reverse DNS here.
import fs from 'node:fs';
import type { ServiceProtocol } from '../service';
import type { PortNames } from './parse';

export interface ServiceNames extends PortNames {
  /** The name of a port (getservbyport), or undefined. */
  nameOf(port: number, protocol: ServiceProtocol): string | undefined;
}

const builtin: ReadonlyArray<[string, number, readonly ServiceProtocol[]]> = [
  ['ftp-data', 20, ['tcp']],
  ['ftp', 21, ['tcp']],
  ['ssh', 22, ['tcp']],
  ['telnet', 23, ['tcp']],
  ['smtp', 25, ['tcp']],
  ['domain', 53, ['tcp', 'udp']],
  ['http', 80, ['tcp', 'udp', 'sctp']],
  ['pop3', 110, ['tcp']],
  ['ntp', 123, ['udp']],
  ['imap2', 143, ['tcp']],
  ['snmp', 161, ['tcp', 'udp']],
  ['ldap', 389, ['tcp', 'udp']],
  ['https', 443, ['tcp', 'udp', 'sctp']],
  ['submission', 587, ['tcp']],
  ['ldaps', 636, ['tcp', 'udp']],
  ['imaps', 993, ['tcp']],
  ['pop3s', 995, ['tcp']],
  ['mysql', 3306, ['tcp']],
  ['postgresql', 5432, ['tcp']],
  ['http-alt', 8080, ['tcp']],
];

export const servicesFileMaxBytes = 4 * 1024 * 1024;

export class ServiceNameTable implements ServiceNames {
  private readonly byPort = new Map<string, string>();
  private readonly byName = new Map<string, number>();

  constructor(entries: ReadonlyArray<[string, number, readonly ServiceProtocol[]]>) {
    for (const [name, port, protocols] of entries) {
      for (const protocol of protocols) {
        const key = `${port}/${protocol}`;
        if (!this.byPort.has(key)) this.byPort.set(key, name);
        if (!this.byName.has(`${name}/${protocol}`)) this.byName.set(`${name}/${protocol}`, port);
      }
    }
  }

  nameOf(port: number, protocol: ServiceProtocol): string | undefined {
    return this.byPort.get(`${port}/${protocol}`);
  }

  portOf(name: string, protocol: ServiceProtocol): number | undefined {
    return this.byName.get(`${name}/${protocol}`);
  }
}

/** `name port/proto [aliases...]` lines, as in services(5); aliases name the same port. */
export function parseServicesFile(text: string): Array<[string, number, ServiceProtocol[]]> {
  const out: Array<[string, number, ServiceProtocol[]]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^(\S+)\s+(\d+)\/(tcp|udp|sctp)((?:\s+\S+)*)$/.exec(line);
    if (m === null) continue;
    const port = Number(m[2]);
    if (port > 65535) continue;
    const protocol = m[3] as ServiceProtocol;
    for (const name of [m[1] as string, ...(m[4] ?? '').trim().split(/\s+/).filter((a) => a !== '')]) out.push([name, port, [protocol]]);
  }
  return out;
}

let systemTable: ServiceNameTable | undefined;

/** /etc/services when readable, else the built-in table. */
export function systemServiceNames(): ServiceNameTable {
  if (systemTable !== undefined) return systemTable;
  let entries: Array<[string, number, readonly ServiceProtocol[]]> = [...builtin];
  try {
    const stat = fs.statSync('/etc/services');
    if (stat.size <= servicesFileMaxBytes) entries = parseServicesFile(fs.readFileSync('/etc/services', 'utf8'));
  } catch {
    // no /etc/services: keep the built-in names
  }
  systemTable = new ServiceNameTable(entries);
  return systemTable;
}

export function builtinServiceNames(): ServiceNameTable {
  return new ServiceNameTable(builtin);
}
