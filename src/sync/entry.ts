// What replication carries of a connection entry or persistence template: its key, where
// it goes, its state, and how long it has left. Time travels as remaining milliseconds,
// never as a clock value, so a backup whose clock differs still expires it on time.
export type SyncProtocol = 'tcp' | 'udp' | 'sctp' | 'ip';

export interface SyncEntry {
  readonly protocol: SyncProtocol;
  readonly caddr: string;
  readonly cport: number;
  readonly vaddr: string;
  readonly vport: number;
  readonly daddr: string;
  readonly dport: number;
  /** The IPVS state's name (ESTABLISHED, FIN_WAIT, UDP, NONE for a template…). */
  readonly state: string;
  readonly template: boolean;
  readonly remainingMs: number;
}

export type SyncChange = { readonly kind: 'upsert'; readonly entry: SyncEntry } | { readonly kind: 'expire'; readonly key: string };

/** Protocol, client and virtual address: the key IPVS finds an entry by. */
export function entryKey(e: Pick<SyncEntry, 'protocol' | 'caddr' | 'cport' | 'vaddr' | 'vport'>): string {
  return `${e.protocol}|${e.caddr}|${e.cport}|${e.vaddr}|${e.vport}`;
}

export function changeKey(c: SyncChange): string {
  return c.kind === 'upsert' ? entryKey(c.entry) : c.key;
}
