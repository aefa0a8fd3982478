// `sync { ... }` in the cluster block: whether directors copy one another's connection
// tables, on which link, and how many entries a copy may hold.
import type { SourcePos } from '../common/where';
import type { BlockSpec } from '../config/keywords';
import { flagArg, intArg, set, wordArg } from '../config/values';

export const syncEntriesMaxDefault = 2_000_000;

export interface SyncConfig {
  /** On unless `connections off`. */
  connections: boolean;
  /** The link sync messages travel on; the node's first by default. */
  link?: string;
  linkWhere?: SourcePos;
  /** Entries each copy of a peer's table may hold. */
  maxEntries: number;
}

export function newSync(): SyncConfig {
  return { connections: true, maxEntries: syncEntriesMaxDefault };
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
  },
};
