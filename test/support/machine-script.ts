// The runner of machine scripts (test/data/<machine>/*.txt): each `run` line is a command
// for a harness, which answers with the lines the machine printed (its actions, then its
// describe() line). `advance` in a harness fires the timers the machine asked for, in
// time order, through ScriptTimers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { VirtualClock } from '../../src/common/clock';
import { parseDataFile, rewriteDataFile, rewriting, type RunDirective } from './datadriven';
import { repoRoot } from './paths';

export interface ScriptHarness {
  run(command: string): string[];
}

/** One mocha test per script in test/data/DIR, each on a fresh harness. */
export function describeScripts(title: string, dir: string, harness: () => ScriptHarness): void {
  const dataDir = path.join(repoRoot(), 'test', 'data', dir);
  describe(`${title} (test/data/${dir}/*.txt)`, () => {
    for (const name of fs.readdirSync(dataDir).filter((f) => f.endsWith('.txt')).sort()) {
      it(`behaves as ${name} says`, () => {
        const file = path.join(dataDir, name);
        const { lines, directives } = parseDataFile(file);
        const h = harness();
        const outputs = new Map<RunDirective, string[]>();
        for (const d of directives) {
          if (d.kind !== 'run') continue;
          const actual = h.run(d.command);
          outputs.set(d, actual);
          if (!rewriting) assert.deepEqual(actual, d.expected, `${name}:${d.line}: run ${d.command}`);
        }
        if (rewriting) rewriteDataFile(file, lines, outputs);
      });
    }
  });
}

/** A command's verb, its words after the verb, and those words as `key=value` (see `words`). */
export function parseCommand(command: string): { verb: string; args: string[]; w: Map<string, string> } {
  const [verb = '', ...args] = command.split(/\s+/);
  return { verb, args, w: words(command) };
}

/** `key=value` words of a command after its verb; a bare word is `word=true`. */
export function words(command: string): Map<string, string> {
  return new Map(
    command
      .split(/\s+/)
      .slice(1)
      .map((w) => {
        const i = w.indexOf('=');
        return i === -1 ? [w, 'true'] : [w.slice(0, i), w.slice(i + 1)];
      }),
  );
}

/** The words of a command after its verb that are not `key=value`, joined. */
export function freeText(command: string, skip = 1): string {
  return command
    .split(/\s+/)
    .slice(skip)
    .filter((w) => !w.includes('='))
    .join(' ');
}

/** `advance 500ms` / `advance 2s`: the milliseconds. */
export function durationWord(word: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(word ?? '');
  if (m === null) throw new Error(`not a duration: ${word ?? '(none)'}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** A machine's own timer actions, whatever else it returns. */
type TimerAction<Name> = { readonly kind: 'setTimer'; readonly timer: Name; readonly atMs: number } | { readonly kind: 'cancelTimer'; readonly timer: Name };

/** The deadlines a machine asked for, fired in time order (and in the order set, among equals). */
export class ScriptTimers<Name> {
  private readonly armed = new Map<Name, number>();

  /** Arms and cancels as a machine's actions say. */
  follow(actions: ReadonlyArray<TimerAction<Name> | { readonly kind: string }>): void {
    for (const a of actions) {
      if (a.kind === 'setTimer') this.set((a as TimerAction<Name> & { atMs: number }).timer, (a as { atMs: number }).atMs);
      if (a.kind === 'cancelTimer') this.cancel((a as TimerAction<Name>).timer);
    }
  }

  set(name: Name, atMs: number): void {
    this.armed.delete(name);
    this.armed.set(name, atMs);
  }

  cancel(name: Name): void {
    this.armed.delete(name);
  }

  clear(): void {
    this.armed.clear();
  }

  /**
   * Moves the clock to `endMs`, stopping at each deadline due by then to let `fire` step
   * the machine; at most 1,000 of them.
   */
  advance(clock: VirtualClock, endMs: number, fire: (name: Name) => void): void {
    for (let n = 0; n < 1000; n++) {
      let due: [Name, number] | undefined;
      for (const entry of this.armed) if (entry[1] <= endMs && (due === undefined || entry[1] < due[1])) due = entry;
      if (due === undefined) break;
      this.armed.delete(due[0]);
      clock.advanceTo(due[1]);
      fire(due[0]);
    }
    clock.advanceTo(endMs);
  }
}
