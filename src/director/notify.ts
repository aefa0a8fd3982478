// notify_up, notify_down, quorum_up and quorum_down scripts: run as keepalived runs them, not
// waited for beyond a deadline, their failure logged and never fatal.
import { spawn } from 'node:child_process';
import { scriptSpawnArgs } from '../config/script-exec';
import type { Command } from '../config/values';

export const notifyTimeoutMs = 30_000;

export function runNotify(command: Command, warn: (message: string) => void): void {
  const run = scriptSpawnArgs(command);
  if (run === undefined) return;
  const program = command.argv[0] as string;
  const child = spawn(run.program, run.args, { stdio: 'ignore' });
  const timer = setTimeout(() => {
    warn(`notify script ${program} still running after ${notifyTimeoutMs} ms: killed`);
    child.kill('SIGKILL');
  }, notifyTimeoutMs);
  child.once('error', (err) => {
    clearTimeout(timer);
    warn(`notify script ${program}: ${err.message}`);
  });
  child.once('exit', (code) => {
    clearTimeout(timer);
    if (code !== null && code !== 0) warn(`notify script ${program} exited with status ${code}`);
  });
}
