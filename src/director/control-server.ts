// Serves the control API on a unix socket: owner-only (mode 0600 in a 0700 folder), one
// JSON request per line, answered in order. A bad line gets an error answer and the
// connection stays usable; nothing a client sends can stop the daemon.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { controlLineMaxBytes, parseControlRequest, RefusedRequest, type ControlRequest, type ControlResponse } from './control-protocol';

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/** Is a daemon answering on this socket? A stale file from a crash is not one. */
function socketInUse(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export class ControlServer {
  private server: net.Server | null = null;
  private readonly clients = new Set<net.Socket>();

  constructor(
    readonly socketPath: string,
    private readonly handle: ControlHandler,
  ) {}

  async start(): Promise<void> {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o700 });
    if (fs.existsSync(this.socketPath)) {
      if (await socketInUse(this.socketPath)) throw new Error(`${this.socketPath}: another director is answering on this control socket`);
      fs.unlinkSync(this.socketPath);
    }
    const server = net.createServer((socket) => this.serve(socket));
    this.server = server;
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    fs.chmodSync(this.socketPath, 0o600);
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      fs.unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
  }

  private serve(socket: net.Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let chain = Promise.resolve();
    let overflowed = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (overflowed) return;
      buffered += chunk;
      if (buffered.length > controlLineMaxBytes) {
        overflowed = true;
        buffered = '';
        socket.end(`${JSON.stringify({ ok: false, error: `request longer than ${controlLineMaxBytes} bytes` })}\n`, () => socket.destroy());
        // A client that neither reads nor stops writing never lets the answer finish.
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== '') chain = chain.then(() => this.reply(socket, line));
        newline = buffered.indexOf('\n');
      }
    });
  }

  private async reply(socket: net.Socket, line: string): Promise<void> {
    const request = parseControlRequest(line);
    if (typeof request === 'string') {
      this.answer(socket, { ok: false, error: request });
      return;
    }
    try {
      this.answer(socket, { ok: true, result: await this.handle(request) });
    } catch (err) {
      this.answer(socket, { ok: false, error: err instanceof RefusedRequest ? err.message : `internal error: ${(err as Error).message}` });
    }
  }

  private answer(socket: net.Socket, response: ControlResponse): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
  }
}
