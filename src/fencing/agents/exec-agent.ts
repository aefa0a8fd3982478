// The `exec` agent: any program, `command` (split like a notify script), run as
// `COMMAND ACTION TARGET` with the device's other options in the environment as
// HADIRECTOR_FENCE_<OPTION> (upper case), plus HADIRECTOR_FENCE_ACTION and
// HADIRECTOR_FENCE_TARGET. Exit 0 is success.
import { spawn } from 'node:child_process';
import { splitCommandLine } from '../../config/values';
import { redact, type AgentAction, type AgentResult } from './fence-agent';

export function execEnvironment(options: Readonly<Record<string, string>>, target: string, action: AgentAction): Record<string, string> {
  const env: Record<string, string> = { HADIRECTOR_FENCE_ACTION: action, HADIRECTOR_FENCE_TARGET: target };
  for (const [key, value] of Object.entries(options)) if (key !== 'command') env[`HADIRECTOR_FENCE_${key.toUpperCase().replace(/-/g, '_')}`] = value;
  return env;
}

export function execFence(options: Readonly<Record<string, string>>, target: string, action: AgentAction, signal: AbortSignal, secrets: readonly string[]): Promise<AgentResult> {
  const [program, ...args] = splitCommandLine(options['command'] ?? '');
  if (program === undefined) return Promise.resolve({ code: undefined, detail: 'the exec agent needs a command' });
  return new Promise((resolve) => {
    const child = spawn(program, [...args, action, target], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...execEnvironment(options, target, action) }, signal });
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-4096);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) => resolve({ code: undefined, detail: err.name === 'AbortError' ? 'killed' : err.message }));
    child.once('close', (code) => resolve({ code: code ?? undefined, detail: redact(output, secrets).trim().split('\n').at(-1)?.slice(0, 300) ?? '' }));
  });
}
