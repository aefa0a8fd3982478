// What replication carries of a connection entry or persistence template: its key, where
// it goes, its state, and how long it has left. Time travels as remaining milliseconds,
// never as a clock value, so a backup whose clock differs still expires it on time.
export type SyncProtocol = 'tcp' | 'udp' | 'sctp' | 'ip';

/** Protocol, client and virtual address: what IPVS finds an entry by. */
export interface SyncKey {
  readonly protocol: SyncProtocol;
  readonly caddr: string;
  readonly cport: number;
  /** An address, or `fwmark:N` for a firewall-mark template. */
  readonly vaddr: string;
  readonly vport: number;
}

export interface SyncEntry extends SyncKey {
  readonly daddr: string;
  readonly dport: number;
  /** The IPVS state's name (ESTABLISHED, FIN_WAIT, UDP, NONE for a template…). */
  readonly state: string;
  readonly template: boolean;
  readonly remainingMs: number;
}

export type SyncChange = { readonly kind: 'upsert'; readonly entry: SyncEntry } | { readonly kind: 'expire'; readonly key: SyncKey };

export function entryKey(e: SyncKey): string {
  return `${e.protocol}|${e.caddr}|${e.cport}|${e.vaddr}|${e.vport}`;
}

export function changeKey(c: SyncChange): string {
  return entryKey(c.kind === 'upsert' ? c.entry : c.key);
}
