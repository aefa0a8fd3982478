// What directors say to one another about their tables, before it is put on the wire
// (src/sync/wire.ts). Every message carries its sender's epoch, so a peer notices a
// restart from whatever comes first; requests and acks also name the epoch of the copy
// they are about, so a director that restarted since answers with a new snapshot.
import type { SyncChange } from './entry';
import type { SyncPage, SyncRequest } from './receiver';

export type SyncMessage =
  | { readonly kind: 'batch'; readonly epoch: number; readonly seq: number; readonly changes: readonly SyncChange[] }
  | { readonly kind: 'request'; readonly epoch: number; readonly copyEpoch: number; readonly request: SyncRequest }
  | { readonly kind: 'page'; readonly epoch: number; readonly page: SyncPage }
  | { readonly kind: 'ack'; readonly epoch: number; readonly copyEpoch: number; readonly appliedSeq: number; readonly windowBatches: number };

/** A message and whom it is for: one director, or every other (`*`). */
export interface Outgoing {
  readonly to: string;
  readonly message: SyncMessage;
}

export const everyPeer = '*';
