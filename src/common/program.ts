// A program run without a shell, its standard input written and its whole output
// collected, for the tools the data planes drive (nft, conntrack, ipvsadm). Never rejects: a
// program that cannot start is exit 127 with the reason on stderr.
import { spawn } from 'node:child_process';

export interface ProgramResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ProgramOptions {
  /** What the program reads; none: its standard input is closed. */
  readonly stdin?: string;
  /** Past this many bytes of output the program is stopped and the run fails. */
  readonly outputBytesMax?: number;
}

/** Runs `argv` (the program first, e.g. `ip netns exec NS conntrack -L`). */
export function runProgram(argv: readonly string[], o: ProgramOptions = {}): Promise<ProgramResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: [o.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    // Decoded once at the end: a character split across two chunks stays whole.
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let bytes = 0;
    const over = (): boolean => o.outputBytesMax !== undefined && bytes > o.outputBytesMax;
    const take = (d: Buffer, into: Buffer[]): void => {
      bytes += d.length;
      if (over()) {
        child.kill();
        return;
      }
      into.push(d);
    };
    const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString();
    child.stdout?.on('data', (d: Buffer) => take(d, stdout));
    child.stderr?.on('data', (d: Buffer) => take(d, stderr));
    child.on('error', (err) => resolve({ code: 127, stdout: text(stdout), stderr: err.message }));
    child.on('close', (code) => {
      if (over()) resolve({ code: 1, stdout: '', stderr: `${argv.join(' ')} printed more than ${o.outputBytesMax} bytes` });
      else resolve({ code: code ?? 1, stdout: text(stdout), stderr: text(stderr) });
    });
    if (o.stdin !== undefined) {
      // A program that exits before reading all of it closes the pipe: its exit says why.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(o.stdin);
    }
  });
}
