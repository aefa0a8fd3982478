// The `exec` agent: any program, `command` (split like a notify script), run as
// `COMMAND ACTION TARGET` with the device's other options in the environment as
// HADIRECTOR_FENCE_<OPTION> (upper case), plus HADIRECTOR_FENCE_ACTION and
// HADIRECTOR_FENCE_TARGET. Exit 0 is success.
import { splitCommandLine } from '../../config/values';
import { runAgent, type AgentAction, type AgentResult } from './fence-agent';

export function execEnvironment(options: Readonly<Record<string, string>>, target: string, action: AgentAction): Record<string, string> {
  const env: Record<string, string> = { HADIRECTOR_FENCE_ACTION: action, HADIRECTOR_FENCE_TARGET: target };
  for (const [key, value] of Object.entries(options)) if (key !== 'command') env[`HADIRECTOR_FENCE_${key.toUpperCase().replace(/-/g, '_')}`] = value;
  return env;
}

export function execFence(options: Readonly<Record<string, string>>, target: string, action: AgentAction, signal: AbortSignal, secrets: readonly string[]): Promise<AgentResult> {
  const [program, ...args] = splitCommandLine(options['command'] ?? '');
  if (program === undefined) return Promise.resolve({ code: undefined, detail: 'the exec agent needs a command' });
  return runAgent(program, [...args, action, target], { env: { ...process.env, ...execEnvironment(options, target, action) } }, signal, secrets);
}
