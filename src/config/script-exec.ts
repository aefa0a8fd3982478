// How a script line is started, as keepalived starts it: a line that begins with `<` and
// then `/` (`</dev/tcp/127.0.0.1/80`: "can this be opened?") is a shell redirection, so
// it goes to `/bin/sh -c` with its words joined by spaces; any other line is its program
// and arguments, run without a shell.
import type { Command } from './values';

/** Whether a script's first word makes it a shell redirection rather than a program. */
export const isRedirection = (first: string): boolean => /^<\s*\//.test(first);

export function scriptSpawnArgs(command: Command): { program: string; args: string[] } | undefined {
  const [first, ...rest] = command.argv;
  if (first === undefined || first === '') return undefined;
  if (isRedirection(first)) return { program: '/bin/sh', args: ['-c', command.argv.join(' ')] };
  return { program: first, args: rest };
}
