// What the kernel holds, read back from `ipvsadm -S -n`: its -A and -a lines, parsed as
// ipvsadm parses them (the emulation's parser, ../../ipvsadm/parse.ts), into a table.
// Used when a batch failed part-way and what the kernel kept is not known, and at start
// to find the services a previous run (or another tool) left under the configured keys.
import type { IpAddr } from '../../address';
import { serviceKey } from '../../ipvsadm/execute';
import { parseIpvsadm, type PortNames } from '../../ipvsadm/parse';
import { serviceKeyText } from '../../service';
import { destinationKey } from '../../destination';
import { tableDestination, tableService, type IpvsTable, type TableDestination, type TableService } from './table';

/** Lines read from one `-S`: a kernel with a million real servers is past what this plane manages. */
export const savedLinesMax = 1_000_000;

/** With -n every port is a number: no name is ever looked up. */
const noPortNames: PortNames = { portOf: () => undefined };

interface Building {
  readonly service: Omit<TableService, 'destinations'>;
  readonly destinations: Map<string, TableDestination>;
}

/** The table of a `-S -n` listing, or what in it could not be read. */
export function parseSavedTable(text: string): { table: IpvsTable } | { problem: string } {
  const lines = text.split('\n');
  if (lines.length > savedLinesMax) return { problem: `ipvsadm -S printed more than ${savedLinesMax} lines` };
  const services = new Map<string, Building>();
  for (let i = 0; i < lines.length; i++) {
    const words = (lines[i] as string).split(/[ \t]+/).filter((w) => w !== '');
    if (words.length === 0) continue;
    const parsed = parseIpvsadm(words, noPortNames);
    const c = parsed.ok ? parsed.command : undefined;
    if (c === undefined || (c.name !== 'add-service' && c.name !== 'add-server')) {
      return { problem: `line ${i + 1} of ipvsadm -S -n is not an -A or -a line: ${lines[i] as string}` };
    }
    const key = serviceKey(c.service);
    if (c.name === 'add-service') {
      const service = tableService(key, { scheduler: c.scheduler, flags: c.schedFlags, persistenceS: c.persistentS, netmask: c.netmask, onePacket: c.onePacket });
      services.set(serviceKeyText(key), { service, destinations: new Map() });
      continue;
    }
    const svc = services.get(serviceKeyText(key));
    if (svc === undefined) return { problem: `line ${i + 1} of ipvsadm -S -n names a real server before its service: ${lines[i] as string}` };
    const d = c.dest;
    const dest = tableDestination(key, { address: d.address as IpAddr, port: d.port, forward: d.forward, weight: d.weight, upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: { ...d.tunnel } });
    svc.destinations.set(destinationKey(dest.address, dest.port), dest);
  }
  return { table: new Map([...services].map(([k, b]) => [k, { ...b.service, destinations: b.destinations }])) };
}
