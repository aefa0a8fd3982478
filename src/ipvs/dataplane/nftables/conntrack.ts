// LVS-NAT's connections live in the kernel's conntrack table, read and written with the
// conntrack tool (conntrack-tools). The master lists them (`conntrack -L`) into its own
// table, where replication carries them; a backup taking over writes them back in one
// batch (`conntrack -R`), each with its NAT binding (`--dst-nat REAL_SERVER:PORT`, without
// which the entry would not translate), its state and the time it had left, before the
// VIP comes up. Hence hadirector's own sync rather than conntrackd: the entries travel
// beside the DR flows and the persistence entries, on the link the cluster already
// authenticates, and a takeover needs no second daemon.
import type { AdoptedEntry } from '../../engine';

/**
 * One conntrack entry of a NAT connection, as the engine's entries are keyed: the client's
 * tuple, the real server in the reply, conntrack's state (UDP for a UDP entry) and the
 * seconds it has left.
 */
export interface NatEntry extends Omit<AdoptedEntry, 'protocol' | 'template' | 'remainingMs'> {
  readonly protocol: 'tcp' | 'udp';
  readonly family: 4 | 6;
  readonly remainingS: number;
  /** The connection's mark: its real server's in this director's rules. */
  readonly mark?: number;
}

/** Runs conntrack with these arguments; resolves with its exit code and output. */
export type ConntrackRun = (args: readonly string[]) => Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }>;

const linePattern = /^(tcp|udp)\s+\d+\s+(\d+)\s+(?:([A-Z_]+)\s+)?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+) .*?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/;

/** The NAT entries of `conntrack -L` output: those whose reply comes from another address or port than the client asked (a DNAT). */
export function parseConntrackList(text: string): NatEntry[] {
  return [...conntrackEntries(text)];
}

/** parseConntrackList's entries one by one, so a caller can let other work run between them. */
export function* conntrackEntries(text: string): Generator<NatEntry> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const m = linePattern.exec(text.slice(start, end).trim());
    start = end + 1;
    if (m === null) continue;
    const [, protocol, remaining, state, caddr, vaddr, cport, vport, raddr, , rport] = m as unknown as string[];
    if (raddr === vaddr && rport === vport) continue;
    yield {
      protocol: protocol as 'tcp' | 'udp',
      family: (caddr as string).includes(':') ? 6 : 4,
      caddr: caddr as string,
      cport: Number(cport),
      vaddr: vaddr as string,
      vport: Number(vport),
      daddr: raddr as string,
      dport: Number(rport),
      state: protocol === 'udp' ? 'UDP' : (state as string),
      remainingS: Number(remaining),
    };
  }
}

const tupleKey = (e: Pick<NatEntry, 'protocol' | 'caddr' | 'cport' | 'vaddr' | 'vport'>): string => `${e.protocol}|${e.caddr}|${e.cport}|${e.vaddr}|${e.vport}`;

/**
 * `conntrack -R FILE` lines that write the entries: a tuple the table already holds (left from
 * when this director last served) is deleted first, since one failed line stops the batch.
 */
export function conntrackRestoreLines(entries: readonly NatEntry[], present: readonly NatEntry[]): string {
  const here = new Set(present.map(tupleKey));
  const lines: string[] = [];
  for (const e of entries) {
    const tuple = `${e.family === 6 ? '-f ipv6 ' : ''}-p ${e.protocol} -s ${e.caddr} -d ${e.vaddr} --sport ${e.cport} --dport ${e.vport}`;
    if (here.has(tupleKey(e))) lines.push(`-D ${tuple}`);
    const state = e.protocol === 'tcp' ? ` --state ${e.state}` : '';
    const nat = e.family === 6 ? `[${e.daddr}]:${e.dport}` : `${e.daddr}:${e.dport}`;
    const mark = e.mark !== undefined ? ` --mark ${e.mark}` : '';
    lines.push(`-I ${tuple}${state} -u SEEN_REPLY,ASSURED -t ${Math.max(1, Math.ceil(e.remainingS))}${mark} --dst-nat ${nat}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
