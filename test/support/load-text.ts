import { formatDiagnostic, type Diagnostic } from '../../src/config/diagnostics';
import { loadConfig, type LoadResult } from '../../src/config/load';
import { memoryFs } from './memory-fs';

export interface LoadTextOptions {
  readonly node?: string;
  readonly strict?: boolean;
  /** Other files, by absolute path. */
  readonly files?: Record<string, string>;
}

/** Loads `text` as /etc/hadirector/h.conf from an in-memory file system. */
export function loadText(text: string, options: LoadTextOptions = {}): LoadResult {
  const fs = memoryFs({ '/etc/hadirector/h.conf': text, ...(options.files ?? {}) });
  return loadConfig('/etc/hadirector/h.conf', { fs, node: options.node ?? 'd1', cwd: '/', strict: options.strict ?? false, env: {} });
}

/** `LINE:COL severity CODE` per diagnostic: compact enough to assert whole lists. */
export function brief(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.where?.line ?? 0}:${d.where?.col ?? 0} ${d.severity} ${d.code}`);
}

export function messages(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => formatDiagnostic(d));
}
