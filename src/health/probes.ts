// The checks themselves, each a single attempt with its own deadline: TCP_CHECK
// connects, HTTP_GET and SSL_GET fetch every url and compare status code and MD5 digest,
// MISC_CHECK runs a program and reads its exit status. They report, never throw.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { scriptSpawnArgs } from '../config/script-exec';
import type { CheckOutcome } from './checker-state';
import type { CheckerConfig, HttpCheckConfig, MiscCheckConfig, TcpCheckConfig, UrlCheck } from './config';

export interface Target {
  readonly address: string;
  readonly port: number;
}

export type Probe = () => Promise<CheckOutcome>;

/** A body longer than this fails the check: a health page is small. */
export const httpBodyMaxBytes = 4 * 1024 * 1024;

export function probeFor(checker: CheckerConfig, server: Target): Probe | undefined {
  const target = { address: checker.connectIp?.address ?? server.address, port: checker.connectPort ?? server.port };
  switch (checker.kind) {
    case 'TCP_CHECK':
      return () => tcpProbe(checker, target);
    case 'HTTP_GET':
    case 'SSL_GET':
      return () => httpProbe(checker, target);
    case 'MISC_CHECK':
      return () => miscProbe(checker);
    default:
      return undefined;
  }
}

export function tcpProbe(checker: TcpCheckConfig, target: Target): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({
      host: target.address,
      port: target.port,
      ...(checker.bindTo !== undefined ? { localAddress: checker.bindTo.address } : {}),
      ...(checker.bindPort !== undefined ? { localPort: checker.bindPort } : {}),
    });
    const done = (outcome: CheckOutcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, reason: `no answer within ${checker.timing.connectTimeoutMs} ms` }), checker.timing.connectTimeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err) => done({ ok: false, reason: err.message }));
  });
}

export async function httpProbe(checker: HttpCheckConfig, target: Target): Promise<CheckOutcome> {
  for (const url of checker.urls) {
    const outcome = await fetchUrl(checker, url, target);
    if (!outcome.ok) return outcome;
  }
  return { ok: true };
}

function statusAccepted(url: UrlCheck, status: number): boolean {
  if (url.statusCodes.length === 0) return status >= 200 && status <= 299;
  return url.statusCodes.some((r) => status >= r.from && status <= r.to);
}

export interface HttpAnswer {
  readonly status: number;
  /** MD5 of the body, lower-case hex. */
  readonly digest: string;
}

export interface HttpGet {
  readonly target: Target;
  readonly path: string;
  readonly tls: boolean;
  readonly virtualhost?: string;
  readonly bindTo?: string;
  readonly timeoutMs: number;
}

/** One GET: its status and the MD5 of its body, or why it failed. */
export function httpGet(get: HttpGet): Promise<HttpAnswer | { readonly error: string }> {
  const host = get.virtualhost;
  const options: https.RequestOptions = {
    host: get.target.address,
    port: get.target.port,
    path: get.path,
    method: 'GET',
    agent: false,
    headers: { 'User-Agent': 'hadirector', Connection: 'close', ...(host !== undefined ? { Host: host } : {}) },
    ...(get.bindTo !== undefined ? { localAddress: get.bindTo } : {}),
    ...(get.tls ? { rejectUnauthorized: false, ...(host !== undefined ? { servername: host } : {}) } : {}),
  };
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: HttpAnswer | { error: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const req = (get.tls ? https : http).request(options, (res) => {
      const md5 = crypto.createHash('md5');
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > httpBodyMaxBytes) done({ error: `${get.path}: body over ${httpBodyMaxBytes} bytes` });
        else md5.update(chunk);
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, digest: md5.digest('hex') }));
      res.on('error', (err) => done({ error: err.message }));
    });
    const timer = setTimeout(() => done({ error: `no answer within ${get.timeoutMs} ms` }), get.timeoutMs);
    req.on('error', (err) => done({ error: err.message }));
    req.end();
  });
}

async function fetchUrl(checker: HttpCheckConfig, url: UrlCheck, target: Target): Promise<CheckOutcome> {
  const path = url.path ?? '/';
  const virtualhost = url.virtualhost ?? checker.virtualhost;
  const answer = await httpGet({
    target,
    path,
    tls: checker.kind === 'SSL_GET',
    timeoutMs: checker.timing.connectTimeoutMs,
    ...(virtualhost !== undefined ? { virtualhost } : {}),
    ...(checker.bindTo !== undefined ? { bindTo: checker.bindTo.address } : {}),
  });
  if ('error' in answer) return { ok: false, reason: answer.error };
  if (!statusAccepted(url, answer.status)) return { ok: false, reason: `${path}: status ${answer.status}` };
  if (url.digest !== undefined && answer.digest !== url.digest) return { ok: false, reason: `${path}: digest ${answer.digest}, expected ${url.digest}` };
  return { ok: true };
}

/**
 * MISC_CHECK: exit 0 is up and 1 down; with misc_dynamic, 2..255 is up with weight
 * status − 2. Without misc_dynamic any other status is down. A program still running at
 * misc_timeout (the delay loop by default) is killed and counts as down.
 */
export function miscProbe(checker: MiscCheckConfig): Promise<CheckOutcome> {
  const run = checker.path === undefined ? undefined : scriptSpawnArgs(checker.path);
  const timeoutMs = checker.timeoutMs ?? checker.timing.delayLoopMs;
  return new Promise((resolve) => {
    if (run === undefined) {
      resolve({ ok: false, reason: 'no misc_path' });
      return;
    }
    const child = spawn(run.program, run.args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: err.message });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === null) resolve({ ok: false, reason: signal === 'SIGKILL' ? `still running after ${timeoutMs} ms` : `killed by ${signal ?? 'a signal'}` });
      else if (code === 0) resolve({ ok: true });
      else if (checker.dynamic && code >= 2) resolve({ ok: true, weight: code - 2 });
      else resolve({ ok: false, reason: `exit status ${code}` });
    });
  });
}
