// conntrack-tools' `conntrack`, run with arguments. A batch goes in a file (`-R FILE`):
// conntrack reads its batch file more than once, which a pipe cannot give it.
import { spawn } from 'node:child_process';

export interface ConntrackResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `conntrack ARGS` (with `wrap` before it, e.g. `ip netns exec NS`); never rejects. */
export function runConntrack(args: readonly string[], wrap: readonly string[] = []): Promise<ConntrackResult> {
  return new Promise((resolve) => {
    const argv = [...wrap, 'conntrack', ...args];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
