// The lab's `signal` agent: a director on this host is fenced by killing its process,
// found by pid file (`pid_file`, `%n` standing for the target node), with `signal`
// (KILL unless told). Fenced means the process is gone; `on` has nothing to do.
import fs from 'node:fs';
import type { Clock } from '../../common/clock';
import type { AgentAction } from './fence-agent';

export interface SignalOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

export function pidFileFor(template: string, target: string): string {
  return template.split('%n').join(target);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie has exited: nothing it held is in use any more.
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function signalFence(options: Readonly<Record<string, string>>, target: string, action: AgentAction, clock: Clock, signal: AbortSignal): Promise<SignalOutcome> {
  const template = options['pid_file'];
  if (template === undefined) return { ok: false, detail: 'the signal agent needs pid_file (%n for the node name)' };
  const file = pidFileFor(template, target);
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
  } catch (err) {
    // No pid file: nothing of the target runs here, which is what off means.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { ok: action !== 'on', detail: `${file} is missing: ${target} is not running` } : { ok: false, detail: `${file}: ${(err as Error).message}` };
  }
  if (!Number.isInteger(pid) || pid <= 1) return { ok: false, detail: `${file} holds no pid` };
  if (action === 'on') return { ok: true, detail: `the signal agent powers nothing on: start ${target} again` };
  if (action === 'status' || action === 'monitor') return { ok: true, detail: alive(pid) ? `pid ${pid} runs` : `pid ${pid} is gone` };
  const sig = (options['signal'] ?? 'KILL').toUpperCase().replace(/^SIG/, '');
  try {
    process.kill(pid, `SIG${sig}` as NodeJS.Signals);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') return { ok: false, detail: `kill -${sig} ${pid}: ${(err as Error).message}` };
  }
  // Off means gone: wait for it, bounded by the caller's timeout (signal).
  for (let i = 0; i < 10_000 && !signal.aborted; i++) {
    if (!alive(pid)) return { ok: true, detail: `killed pid ${pid} (SIG${sig})` };
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 20));
  }
  return { ok: false, detail: `pid ${pid} still runs after SIG${sig}` };
}
