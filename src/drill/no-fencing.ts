// `drill --no-fencing`: the drill's copy of the configuration with fencing switched off,
// to show what STONITH saves a cluster from: the fencing block (found where the
// configuration loader says it starts) gets mode self_release, so a takeover waits for
// no fence, and its devices and levels are commented out, so none is fenced at all.
// Commenting out keeps every line where it was, and the daemons' messages point at the
// same lines as the original's.
import fs from 'node:fs';
import { commentStart } from '../config/lexer';
import { loadConfig } from '../config/load';

/** The text with the fencing block that starts at `line` (1-based) switched off; undefined when no block starts there. */
export function fencingOff(text: string, line: number): string | undefined {
  const lines = text.split('\n');
  let depth = 0;
  let opened = false;
  let commenting = false;
  for (let i = line - 1; i < lines.length; i++) {
    const whole = lines[i] as string;
    const code = whole.slice(0, commentStart(whole));
    const rest = whole.slice(code.length);
    if (!opened) {
      const brace = code.indexOf('{');
      if (brace >= 0) {
        const after = code.slice(brace + 1);
        const mended = /\bmode\s+\S+/.test(after) ? after.replace(/\bmode\s+[^\s}]+/g, 'mode self_release') : ` mode self_release${after}`;
        lines[i] = `${code.slice(0, brace + 1)}${mended}${rest}`;
      }
    } else if (depth === 1 && /^\s*(@\^?\S+\s+)?(device|level)\b/.test(code)) {
      commenting = true;
    } else if (depth === 1) {
      lines[i] = `${code.replace(/^(\s*(?:@\^?\S+\s+)?)mode\s+\S+/, '$1mode self_release')}${rest}`;
    }
    if (commenting) lines[i] = `# (drill --no-fencing) ${whole}`;
    for (const c of code) depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    opened ||= code.includes('{');
    if (commenting && depth === 1) commenting = false;
    if (opened && depth <= 0) return lines.join('\n');
  }
  return undefined;
}

/** Rewrites the file so; undefined when done, else why not. */
export function withoutFencing(file: string): string | undefined {
  const where = loadConfig(file, { node: 'drill' }).config.cluster?.fencing.where;
  if (where === undefined) return `${file} has no fencing block to switch off`;
  const text = fs.readFileSync(where.file, 'utf8');
  const changed = fencingOff(text, where.line);
  if (changed === undefined) return `${where.file}:${where.line}: no fencing block found there`;
  fs.writeFileSync(where.file, changed);
  return undefined;
}
