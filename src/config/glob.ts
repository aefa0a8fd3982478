// Include patterns as keepalived's glob(3) takes them: `*`, `?`, `[...]` per path segment
// and csh-style braces `{a,b}`. Hidden files match only a pattern that starts with a dot.
import path from 'node:path';
import type { ConfigFs } from './config-fs';

export const braceExpansionsMax = 256;
export const globMatchesMax = 1024;

/** `a{b,c{d,e}}f` → [abf, acdf, acef]; bounded, and a lone brace stays literal. */
export function expandBraces(pattern: string): string[] {
  const done: string[] = [];
  const todo = [pattern];
  while (todo.length > 0 && done.length + todo.length <= braceExpansionsMax) {
    const p = todo.shift() as string;
    const group = findBraceGroup(p);
    if (group === null) {
      done.push(p);
      continue;
    }
    const head = p.slice(0, group.open);
    const tail = p.slice(group.close + 1);
    for (const alt of group.alternatives) todo.push(head + alt + tail);
  }
  return done.concat(todo);
}

interface BraceGroup {
  open: number;
  close: number;
  alternatives: string[];
}

function findBraceGroup(p: string): BraceGroup | null {
  for (let open = 0; open < p.length; open++) {
    if (p[open] !== '{') continue;
    let depth = 0;
    let start = open + 1;
    const alternatives: string[] = [];
    for (let i = open; i < p.length; i++) {
      const c = p[i];
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) {
          alternatives.push(p.slice(start, i));
          if (alternatives.length < 2) break; // `{x}` is literal, as in csh
          return { open, close: i, alternatives };
        }
      } else if (c === ',' && depth === 1) {
        alternatives.push(p.slice(start, i));
        start = i + 1;
      }
    }
  }
  return null;
}

export function hasGlobMagic(segment: string): boolean {
  return /[*?[]/.test(segment);
}

export function segmentToRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

/** Files matching `pattern` (relative patterns resolve against baseDir), sorted, bounded. */
export function globFiles(fs: ConfigFs, baseDir: string, pattern: string): string[] {
  const found = new Set<string>();
  for (const expanded of expandBraces(pattern)) {
    const abs = path.resolve(baseDir, expanded);
    if (!hasGlobMagic(abs)) {
      if (fs.isFile(abs)) found.add(abs);
      continue;
    }
    let dirs = ['/'];
    const segments = abs.split('/').filter((s) => s.length > 0);
    for (const [index, segment] of segments.entries()) {
      const last = index === segments.length - 1;
      const next: string[] = [];
      for (const dir of dirs) {
        if (!hasGlobMagic(segment)) {
          next.push(path.join(dir, segment));
          continue;
        }
        const re = segmentToRegExp(segment);
        for (const name of fs.readdir(dir).sort()) {
          if (name.startsWith('.') && !segment.startsWith('.')) continue;
          if (re.test(name)) next.push(path.join(dir, name));
          if (next.length >= globMatchesMax) break;
        }
      }
      dirs = last ? next : next.slice(0, globMatchesMax);
    }
    for (const candidate of dirs) {
      if (found.size >= globMatchesMax) break;
      if (fs.isFile(candidate)) found.add(candidate);
    }
  }
  return [...found].sort();
}
