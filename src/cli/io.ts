/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** All of standard input, for commands that read a script from it. */
  readonly readStdin: () => Promise<string>;
  /** Whether stdout is a terminal (a progress line is redrawn in place there). */
  readonly isTTY?: boolean;
  /** Whether the command runs as root (check-config then asks the kernel what it takes). */
  readonly root?: boolean;
}

/** EX_IOERR: output could not be written. */
export const exitIoError = 74;

/**
 * The process's own streams. A closed pipe (`hadirector ... | head`) ends the run quietly,
 * as Unix tools do, instead of crashing with a stack trace.
 */
export function processIo(): CliIo {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      process.exit(err.code === 'EPIPE' ? (typeof process.exitCode === 'number' ? process.exitCode : 0) : exitIoError);
    });
  }
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    root: process.getuid?.() === 0,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
