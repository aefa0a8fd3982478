// Data-driven tests in the style of etcd-io/raft's testdata: a file holds cases, each a
// command, `----`, and the output it must print. `REWRITE=1 npm test` rewrites the
// expected output from what the code prints now; commit a rewrite only when you
// understand its diff.
//
//   # comment
//   file main.conf <<EOF        (writes a file into the case directory; blank lines allowed)
//   vrrp_instance VI_1 {
//   EOF
//
//   run check-config -f main.conf
//   ----
//   main.conf:1:20: error: ... [HAD_CFG_UNCLOSED_BLOCK]
//   exit 1
//
// Expected output ends at a blank line or the end of the file.
import fs from 'node:fs';

export interface FileDirective {
  readonly kind: 'file';
  readonly name: string;
  readonly content: string;
  readonly line: number;
}

export interface RunDirective {
  readonly kind: 'run';
  readonly command: string;
  readonly expected: string[];
  readonly line: number;
  /** Index range [from, to) of the expected lines in the source file's lines. */
  readonly expectedFrom: number;
  readonly expectedTo: number;
}

export type Directive = FileDirective | RunDirective;

export function parseDataFile(path: string): { lines: string[]; directives: Directive[] } {
  const lines = fs.readFileSync(path, 'utf8').split('\n');
  const directives: Directive[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`${path}:${i + 1}: ${msg}`);
  };
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const file = /^file (\S+) <<(\w+)$/.exec(line);
    if (file !== null) {
      const start = i;
      const body: string[] = [];
      i++;
      while (i < lines.length && lines[i] !== file[2]) body.push(lines[i++] as string);
      if (i >= lines.length) fail(`heredoc ${file[2]} never ends`);
      i++;
      directives.push({ kind: 'file', name: file[1] as string, content: body.join('\n') + '\n', line: start + 1 });
      continue;
    }
    const run = /^run (.+)$/.exec(line);
    if (run === null) fail(`expected 'file NAME <<EOF' or 'run COMMAND', got '${line}'`);
    const start = i;
    if (lines[i + 1] !== '----') fail(`'run' must be followed by '----'`);
    i += 2;
    const from = i;
    while (i < lines.length && (lines[i] as string).trim() !== '') i++;
    directives.push({ kind: 'run', command: (run as RegExpExecArray)[1] as string, expected: lines.slice(from, i), line: start + 1, expectedFrom: from, expectedTo: i });
  }
  return { lines, directives };
}

/** Writes `actual` outputs in place of the expected ones (REWRITE=1). */
export function rewriteDataFile(path: string, lines: string[], outputs: Map<RunDirective, string[]>): void {
  const out: string[] = [];
  let cursor = 0;
  const runs = [...outputs.keys()].sort((a, b) => a.expectedFrom - b.expectedFrom);
  for (const run of runs) {
    out.push(...lines.slice(cursor, run.expectedFrom), ...(outputs.get(run) as string[]));
    cursor = run.expectedTo;
  }
  out.push(...lines.slice(cursor));
  fs.writeFileSync(path, out.join('\n'));
}

export const rewriting = process.env['REWRITE'] === '1';

/** Splits a command line on blanks, honouring double and single quotes. */
export function splitArgs(command: string): string[] {
  const args: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(command); m !== null; m = re.exec(command)) args.push(m[1] ?? m[2] ?? (m[3] as string));
  return args;
}
