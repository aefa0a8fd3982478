// conntrack-tools' `conntrack`, run with arguments. A batch goes in a file (`-R FILE`):
// conntrack reads its batch file more than once, which a pipe cannot give it.
import { runProgram, type ProgramResult } from './program';

export type ConntrackResult = ProgramResult;

/** Runs `conntrack ARGS` (with `wrap` before it, e.g. `ip netns exec NS`); never rejects. */
export function runConntrack(args: readonly string[], wrap: readonly string[] = []): Promise<ConntrackResult> {
  return runProgram([...wrap, 'conntrack', ...args]);
}
