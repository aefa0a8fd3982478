// `sync { ... }` in the cluster block: whether directors copy one another's connection
// tables, on which link, and how many entries a copy may hold.
import type { SourcePos } from '../common/where';
import type { BlockSpec } from '../config/keywords';
import { durationArg, flagArg, intArg, set, wordArg } from '../config/values';

export const syncEntriesMaxDefault = 2_000_000;

export interface SyncConfig {
  /** On unless `connections off`. */
  connections: boolean;
  /** The link sync messages travel on; the node's first by default. */
  link?: string;
  linkWhere?: SourcePos;
  /** Entries each copy of a peer's table may hold. */
  maxEntries: number;
  /** How long a director that would preempt waits for a whole copy of the holder's table. */
  preemptWaitMs: number;
}

export function newSync(): SyncConfig {
  return { connections: true, maxEntries: syncEntriesMaxDefault, preemptWaitMs: 30_000 };
}

export const syncSpec: BlockSpec<SyncConfig> = {
  name: 'sync',
  keywords: {
    connections: (s, sync, cx) => {
      sync.connections = flagArg(cx, s);
    },
    link: (s, sync, cx) => {
      set(sync, 'link', wordArg(cx, s));
      sync.linkWhere = s.args[0]?.where ?? s.where;
    },
    max_entries: (s, sync, cx) => set(sync, 'maxEntries', intArg(cx, s, { min: 1, max: 100_000_000 })),
    preempt_wait: (s, sync, cx) => set(sync, 'preemptWaitMs', durationArg(cx, s, { min: 0, max: 3_600_000 })),
  },
};
