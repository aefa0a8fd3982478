// notify_up, notify_down, quorum_up and quorum_down scripts: run without a shell, not
// waited for beyond a deadline, their failure logged and never fatal.
import { spawn } from 'node:child_process';
import type { Command } from '../config/values';

export const notifyTimeoutMs = 30_000;

export function runNotify(command: Command, warn: (message: string) => void): void {
  const [program, ...args] = command.argv;
  if (program === undefined) return;
  const child = spawn(program, args, { stdio: 'ignore' });
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
