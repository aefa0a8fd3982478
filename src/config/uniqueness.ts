import type { SourcePos } from '../common/where';
import type { Diagnostics } from './diagnostics';

/**
 * Reports every item whose key was already seen, naming where the first one stands.
 * Returns the first item of each key.
 */
export function reportDuplicates<T>(
  diags: Diagnostics,
  items: readonly T[],
  key: (item: T) => string | undefined,
  where: (item: T) => SourcePos,
  describe: (item: T) => string,
  severity: 'error' | 'warning' = 'error',
): Map<string, T> {
  const first = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const earlier = first.get(k);
    if (earlier === undefined) {
      first.set(k, item);
      continue;
    }
    const at = where(earlier);
    const message = `${describe(item)} is already defined at ${at.file}:${at.line}:${at.col}`;
    if (severity === 'error') diags.error('HAD_CFG_DUPLICATE', message, where(item));
    else diags.warn('HAD_CFG_DUPLICATE', message, where(item));
  }
  return first;
}

/** The items whose key was not seen before, in order: the first of each key. */
export function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
