// The checks against real sockets and processes on loopback.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { runGenhash } from '../../src/cli/genhash';
import type { CheckerTiming, HttpCheckConfig, MiscCheckConfig, TcpCheckConfig } from '../../src/health/config';
import { httpProbe, miscProbe, tcpProbe } from '../../src/health/probes';
import { repoRoot } from '../support/paths';

const where = { file: 't.conf', line: 1, col: 1 };
const timing: CheckerTiming = { connectTimeoutMs: 1000, retry: 0, delayBeforeRetryMs: 0, delayLoopMs: 2000, warmupMs: 0 };

describe('health probes on loopback', function () {
  this.timeout(10_000);
  let server: http.Server;
  let port = 0;
  const closedPort = { value: 0 };

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/missing') res.statusCode = 404;
      res.end(req.url === '/hello' ? 'hello world\n' : `host=${req.headers.host ?? ''}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
    // A port nobody listens on: bound, noted, closed.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    closedPort.value = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  it('TCP_CHECK passes on a listening port and fails, saying why, on a closed one', async () => {
    const c: TcpCheckConfig = { kind: 'TCP_CHECK', where, timing };
    assert.deepEqual(await tcpProbe(c, { address: '127.0.0.1', port }), { ok: true });
    const closed = await tcpProbe(c, { address: '127.0.0.1', port: closedPort.value });
    assert.equal(closed.ok, false);
    assert.match(closed.reason ?? '', /ECONNREFUSED/);
  });

  it('HTTP_GET checks the status code and the MD5 digest of every url', async () => {
    const check = (urls: HttpCheckConfig['urls']): HttpCheckConfig => ({ kind: 'HTTP_GET', where, timing, urls });
    const target = { address: '127.0.0.1', port };
    assert.deepEqual(await httpProbe(check([{ where, path: '/hello', digest: '6f5902ac237024bdd0c176cb93063dc4', statusCodes: [] }]), target), { ok: true });
    const wrongDigest = await httpProbe(check([{ where, path: '/hello', digest: '00000000000000000000000000000000', statusCodes: [] }]), target);
    assert.deepEqual(wrongDigest, { ok: false, reason: '/hello: digest 6f5902ac237024bdd0c176cb93063dc4, expected 00000000000000000000000000000000' });
    assert.deepEqual(await httpProbe(check([{ where, path: '/missing', statusCodes: [] }]), target), { ok: false, reason: '/missing: status 404' });
    assert.deepEqual(await httpProbe(check([{ where, path: '/missing', statusCodes: [{ from: 400, to: 404 }] }]), target), { ok: true });
    const both = check([{ where, path: '/hello', statusCodes: [] }, { where, path: '/missing', statusCodes: [] }]);
    assert.equal((await httpProbe(both, target)).ok, false, 'every url must pass');
  });

  it('SSL_GET fetches over TLS, trusting a self-signed certificate as keepalived does, with the virtualhost as SNI and Host', async () => {
    const tls = path.join(repoRoot(), 'test', 'data', 'tls');
    let seen = { host: '', servername: '' };
    const secure = https.createServer({ key: fs.readFileSync(path.join(tls, 'rs.key')), cert: fs.readFileSync(path.join(tls, 'rs.crt')) }, (req, res) => {
      seen = { host: req.headers.host ?? '', servername: (req.socket as import('node:tls').TLSSocket).servername || '' };
      res.end('hello world\n');
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', () => resolve()));
    try {
      const sport = (secure.address() as AddressInfo).port;
      const check: HttpCheckConfig = { kind: 'SSL_GET', where, timing, virtualhost: 'www.example.test', urls: [{ where, path: '/hello', digest: '6f5902ac237024bdd0c176cb93063dc4', statusCodes: [] }] };
      assert.deepEqual(await httpProbe(check, { address: '127.0.0.1', port: sport }), { ok: true });
      assert.deepEqual(seen, { host: 'www.example.test', servername: 'www.example.test' });
      const plain = await httpProbe({ ...check, kind: 'HTTP_GET' }, { address: '127.0.0.1', port: sport });
      assert.equal(plain.ok, false, 'plain HTTP to a TLS port fails');
    } finally {
      await new Promise((resolve) => secure.close(resolve));
    }
  });

  it('MISC_CHECK reads exit statuses, with misc_dynamic weights, and kills a program past its timeout', async () => {
    const misc = (script: string, dynamic: boolean, timeoutMs?: number): MiscCheckConfig => ({
      kind: 'MISC_CHECK',
      where,
      timing,
      dynamic,
      path: { argv: ['/bin/sh', '-c', script], where },
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    assert.deepEqual(await miscProbe(misc('exit 0', false)), { ok: true });
    assert.deepEqual(await miscProbe(misc('exit 1', false)), { ok: false, reason: 'exit status 1' });
    assert.deepEqual(await miscProbe(misc('exit 7', false)), { ok: false, reason: 'exit status 7' });
    assert.deepEqual(await miscProbe(misc('exit 7', true)), { ok: true, weight: 5 });
    assert.deepEqual(await miscProbe(misc('exit 1', true)), { ok: false, reason: 'exit status 1' });
    assert.deepEqual(await miscProbe(misc('sleep 5', false, 200)), { ok: false, reason: 'still running after 200 ms' });
    const missing = await miscProbe({ ...misc('', false), path: { argv: ['/nonexistent/check'], where } });
    assert.equal(missing.ok, false);
    assert.match(missing.reason ?? '', /ENOENT/);
  });

  it('genhash prints the digest to write in a url block', async () => {
    let out = '';
    const code = await runGenhash({ server: '127.0.0.1', port, url: '/hello', ssl: false, timeoutS: 2 }, { stdout: (t) => (out += t), stderr: (t) => (out += t), cwd: '/', env: {}, readStdin: () => Promise.resolve('') });
    assert.equal(code, 0);
    assert.equal(out, 'HTTP status 200\nMD5SUM = 6f5902ac237024bdd0c176cb93063dc4\n');
  });
});
