// What replication carries of a connection entry or persistence template: the engine's
// own shape of an entry it adopts (its key, where it goes, its state, and how long it has
// left). Time travels as remaining milliseconds, never as a clock value, so a backup
// whose clock differs still expires it on time.
import type { ConnProtocol } from '../ipvs/conn/connection';
import type { AdoptedEntry } from '../ipvs/engine';

export type SyncProtocol = ConnProtocol;

export type SyncEntry = AdoptedEntry;

/** Protocol, client and virtual address: what IPVS finds an entry by. */
export type SyncKey = Pick<SyncEntry, 'protocol' | 'caddr' | 'cport' | 'vaddr' | 'vport'>;

export type SyncChange = { readonly kind: 'upsert'; readonly entry: SyncEntry } | { readonly kind: 'expire'; readonly key: SyncKey };

export function entryKey(e: SyncKey): string {
  return `${e.protocol}|${e.caddr}|${e.cport}|${e.vaddr}|${e.vport}`;
}
