// Helpers for the keyword tests: load a configuration given as text from an in-memory
// file system, pick diagnostics by code, and name places the way the CLI prints them.
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../src/config/diagnostics';
import type { ConfigErrorCode } from '../../src/config/errors';
import { loadConfig, type LoadResult } from '../../src/config/load';
import { memoryFs } from '../support/memory-fs';

/** The main file every test loads; its directory is where relative paths resolve. */
export const mainFile = '/etc/hadirector/h.conf';

export interface LoadTextOptions {
  /** This node's name; 'd1' unless told. */
  readonly node?: string;
  /** Other files present (absolute paths), such as a key file. */
  readonly files?: Readonly<Record<string, string>>;
  readonly strict?: boolean;
}

export function loadText(text: string, options: LoadTextOptions = {}): LoadResult {
  const fs = memoryFs({ ...options.files, [mainFile]: text });
  return loadConfig(mainFile, { fs, node: options.node ?? 'd1', cwd: '/', strict: options.strict ?? false });
}

/** Lines joined with newlines, so that a test's line numbers are easy to count. */
export function lines(...ls: string[]): string {
  return ls.join('\n') + '\n';
}

/** `FILE:LINE:COL` of the n-th (1-based) occurrence of `needle` in `text`. */
export function at(text: string, needle: string, nth = 1): string {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    assert.notEqual(index, -1, `'${needle}' (occurrence ${nth}) is not in the text`);
  }
  const before = text.slice(0, index).split('\n');
  return `${mainFile}:${before.length}:${(before[before.length - 1] as string).length + 1}`;
}

/** `FILE:LINE:COL` just past the n-th occurrence of `needle`: where the value after a keyword starts. */
export function atEnd(text: string, needle: string, nth = 1): string {
  const m = /^(.*):(\d+):(\d+)$/.exec(at(text, needle, nth)) as RegExpExecArray;
  return `${m[1]}:${m[2]}:${Number(m[3]) + needle.length}`;
}

export function placeOf(d: Diagnostic): string {
  assert.ok(d.where !== undefined, `diagnostic has no place: ${d.message}`);
  return `${d.where.file}:${d.where.line}:${d.where.col}`;
}

/** Every diagnostic with this code. */
export function withCode(result: LoadResult, code: ConfigErrorCode): Diagnostic[] {
  return result.diagnostics.filter((d) => d.code === code);
}

/** The one diagnostic with this code; fails listing all diagnostics when there are 0 or 2+. */
export function only(result: LoadResult, code: ConfigErrorCode): Diagnostic {
  const found = withCode(result, code);
  assert.equal(found.length, 1, `expected one ${code}, got:\n${describeAll(result)}`);
  return found[0] as Diagnostic;
}

/** `severity CODE FILE:LINE:COL` of every diagnostic, for whole-list comparisons. */
export function summary(result: LoadResult): string[] {
  return result.diagnostics.map((d) => `${d.severity} ${d.code} ${d.where === undefined ? d.file : placeOf(d)}`);
}

export function describeAll(result: LoadResult): string {
  const list = result.diagnostics.map((d) => `  ${d.severity} ${d.code} ${d.where ? placeOf(d) : ''} ${d.message}`);
  return list.length === 0 ? '  (none)' : list.join('\n');
}

/** Asserts there is no diagnostic at all. */
export function assertClean(result: LoadResult): void {
  assert.equal(result.diagnostics.length, 0, `expected no diagnostics, got:\n${describeAll(result)}`);
}

/** Asserts there are no errors (warnings allowed). */
export function assertNoErrors(result: LoadResult): void {
  assert.equal(result.errorCount, 0, `expected no errors, got:\n${describeAll(result)}`);
}

/** Asserts exactly one diagnostic with `code`, of `severity`, at `place`; returns it. */
export function assertOne(result: LoadResult, code: ConfigErrorCode, severity: 'error' | 'warning', place: string): Diagnostic {
  const d = only(result, code);
  assert.equal(d.severity, severity, `${code}: ${d.message}`);
  assert.equal(placeOf(d), place, `${code}: ${d.message}`);
  return d;
}

/** A vrrp_instance that passes every check, with `body` lines added inside. */
export function instance(name: string, vrid: number, vip: string, ...body: string[]): string {
  return lines(
    `vrrp_instance ${name} {`,
    '    interface eth0',
    `    virtual_router_id ${vrid}`,
    '    virtual_ipaddress {',
    `        ${vip}`,
    '    }',
    ...body.map((b) => `    ${b}`),
    '}',
  );
}

/** A virtual_server with TCP and one checked real server, with `body` lines added inside. */
export function service(head: string, ...body: string[]): string {
  return lines(`virtual_server ${head} {`, '    protocol TCP', ...body.map((b) => `    ${b}`), '}');
}
