import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/main';
import { repoRoot } from '../support/paths';

const doc = path.join(repoRoot(), 'docs', 'ipvs-sim.md');

/** Each ```ipvs-sim block of the page with the ```text block that follows it. */
function examples(text: string): Array<{ script: string; output: string; line: number }> {
  const out: Array<{ script: string; output: string; line: number }> = [];
  const re = /```ipvs-sim\n([\s\S]*?)```\n(?:(?!```)[\s\S])*?```text\n([\s\S]*?)```\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ script: m[1] as string, output: m[2] as string, line: text.slice(0, m.index).split('\n').length });
  }
  return out;
}

describe('docs/ipvs-sim.md', () => {
  const found = examples(fs.readFileSync(doc, 'utf8'));

  it('has the seed walk-through examples', () => {
    assert.ok(found.length >= 3, `only ${found.length} examples`);
  });

  for (const [i, example] of found.entries()) {
    it(`example ${i + 1} (line ${example.line}) prints what the page shows`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-sim-'));
      try {
        fs.writeFileSync(path.join(dir, 'example.sim'), example.script);
        let printed = '';
        const write = (t: string): void => {
          printed += t;
        };
        const code = await run(['ipvs-sim', '--echo', 'example.sim'], { stdout: write, stderr: write, cwd: dir, env: {}, readStdin: () => Promise.resolve('') });
        assert.equal(code, 0, printed);
        assert.equal(printed, example.output);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
