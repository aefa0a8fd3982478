// Integration-test helpers: a director run as its own process from bin/hadirector, real
// HTTP servers on loopback, and bounded polling. Every wait has a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { controlRequest } from '../../src/director/control-client';
import type { ControlRequest, IpvsadmResult } from '../../src/director/control-protocol';
import { repoRoot } from './paths';

export const bin = path.join(repoRoot(), 'bin', 'hadirector');

/** A /24 of loopback of its own per test process, so parallel runs do not collide. */
export function loopbackNet(): string {
  return `127.${100 + (process.pid % 100)}.${(process.pid >> 7) % 250}`;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, deadlineMs = 10_000, everyMs = 25): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface RunningDirector {
  readonly process: ChildProcess;
  readonly dir: string;
  readonly control: string;
  readonly configFile: string;
  log(): string;
  ask(request: ControlRequest): Promise<unknown>;
  ipvsadm(...args: string[]): Promise<IpvsadmResult>;
  stop(): Promise<number | null>;
}

export async function startDirector(config: string, extraArgs: string[] = []): Promise<RunningDirector> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-it-'));
  const configFile = path.join(dir, 'hadirector.conf');
  fs.writeFileSync(configFile, config);
  const control = path.join(dir, 'control.sock');
  let output = '';
  const child = spawn(bin, ['run', '-f', configFile, '--node', 'it', '--control', control, '--pid-file', path.join(dir, 'pid'), '--drain', '2', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ask = async (request: ControlRequest): Promise<unknown> => {
    const r = await controlRequest(control, request, 10_000);
    if (!r.ok) throw new Error(r.error);
    return r.result;
  };
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(`the director to answer on ${control}`, async () => {
    if (gone) throw new Error(`the director exited: ${output}`);
    try {
      return await ask({ op: 'status' });
    } catch {
      return undefined;
    }
  });
  return {
    process: child,
    dir,
    control,
    configFile,
    log: () => output,
    ask,
    ipvsadm: async (...args) => (await ask({ op: 'ipvsadm', args })) as IpvsadmResult,
    stop: async () => {
      if (!gone) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      fs.rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** An HTTP server that answers every request with its name. */
export async function nameServer(host: string, port: number, name: string): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end(name);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** One GET on a new connection; the body, or the error's code. */
export function get(host: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(`error:${err.code ?? err.message}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error:${err.code ?? err.message}`));
  });
}
