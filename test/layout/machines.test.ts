// The machines that decide are pure: no timers, no waiting, no callbacks. This test reads
// their source and counts what would make one otherwise, so a timer or a callback that
// creeps back in fails here rather than in a simulation that can no longer see it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/paths';

/** The decision machines (ARCHITECTURE.md, "Time"), and the pure parts they are made of. */
export const machineFiles = [
  'src/cluster/node.ts',
  'src/cluster/membership.ts',
  'src/cluster/quorum.ts',
  'src/cluster/facts.ts',
  'src/heartbeat/failure-detector.ts',
  'src/heartbeat/receiver.ts',
  'src/fencing/coordinator.ts',
  'src/host/health.ts',
  'src/host/colour.ts',
  'src/host/worst-window.ts',
  'src/vrrp/agent.ts',
  'src/vrrp/gate.ts',
  'src/vrrp/instance.ts',
];

const forbidden: ReadonlyArray<readonly [string, RegExp]> = [
  ['a timer', /\b(setTimeout|clearTimeout|setInterval|setImmediate|queueMicrotask)\b/],
  ['waiting', /\b(async|await|Promise)\b|\.then\(/],
  ['an abort signal', /\bAbort(Controller|Signal)\b/],
  ['an event emitter', /\bEventEmitter\b|\.on\(\s*'/],
  ['the system clock or randomness', /\b(Date\.now|performance\.now|Math\.random)\b/],
  // A member whose type is a function: a callback handed in, or handed out.
  ['a callback member', /^\s*(readonly\s+)?\w+\??:\s*\([^)]*\)\s*=>/],
];

/** Each line that breaks a rule, as FILE:LINE: WHAT: TEXT. Comments do not count. */
export function impurities(file: string): string[] {
  const lines = fs.readFileSync(path.join(repoRoot(), file), 'utf8').split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
    for (const [what, re] of forbidden) if (re.test(code)) out.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
  });
  return out;
}

describe('the decision machines are pure', () => {
  it('arm no timer, await nothing, take and give no callback', () => {
    assert.deepEqual(machineFiles.flatMap(impurities), []);
  });

  it('the check is not vacuous: it finds the timers and callbacks of the director shell', () => {
    const shell = impurities('src/director/control-plane.ts').concat(impurities('src/director/cluster-fencing.ts'));
    assert.ok(shell.some((l) => / a callback member: /.test(l)), shell.join('\n'));
    assert.ok(impurities('src/director/timers.ts').some((l) => / a timer: /.test(l)));
  });
});
