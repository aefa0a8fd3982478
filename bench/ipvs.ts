// IPVS engine figures: scheduling decisions per second for every scheduler with 8 and
// 1000 destinations, connection-table inserts and lookups per second, and heap bytes per
// entry at a million entries (run with --expose-gc for a clean measure).
import { VirtualClock } from '../src/common/clock';
import { SeededRng } from '../src/common/rng';
import { ipv4FromWord, type IpAddr } from '../src/ipvs/address';
import { Destination } from '../src/ipvs/destination';
import { Connection } from '../src/ipvs/conn/connection';
import { ConnTable } from '../src/ipvs/conn/table';
import { noSchedulerFlags, schedulerNames, type PacketFacts } from '../src/ipvs/schedulers/scheduler';
import { VirtualService } from '../src/ipvs/service';
import type { Benchmark, BenchOptions } from './registry';

function service(name: (typeof schedulerNames)[number], dests: number): VirtualService {
  const svc = new VirtualService(
    { kind: 'address', protocol: 'tcp', address: ipv4FromWord(0x0a000001), port: 80 },
    { scheduler: name, flags: noSchedulerFlags, onePacket: false },
    { clock: new VirtualClock(), rng: new SeededRng(7) },
  );
  for (let i = 0; i < dests; i++) svc.addDestination(ipv4FromWord(0xc0a80000 + i + 1), 80, { forward: 'masq', weight: 1 + (i % 4), upperThreshold: 0, lowerThreshold: 0 });
  return svc;
}

function decisionsPerSecond(name: (typeof schedulerNames)[number], dests: number, count: number): number {
  const svc = service(name, dests);
  const packets: PacketFacts[] = Array.from({ length: 1024 }, (_, i) => ({ saddr: ipv4FromWord(0x0b000000 + i * 7919), sport: 1024 + i, daddr: ipv4FromWord(0x0a000001 + (i % 64)), dport: 80 }));
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) svc.schedule(packets[i & 1023] as PacketFacts);
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return count / s;
}

function tableFigures(entries: number): { insertsPerS: number; lookupsPerS: number; bytesPerEntry: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const table = new ConnTable(0, entries + 1);
  const vaddr = '10.0.0.1';
  const dest = new Destination(ipv4FromWord(0xc0a80001), 80, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
  const keys: Array<[IpAddr, number]> = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < entries; i++) {
    const caddr = ipv4FromWord(0x0b000000 + (i >>> 4));
    const conn = new Connection(table.group('tcp', vaddr, 80), caddr, 1024 + (i & 15), dest, 80, { template: false, onePacket: false }, 'ESTABLISHED', 900_000);
    table.add(conn, i & 0xffff);
    if (i % 97 === 0) keys.push([caddr, conn.cport]);
  }
  const insertS = Number(process.hrtime.bigint() - start) / 1e9;
  gc?.();
  const bytesPerEntry = (process.memoryUsage().heapUsed - before) / entries;
  const lookups = Math.min(entries, 2_000_000);
  const lookupStart = process.hrtime.bigint();
  let found = 0;
  for (let i = 0; i < lookups; i++) {
    const [caddr, cport] = keys[i % keys.length] as [IpAddr, number];
    if (table.lookup('tcp', caddr, cport, vaddr, 80) !== undefined) found++;
  }
  const lookupS = Number(process.hrtime.bigint() - lookupStart) / 1e9;
  if (found !== lookups) throw new Error('lookup missed');
  return { insertsPerS: entries / insertS, lookupsPerS: lookups / lookupS, bytesPerEntry };
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

export const ipvsBench: Benchmark = {
  name: 'ipvs',
  run(options: BenchOptions): string[] {
    const lines: string[] = [];
    const count = options.smoke ? 2000 : 2_000_000;
    for (const dests of options.smoke ? [8] : [8, 1000]) {
      const row = schedulerNames.map((name) => `${name}=${fmt(decisionsPerSecond(name, dests, name === 'mh' || dests === 1000 ? count / 10 : count))}/s`);
      lines.push(`ipvs schedule dests=${dests} ${row.join(' ')}`);
    }
    const t = tableFigures(options.smoke ? 10_000 : 1_000_000);
    // Without --expose-gc a collection may run mid-measure: the figure is then not one.
    const memory = (globalThis as { gc?: unknown }).gc === undefined ? 'n/a (run with --expose-gc)' : t.bytesPerEntry.toFixed(0);
    lines.push(`ipvs conn-table entries=${options.smoke ? 10_000 : 1_000_000} inserts=${fmt(t.insertsPerS)}/s lookups=${fmt(t.lookupsPerS)}/s bytes/entry=${memory}`);
    return lines;
  },
};
