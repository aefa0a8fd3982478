import assert from 'node:assert/strict';
import type { CheckerConfig } from '../../src/health/config';
import { brief, loadText } from '../support/load-text';

/** One service with one real server holding `checker`; `vsBody`/`rsBody` add settings around it. */
function checkerOf(checker: string, vsBody = '', rsBody = ''): { checker: CheckerConfig | undefined; codes: string[] } {
  const text = `virtual_server 10.0.0.1 80 {\n    protocol TCP\n${vsBody}\n    real_server 10.0.0.21 80 {\n${rsBody}\n${checker}\n    }\n}\n`;
  const r = loadText(text);
  return { checker: r.config.virtualServers[0]?.realServers[0]?.checkers[0], codes: brief(r.diagnostics) };
}

describe('real-server checkers', () => {
  it('TCP_CHECK reads connect_ip, connect_port, bindto, bind_port and the timing keywords', () => {
    const { checker, codes } = checkerOf('TCP_CHECK {\n connect_ip 10.0.0.99\n connect_port 8080\n bindto 10.0.0.5\n bind_port 4000\n connect_timeout 2.5\n retry 4\n delay_before_retry 2\n delay_loop 7\n warmup 3\n}');
    assert.deepEqual(codes, []);
    assert.equal(checker?.kind, 'TCP_CHECK');
    assert.deepEqual([checker?.connectIp?.address, checker?.connectPort, checker?.bindTo?.address, checker?.bindPort], ['10.0.0.99', 8080, '10.0.0.5', 4000]);
    assert.deepEqual(checker?.timing, { connectTimeoutMs: 2500, retry: 4, delayBeforeRetryMs: 2000, delayLoopMs: 7000, warmupMs: 3000 });
  });

  it("TCP_CHECK takes keepalived's defaults: connect_timeout 5 s, retry 1, delay_before_retry 1 s, delay_loop 60 s", () => {
    assert.deepEqual(checkerOf('TCP_CHECK {\n}').checker?.timing, { connectTimeoutMs: 5000, retry: 1, delayBeforeRetryMs: 1000, delayLoopMs: 60_000, warmupMs: 0 });
  });

  it('timing cascades from the service and the real server, even when written after the real server', () => {
    const text = 'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.0.21 80 {\n    connect_timeout 3\n    TCP_CHECK {\n    }\n  }\n  delay_loop 6\n  retry 2\n}';
    const c = loadText(text).config.virtualServers[0]?.realServers[0]?.checkers[0];
    assert.deepEqual(c?.timing, { connectTimeoutMs: 3000, retry: 2, delayBeforeRetryMs: 1000, delayLoopMs: 6000, warmupMs: 0 });
  });

  it('HTTP_GET reads urls with path, digest, status codes and virtualhost; retry 1 and delay_before_retry 3 s by default', () => {
    const { checker, codes } = checkerOf('HTTP_GET {\n url {\n  path /health\n  digest 640205B7B0FC66C1EA91C463FAC6334D\n  status_code 200 301-302,404\n  virtualhost www.example.com\n }\n url {\n  path /other\n }\n virtualhost api.example.com\n http_protocol 1.1\n}');
    assert.deepEqual(codes, []);
    assert.ok(checker?.kind === 'HTTP_GET');
    assert.deepEqual(checker.urls.map((u) => [u.path, u.digest, u.statusCodes, u.virtualhost]), [
      ['/health', '640205b7b0fc66c1ea91c463fac6334d', [{ from: 200, to: 200 }, { from: 301, to: 302 }, { from: 404, to: 404 }], 'www.example.com'],
      ['/other', undefined, [], undefined],
    ]);
    assert.deepEqual([checker.virtualhost, checker.httpProtocol, checker.timing.retry, checker.timing.delayBeforeRetryMs], ['api.example.com', '1.1', 1, 3000]);
  });

  it('SSL_GET is HTTP_GET over TLS', () => {
    const { checker, codes } = checkerOf('SSL_GET {\n url {\n  path /\n }\n}');
    assert.deepEqual(codes, []);
    assert.equal(checker?.kind, 'SSL_GET');
  });

  it('HTTP_GET refuses a bad digest, a bad status code, a url without path and no url at all', () => {
    assert.deepEqual(checkerOf('HTTP_GET {\n url {\n  path /\n  digest xyz\n }\n}').codes, ['9:10 error HAD_CFG_BAD_VALUE']);
    assert.deepEqual(checkerOf('HTTP_GET {\n url {\n  path /\n  status_code 700\n }\n}').codes, ['9:15 error HAD_CFG_OUT_OF_RANGE']);
    assert.deepEqual(checkerOf('HTTP_GET {\n url {\n }\n}').codes, ['7:2 error HAD_CFG_MISSING_KEYWORD']);
    assert.deepEqual(checkerOf('HTTP_GET {\n}').codes, ['6:1 error HAD_CFG_MISSING_KEYWORD']);
  });

  it('nb_get_retry is the deprecated name of retry in HTTP_GET, and unknown in TCP_CHECK', () => {
    const http = checkerOf('HTTP_GET {\n url {\n  path /\n }\n nb_get_retry 4\n}');
    assert.deepEqual(http.codes, ['10:2 warning HAD_CFG_DEPRECATED']);
    assert.equal(http.checker?.timing.retry, 4);
    assert.deepEqual(checkerOf('TCP_CHECK {\n nb_get_retry 4\n}').codes, ['7:2 warning HAD_CFG_UNKNOWN_KEYWORD']);
  });

  it('MISC_CHECK splits a quoted misc_path, reads misc_timeout, misc_dynamic and user; retry 0 by default', () => {
    const { checker, codes } = checkerOf('MISC_CHECK {\n misc_path "/usr/local/bin/check.sh arg1 \'arg 2\'"\n misc_timeout 4\n misc_dynamic\n user nobody\n}');
    assert.deepEqual(codes, []);
    assert.ok(checker?.kind === 'MISC_CHECK');
    assert.deepEqual([checker.path?.argv, checker.timeoutMs, checker.dynamic, checker.user, checker.timing.retry], [['/usr/local/bin/check.sh', 'arg1', 'arg 2'], 4000, true, 'nobody', 0]);
  });

  it('MISC_CHECK needs misc_path', () => {
    assert.deepEqual(checkerOf('MISC_CHECK {\n misc_timeout 4\n}').codes, ['6:1 error HAD_CFG_MISSING_KEYWORD']);
  });

  it('DNS_CHECK defaults to an SOA query for "." with retry 3, and reads type and name', () => {
    const d = checkerOf('DNS_CHECK {\n}').checker;
    assert.ok(d?.kind === 'DNS_CHECK');
    assert.deepEqual([d.type, d.name, d.timing.retry, d.timing.delayBeforeRetryMs], ['SOA', '.', 3, 60_000]);
    const e = checkerOf('DNS_CHECK {\n type aaaa\n name example.com\n}').checker;
    assert.ok(e?.kind === 'DNS_CHECK');
    assert.deepEqual([e.type, e.name], ['AAAA', 'example.com']);
    assert.deepEqual(checkerOf('DNS_CHECK {\n type XYZ\n}').codes, ['7:7 error HAD_CFG_BAD_VALUE']);
  });

  it('SMTP_CHECK reads helo_name', () => {
    const s = checkerOf('SMTP_CHECK {\n helo_name mail.example.com\n}').checker;
    assert.ok(s?.kind === 'SMTP_CHECK');
    assert.equal(s.heloName, 'mail.example.com');
  });

  it('a checker of a real server without a port needs connect_port', () => {
    const text = 'virtual_server fwmark 1 {\n  real_server 10.0.0.21 {\n    TCP_CHECK {\n    }\n  }\n}';
    assert.deepEqual(brief(loadText(text).diagnostics), ['3:5 error HAD_CFG_MISSING_KEYWORD']);
  });

  it('keeps several checkers on one real server', () => {
    const text = 'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.0.21 80 {\n    TCP_CHECK {\n    }\n    MISC_CHECK {\n      misc_path /bin/true\n    }\n  }\n}';
    assert.deepEqual(loadText(text).config.virtualServers[0]?.realServers[0]?.checkers.map((c) => c.kind), ['TCP_CHECK', 'MISC_CHECK']);
  });
});
