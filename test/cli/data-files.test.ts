import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { parseDataFile, rewriteDataFile, rewriting, splitArgs, type RunDirective } from '../support/datadriven';
import { repoRoot } from '../support/paths';

const dataDir = path.join(repoRoot(), 'test', 'data', 'cli');

/** Runs the CLI in-process in `cwd`; stdout and stderr interleaved as written, then the exit code. */
export async function runCli(args: string[], cwd: string): Promise<string[]> {
  let out = '';
  const write = (text: string): void => {
    out += text;
  };
  const code = await run(args, { stdout: write, stderr: write, cwd, env: {}, readStdin: () => Promise.resolve('') });
  return [...out.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1), `exit ${code}`];
}

describe('hadirector commands (test/data/cli/*.txt)', () => {
  for (const name of fs.readdirSync(dataDir).filter((f) => f.endsWith('.txt')).sort()) {
    it(`prints what ${name} expects, case by case`, async () => {
      const file = path.join(dataDir, name);
      const { lines, directives } = parseDataFile(file);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-cli-'));
      const outputs = new Map<RunDirective, string[]>();
      try {
        for (const d of directives) {
          if (d.kind === 'file') {
            fs.mkdirSync(path.dirname(path.join(dir, d.name)), { recursive: true });
            fs.writeFileSync(path.join(dir, d.name), d.content);
            continue;
          }
          const actual = await runCli(splitArgs(d.command), dir);
          outputs.set(d, actual);
          if (!rewriting) assert.deepEqual(actual, d.expected, `${name}:${d.line}: run ${d.command}`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      if (rewriting) rewriteDataFile(file, lines, outputs);
    });
  }
});
