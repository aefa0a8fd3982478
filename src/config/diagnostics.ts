// The parser and the validator never stop at the first problem: they collect every
// diagnostic with its severity and place, and the caller decides by the worst one
// (as keepalived's config test does). --strict promotes warnings to errors.
import { formatWhere, type SourcePos } from '../common/where';
import type { ConfigErrorCode } from './errors';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: ConfigErrorCode;
  readonly message: string;
  /** Absent only for problems with no place, such as an unreadable top-level file. */
  readonly where?: SourcePos;
  /** The file name to print when there is no position. */
  readonly file?: string;
}

/** Bounds the list so that a garbage file cannot exhaust memory through diagnostics. */
export const diagnosticsMax = 1000;

export class Diagnostics {
  private readonly items: Diagnostic[] = [];
  private droppedCount = 0;

  error(code: ConfigErrorCode, message: string, where?: SourcePos): void {
    this.add({ severity: 'error', code, message, where });
  }

  warn(code: ConfigErrorCode, message: string, where?: SourcePos): void {
    this.add({ severity: 'warning', code, message, where });
  }

  add(diagnostic: Diagnostic): void {
    if (this.items.length >= diagnosticsMax) {
      this.droppedCount++;
      return;
    }
    this.items.push(diagnostic);
  }

  get list(): readonly Diagnostic[] {
    return this.items;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  errorCount(): number {
    return this.items.filter((d) => d.severity === 'error').length;
  }

  warningCount(): number {
    return this.items.filter((d) => d.severity === 'warning').length;
  }
}

/** `--strict`: every warning becomes an error. */
export function promoteWarnings(list: readonly Diagnostic[]): Diagnostic[] {
  return list.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' } : d));
}

/** Grouped by file (in the order files were first met), then by line and column. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const fileRank = new Map<string, number>();
  for (const d of list) {
    const file = fileOf(d);
    if (!fileRank.has(file)) fileRank.set(file, fileRank.size);
  }
  return list
    .map((d, index) => ({ d, index }))
    .sort(
      (a, b) =>
        (fileRank.get(fileOf(a.d)) ?? 0) - (fileRank.get(fileOf(b.d)) ?? 0) ||
        (a.d.where?.line ?? 0) - (b.d.where?.line ?? 0) ||
        (a.d.where?.col ?? 0) - (b.d.where?.col ?? 0) ||
        a.index - b.index,
    )
    .map((x) => x.d);
}

function fileOf(d: Diagnostic): string {
  return d.where?.file ?? d.file ?? '';
}

/** `FILE:LINE:COL: error|warning: message [CODE]`, the shape compilers and editors read. */
export function formatDiagnostic(d: Diagnostic): string {
  const place = d.where !== undefined ? formatWhere(d.where) : (d.file ?? 'config');
  return `${place}: ${d.severity}: ${d.message} [${d.code}]`;
}
