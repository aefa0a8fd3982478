// `$NAME=value` definitions and their expansion as `$NAME` or `${NAME}` (keepalived's
// "parameter substitution"). Values are expanded when used, so a definition may refer to
// one made later; an undefined name stays as written, so `$1` in a script survives.
// A multi-line value (lines ending in `\`) expands to several lines.

export const definitionsMax = 1024;
export const expansionPassesMax = 16;
export const expandedLengthMax = 256 * 1024;

export interface ExpandContext {
  /** Directory of the file being read, for ${_PWD}. */
  readonly dir: string;
  /** This node's name, for ${_INSTANCE}. */
  readonly node: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Expanded {
  readonly text: string;
  readonly colMap: number[];
  /** Set when expansion did not settle: a definition that refers to itself. */
  readonly runaway: boolean;
}

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*/;

export class Definitions {
  private readonly values = new Map<string, string>();

  /** False when the table is full. */
  define(name: string, value: string): boolean {
    if (!this.values.has(name) && this.values.size >= definitionsMax) return false;
    this.values.set(name, value);
    return true;
  }

  get size(): number {
    return this.values.size;
  }

  expand(text: string, colMap: number[], cx: ExpandContext): Expanded {
    let current = { text, colMap };
    for (let pass = 0; pass < expansionPassesMax; pass++) {
      const next = this.expandOnce(current.text, current.colMap, cx);
      if (next === null) return { ...current, runaway: false };
      current = next;
      if (current.text.length > expandedLengthMax) break;
    }
    return { ...current, runaway: true };
  }

  /** One pass; null when nothing was replaced. */
  private expandOnce(text: string, colMap: number[], cx: ExpandContext): { text: string; colMap: number[] } | null {
    let out = '';
    const outMap: number[] = [];
    let replaced = false;
    let i = 0;
    while (i < text.length) {
      const ref = text[i] === '$' ? parseReference(text, i) : null;
      const value = ref === null ? undefined : this.lookup(ref.name, ref.arg, cx);
      if (ref === null || value === undefined) {
        out += text[i];
        outMap.push(colMap[i] as number);
        i++;
        continue;
      }
      out += value;
      for (let k = 0; k < value.length; k++) outMap.push(colMap[i] as number);
      replaced = true;
      i = ref.end;
    }
    return replaced ? { text: out, colMap: outMap } : null;
  }

  private lookup(name: string, arg: string, cx: ExpandContext): string | undefined {
    if (arg === '' && this.values.has(name)) return this.values.get(name);
    switch (name) {
      case '_PWD':
        return cx.dir;
      case '_INSTANCE':
        return cx.node;
      case '_HASH':
        return '#';
      case '_BANG':
        return '!';
      case '_ENV':
        return arg === '' ? undefined : (cx.env[arg] ?? '');
      default:
        return undefined;
    }
  }
}

/** `$NAME` or `${NAME}` or `${NAME ARG}` at text[at]; null when it is not a reference. */
function parseReference(text: string, at: number): { name: string; arg: string; end: number } | null {
  if (text[at + 1] === '{') {
    const close = text.indexOf('}', at + 2);
    if (close === -1) return null;
    const inner = text.slice(at + 2, close).trim();
    const m = namePattern.exec(inner);
    if (m === null) return null;
    return { name: m[0], arg: inner.slice(m[0].length).trim(), end: close + 1 };
  }
  const m = namePattern.exec(text.slice(at + 1, at + 1 + 256));
  if (m === null) return null;
  return { name: m[0], arg: '', end: at + 1 + m[0].length };
}

/** `$NAME=value` (no space before `=`) at the start of a line; null otherwise. */
export function parseDefinition(line: string): { name: string; value: string } | null {
  const m = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
  if (m === null) return null;
  return { name: m[1] as string, value: m[2] as string };
}
