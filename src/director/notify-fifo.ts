// keepalived's notify_fifo: one line per state change, `INSTANCE "VI_1" MASTER 100` or
// `GROUP "G1" BACKUP 0`, written to a FIFO a reader script drains. The FIFO is made if
// missing and opened read-write, so writing never blocks and no reader is needed at
// start; when the pipe is full the line is dropped and counted rather than wait.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export class NotifyFifo {
  private fd: number | undefined;
  dropped = 0;

  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void,
  ) {}

  open(): void {
    try {
      if (!fs.existsSync(this.path)) {
        const made = spawnSync('mkfifo', ['-m', '600', this.path], { encoding: 'utf8' });
        if (made.status !== 0) throw new Error(made.stderr.trim() || made.error?.message || `mkfifo exited ${made.status}`);
      }
      if (!fs.statSync(this.path).isFIFO()) throw new Error('not a FIFO');
      this.fd = fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    } catch (err) {
      this.warn(`notify_fifo ${this.path}: ${(err as Error).message}; no lines will be written`);
    }
  }

  write(line: string): void {
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, `${line}\n`);
    } catch (err) {
      if (this.dropped++ === 0) this.warn(`notify_fifo ${this.path}: ${(err as Error).message}; dropping lines until a reader drains it`);
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
