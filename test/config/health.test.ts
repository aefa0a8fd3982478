import assert from 'node:assert/strict';
import type { CheckerConfig, DnsCheckConfig, HttpCheckConfig, MiscCheckConfig, SmtpCheckConfig } from '../../src/health/config';
import type { LoadResult } from '../../src/config/load';
import { assertClean, assertOne, at, atEnd, describeAll, lines, loadText, mainFile, summary } from './load-text';

/** A service on 10.0.0.1:80 with one real server 10.0.0.2:80 holding `checker` (lines). */
function withChecker(...checker: string[]): string {
  return lines('virtual_server 10.0.0.1 80 {', '    protocol TCP', '    real_server 10.0.0.2 80 {', ...checker.map((c) => `        ${c}`), '    }', '}');
}

function checkerOf(result: LoadResult, index = 0): CheckerConfig {
  const c = result.config.virtualServers[0]?.realServers[0]?.checkers[index];
  assert.ok(c !== undefined, `a checker was read:\n${describeAll(result)}`);
  return c;
}

function loadChecker(...checker: string[]): CheckerConfig {
  return checkerOf(loadText(withChecker(...checker)));
}

describe('health checkers', () => {
  describe('TCP_CHECK and the options every checker takes', () => {
    it('reads connect_ip, connect_port, bindto, bind_port and the timing keywords', () => {
      const result = loadText(
        withChecker('TCP_CHECK {', '    connect_ip 10.0.1.2', '    connect_port 8080', '    bindto 10.0.0.5', '    bind_port 40000', '    connect_timeout 2.5', '    retry 3', '    delay_before_retry 0.5', '    delay_loop 15', '    warmup 4', '}'),
      );
      assertClean(result);
      const c = checkerOf(result);
      assert.equal(c.kind, 'TCP_CHECK');
      assert.deepEqual(c.where, { file: mainFile, line: 4, col: 9 });
      assert.deepEqual(c.connectIp, { address: '10.0.1.2', family: 4 });
      assert.equal(c.connectPort, 8080);
      assert.deepEqual(c.bindTo, { address: '10.0.0.5', family: 4 });
      assert.equal(c.bindPort, 40000);
      assert.deepEqual(c.timing, { connectTimeoutMs: 2500, retry: 3, delayBeforeRetryMs: 500, delayLoopMs: 15_000, warmupMs: 4000 });
    });

    it("has keepalived's defaults: connect_timeout 5 s, retry 1, delay_before_retry 1 s, delay_loop 60 s", () => {
      assert.deepEqual(loadChecker('TCP_CHECK {', '}').timing, { connectTimeoutMs: 5000, retry: 1, delayBeforeRetryMs: 1000, delayLoopMs: 60_000, warmupMs: 0 });
    });

    it('an IPv6 connect_ip and bindto are read', () => {
      const c = loadChecker('TCP_CHECK {', '    connect_ip 2001:db8::2', '    bindto 2001:db8::5', '}');
      assert.deepEqual([c.connectIp?.family, c.bindTo?.family], [6, 6]);
    });

    it('bad values are reported at the value', () => {
      const text = withChecker('TCP_CHECK {', '    connect_ip 10.0.1.x', '    connect_port 65536', '    bindto nowhere', '    bind_port -1', '    connect_timeout 0', '    retry many', '    delay_before_retry 86401', '    delay_loop 0', '}');
      assert.deepEqual(summary(loadText(text)), [
        `error HAD_CFG_BAD_ADDRESS ${at(text, '10.0.1.x')}`,
        `warning HAD_CFG_OUT_OF_RANGE ${at(text, '65536')}`,
        `error HAD_CFG_BAD_ADDRESS ${at(text, 'nowhere')}`,
        `error HAD_CFG_BAD_NUMBER ${at(text, '-1')}`,
        `warning HAD_CFG_OUT_OF_RANGE ${atEnd(text, 'connect_timeout ')}`,
        `warning HAD_CFG_BAD_NUMBER ${at(text, 'many')}`,
        `warning HAD_CFG_OUT_OF_RANGE ${at(text, '86401')}`,
        `warning HAD_CFG_OUT_OF_RANGE ${atEnd(text, 'delay_loop ')}`,
      ]);
    });

    it('nb_get_retry in TCP_CHECK is an unknown keyword (a warning) and the retry stays', () => {
      const text = withChecker('TCP_CHECK {', '    nb_get_retry 3', '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'nb_get_retry'));
      assert.equal(checkerOf(result).timing.retry, 1);
    });

    it('a checker of a real server with no port needs connect_port', () => {
      const text = lines('virtual_server fwmark 1 {', '    real_server 10.0.0.2 {', '        TCP_CHECK {', '        }', '    }', '}');
      assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, 'TCP_CHECK'));
      const withPort = lines('virtual_server fwmark 1 {', '    real_server 10.0.0.2 {', '        TCP_CHECK {', '            connect_port 80', '        }', '    }', '}');
      assertClean(loadText(withPort));
    });

    it('a real server may hold several checkers', () => {
      const result = loadText(withChecker('TCP_CHECK {', '}', 'SMTP_CHECK {', '}'));
      assert.deepEqual(result.config.virtualServers[0]?.realServers[0]?.checkers.map((c) => c.kind), ['TCP_CHECK', 'SMTP_CHECK']);
    });
  });

  for (const kind of ['HTTP_GET', 'SSL_GET'] as const) {
    describe(kind, () => {
      it('reads url blocks with path, digest, status_code and virtualhost, plus virtualhost and http_protocol', () => {
        const result = loadText(
          withChecker(
            `${kind} {`,
            '    url {',
            '        path /health',
            '        digest 9B3A0C85A887A256D6939DA88AABD8CD',
            '        status_code 200',
            '        virtualhost a.example.com',
            '    }',
            '    url {',
            '        path /status?full=1',
            '        status_code 200-299 301,302 404',
            '    }',
            '    virtualhost www.example.com',
            '    http_protocol 1.1',
            '}',
          ),
        );
        assertClean(result);
        const c = checkerOf(result) as HttpCheckConfig;
        assert.equal(c.kind, kind);
        assert.equal(c.virtualhost, 'www.example.com');
        assert.equal(c.httpProtocol, '1.1');
        assert.deepEqual(
          c.urls.map((u) => [u.path, u.digest, u.statusCodes, u.virtualhost]),
          [
            ['/health', '9b3a0c85a887a256d6939da88aabd8cd', [{ from: 200, to: 200 }], 'a.example.com'],
            [
              '/status?full=1',
              undefined,
              [
                { from: 200, to: 299 },
                { from: 301, to: 301 },
                { from: 302, to: 302 },
                { from: 404, to: 404 },
              ],
              undefined,
            ],
          ],
        );
      });

      it('a url with no status_code accepts the default (empty list = 200-299)', () => {
        const c = loadChecker(`${kind} {`, '    url {', '        path /', '    }', '}') as HttpCheckConfig;
        assert.deepEqual(c.urls[0]?.statusCodes, []);
      });

      it('has delay_before_retry 3 s and retry 1 by default', () => {
        const c = loadChecker(`${kind} {`, '    url {', '        path /', '    }', '}');
        assert.deepEqual([c.timing.delayBeforeRetryMs, c.timing.retry, c.timing.connectTimeoutMs], [3000, 1, 5000]);
      });

      it('a digest that is not 32 hex digits is HAD_CFG_BAD_VALUE at the digest', () => {
        const text = withChecker(`${kind} {`, '    url {', '        path /', '        digest 9b3a0c85a887', '    }', '}');
        const result = loadText(text);
        assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, '9b3a0c85a887'));
        assert.equal((checkerOf(result) as HttpCheckConfig).urls[0]?.digest, undefined);
      });

      it('status codes outside 100..599 and backward ranges are reported at the code', () => {
        const text = withChecker(`${kind} {`, '    url {', '        path /', '        status_code 99 600 300-200', '    }', '}');
        assert.deepEqual(summary(loadText(text)), [
          `warning HAD_CFG_OUT_OF_RANGE ${at(text, '99')}`,
          `warning HAD_CFG_OUT_OF_RANGE ${at(text, '600')}`,
          `error HAD_CFG_BAD_VALUE ${at(text, '300-200')}`,
        ]);
      });

      it('a url with no path is an error at the url', () => {
        const text = withChecker(`${kind} {`, '    url {', '        status_code 200', '    }', '}');
        assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, 'url'));
      });

      it(`${kind} with no url is an error at the checker`, () => {
        const text = withChecker(`${kind} {`, '    connect_timeout 2', '}');
        const d = assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, kind));
        assert.match(d.message, /url/);
      });

      it('nb_get_retry is accepted as the deprecated name of retry, with a warning', () => {
        const text = withChecker(`${kind} {`, '    url {', '        path /', '    }', '    nb_get_retry 4', '}');
        const result = loadText(text);
        assertOne(result, 'HAD_CFG_DEPRECATED', 'warning', at(text, 'nb_get_retry'));
        assert.equal(checkerOf(result).timing.retry, 4);
        assert.equal(result.errorCount, 0);
      });

      it('an unknown keyword in url is a warning', () => {
        const text = withChecker(`${kind} {`, '    url {', '        path /', '        body_match ok', '    }', '}');
        assertOne(loadText(text), 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'body_match'));
      });
    });
  }

  describe('MISC_CHECK', () => {
    it('splits a quoted misc_path into argv and reads misc_timeout, misc_dynamic and user', () => {
      const result = loadText(withChecker('MISC_CHECK {', `    misc_path "/usr/local/bin/check 10.0.0.2 --name 'web one'"`, '    misc_timeout 7', '    misc_dynamic', '    user nobody', '}'));
      assertClean(result);
      const c = checkerOf(result) as MiscCheckConfig;
      assert.equal(c.kind, 'MISC_CHECK');
      assert.deepEqual(c.path?.argv, ['/usr/local/bin/check', '10.0.0.2', '--name', 'web one']);
      assert.equal(c.timeoutMs, 7000);
      assert.equal(c.dynamic, true);
      assert.equal(c.user, 'nobody');
    });

    it('has retry 0, no timeout of its own (it follows the delay loop) and is not dynamic by default', () => {
      const c = loadChecker('MISC_CHECK {', '    misc_path /bin/true', '}') as MiscCheckConfig;
      assert.deepEqual([c.timing.retry, c.timing.delayBeforeRetryMs, c.timeoutMs, c.dynamic], [0, 1000, undefined, false]);
    });

    it('misc_path with a user and group after it keeps them on the command', () => {
      const c = loadChecker('MISC_CHECK {', '    misc_path "/bin/check a" nobody nogroup', '}') as MiscCheckConfig;
      assert.deepEqual([c.path?.argv, c.path?.user, c.path?.group], [['/bin/check', 'a'], 'nobody', 'nogroup']);
    });

    it('MISC_CHECK with no misc_path is an error at the checker', () => {
      const text = withChecker('MISC_CHECK {', '    misc_timeout 3', '}');
      assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'error', at(text, 'MISC_CHECK'));
    });

    it('misc_timeout 0 is out of range at the value', () => {
      const text = withChecker('MISC_CHECK {', '    misc_path /bin/true', '    misc_timeout 0', '}');
      assertOne(loadText(text), 'HAD_CFG_OUT_OF_RANGE', 'warning', atEnd(text, 'misc_timeout '));
    });

    it('needs no connect_port when the real server has no port', () => {
      assertClean(loadText(lines('virtual_server fwmark 1 {', '    real_server 10.0.0.2 {', '        MISC_CHECK {', '            misc_path /bin/true', '        }', '    }', '}')));
    });

    it('nb_get_retry in MISC_CHECK is an unknown keyword', () => {
      const text = withChecker('MISC_CHECK {', '    misc_path /bin/true', '    nb_get_retry 2', '}');
      assertOne(loadText(text), 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'nb_get_retry'));
    });
  });

  describe('DNS_CHECK', () => {
    it('queries SOA for "." by default, with retry 3 and delay_before_retry equal to the delay loop', () => {
      const c = loadChecker('DNS_CHECK {', '}') as DnsCheckConfig;
      assert.deepEqual([c.kind, c.type, c.name], ['DNS_CHECK', 'SOA', '.']);
      assert.deepEqual([c.timing.retry, c.timing.delayBeforeRetryMs], [3, 60_000]);
    });

    it('reads type (in any case) and name', () => {
      const c = loadChecker('DNS_CHECK {', '    type aaaa', '    name www.example.com', '}') as DnsCheckConfig;
      assert.deepEqual([c.type, c.name], ['AAAA', 'www.example.com']);
    });

    for (const type of ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA']) {
      it(`type ${type} is known`, () => {
        assert.equal((loadChecker('DNS_CHECK {', `    type ${type}`, '}') as DnsCheckConfig).type, type);
      });
    }

    it('an unknown type is HAD_CFG_BAD_VALUE at the value and SOA stays', () => {
      const text = withChecker('DNS_CHECK {', '    type PTR', '}');
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_BAD_VALUE', 'error', at(text, 'PTR'));
      assert.equal((checkerOf(result) as DnsCheckConfig).type, 'SOA');
    });

    it("its delay_before_retry follows the delay loop it inherits", () => {
      const text = lines('virtual_server 10.0.0.1 53 {', '    protocol UDP', '    delay_loop 20', '    real_server 10.0.0.2 53 {', '        DNS_CHECK {', '        }', '    }', '}');
      assert.equal(checkerOf(loadText(text)).timing.delayBeforeRetryMs, 20_000);
    });

    it('its delay_before_retry follows a delay_loop set in the checker itself', () => {
      const c = loadChecker('DNS_CHECK {', '    delay_loop 10', '}');
      assert.deepEqual([c.timing.delayLoopMs, c.timing.delayBeforeRetryMs], [10_000, 10_000]);
    });

    it('an explicit delay_before_retry wins over the delay loop', () => {
      const c = loadChecker('DNS_CHECK {', '    delay_loop 10', '    delay_before_retry 2', '}');
      assert.equal(c.timing.delayBeforeRetryMs, 2000);
    });
  });

  describe('SMTP_CHECK', () => {
    it('reads helo_name and the common options', () => {
      const result = loadText(withChecker('SMTP_CHECK {', '    helo_name mail.example.com', '    connect_port 25', '    retry 2', '}'));
      assertClean(result);
      const c = checkerOf(result) as SmtpCheckConfig;
      assert.deepEqual([c.kind, c.heloName, c.connectPort, c.timing.retry], ['SMTP_CHECK', 'mail.example.com', 25, 2]);
    });

    it('has retry 1 and delay_before_retry 1 s by default, and no helo_name', () => {
      const c = loadChecker('SMTP_CHECK {', '}') as SmtpCheckConfig;
      assert.deepEqual([c.timing.retry, c.timing.delayBeforeRetryMs, c.heloName], [1, 1000, undefined]);
    });
  });

  describe('the timing cascade virtual_server → real_server → checker', () => {
    it('a service delay_loop reaches every checker, even written after the real_server', () => {
      const text = lines('virtual_server 10.0.0.1 80 {', '    protocol TCP', '    real_server 10.0.0.2 80 {', '        TCP_CHECK {', '        }', '    }', '    delay_loop 6', '}');
      assert.equal(checkerOf(loadText(text)).timing.delayLoopMs, 6000);
    });

    it('a real server setting overrides the service and reaches the checker, even written after it', () => {
      const text = lines(
        'virtual_server 10.0.0.1 80 {',
        '    protocol TCP',
        '    delay_loop 6',
        '    retry 5',
        '    real_server 10.0.0.2 80 {',
        '        TCP_CHECK {',
        '        }',
        '        retry 2',
        '    }',
        '}',
      );
      const c = checkerOf(loadText(text));
      assert.deepEqual([c.timing.delayLoopMs, c.timing.retry], [6000, 2]);
    });

    it("a checker's own setting wins over both", () => {
      const text = lines(
        'virtual_server 10.0.0.1 80 {',
        '    protocol TCP',
        '    connect_timeout 9',
        '    real_server 10.0.0.2 80 {',
        '        connect_timeout 8',
        '        TCP_CHECK {',
        '            connect_timeout 1',
        '        }',
        '        TCP_CHECK {',
        '        }',
        '    }',
        '}',
      );
      const result = loadText(text);
      assert.deepEqual([checkerOf(result, 0).timing.connectTimeoutMs, checkerOf(result, 1).timing.connectTimeoutMs], [1000, 8000]);
    });

    it("a cascaded retry or delay_before_retry replaces every checker's own default", () => {
      const text = lines(
        'virtual_server 10.0.0.1 80 {',
        '    protocol TCP',
        '    retry 2',
        '    delay_before_retry 4',
        '    real_server 10.0.0.2 80 {',
        '        DNS_CHECK {',
        '        }',
        '        MISC_CHECK {',
        '            misc_path /bin/true',
        '        }',
        '        HTTP_GET {',
        '            url {',
        '                path /',
        '            }',
        '        }',
        '    }',
        '}',
      );
      const result = loadText(text);
      assert.deepEqual([0, 1, 2].map((i) => [checkerOf(result, i).timing.retry, checkerOf(result, i).timing.delayBeforeRetryMs]), [
        [2, 4000],
        [2, 4000],
        [2, 4000],
      ]);
    });

    it('without any setting each checker gets its own default retry: DNS 3, MISC 0, others 1', () => {
      const result = loadText(
        withChecker('TCP_CHECK {', '}', 'HTTP_GET {', '    url {', '        path /', '    }', '}', 'SSL_GET {', '    url {', '        path /', '    }', '}', 'MISC_CHECK {', '    misc_path /bin/true', '}', 'DNS_CHECK {', '}', 'SMTP_CHECK {', '}'),
      );
      assertClean(result);
      const checkers = result.config.virtualServers[0]?.realServers[0]?.checkers ?? [];
      assert.deepEqual(
        checkers.map((c) => [c.kind, c.timing.retry, c.timing.delayBeforeRetryMs]),
        [
          ['TCP_CHECK', 1, 1000],
          ['HTTP_GET', 1, 3000],
          ['SSL_GET', 1, 3000],
          ['MISC_CHECK', 0, 1000],
          ['DNS_CHECK', 3, 60_000],
          ['SMTP_CHECK', 1, 1000],
        ],
      );
    });
  });

  it('an unknown keyword in a checker is a warning and the rest of the block is read', () => {
    const text = withChecker('TCP_CHECK {', '    frobnicate 3', '    connect_port 81', '}');
    const result = loadText(text);
    assertOne(result, 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'frobnicate'));
    assert.equal(checkerOf(result).connectPort, 81);
  });

  it('checkers keepalived has and hadirector does not (UDP_CHECK, PING_CHECK) are HAD_CFG_UNSUPPORTED warnings', () => {
    const text = withChecker('PING_CHECK {', '}', 'UDP_CHECK {', '    connect_port 53', '}');
    const result = loadText(text);
    assert.deepEqual(summary(result), [`warning HAD_CFG_UNSUPPORTED ${at(text, 'PING_CHECK')}`, `warning HAD_CFG_UNSUPPORTED ${at(text, 'UDP_CHECK')}`]);
  });

  it('a checker with no block is HAD_CFG_BLOCK_EXPECTED', () => {
    const text = withChecker('TCP_CHECK');
    assertOne(loadText(text), 'HAD_CFG_BLOCK_EXPECTED', 'error', at(text, 'TCP_CHECK'));
  });
});
