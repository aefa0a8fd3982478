import assert from 'node:assert/strict';
import { newGlobalDefs } from '../../src/config/global-defs';
import { assertClean, assertNoErrors, assertOne, at, instance, lines, loadText, mainFile } from './load-text';

describe('global_defs', () => {
  describe('defaults', () => {
    it("with no global_defs the defaults are keepalived's: VRRPv2, group 224.0.0.18, GARP 5 now and 5 more after 5 s", () => {
      const { config } = loadText('');
      assert.deepEqual(config.global, {
        dataPlane: 'auto',
        notificationEmails: [],
        smtpConnectTimeoutMs: 30_000,
        vrrpVersion: 2,
        vrrpMcastGroup4: '224.0.0.18',
        vrrpMcastGroup6: 'ff02::12',
        vrrpStrict: false,
        v3ChecksumAsV2: false,
        garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
        garpIntervalMs: 0,
        gnaIntervalMs: 0,
        vrrpLowerPrioNoAdvert: false,
        vrrpHigherPrioSendAdvert: false,
        vrrpStartupDelayMs: 0,
        enableScriptSecurity: false,
        lvsTimeouts: {},
        lvsFlush: false,
        hostHealth: { strategy: 'none', intervalMs: 5000, holdMs: 60_000, hysteresis: 5, rules: {} },
      });
    });

    it('an empty global_defs block changes nothing and reports nothing', () => {
      const result = loadText('global_defs {\n}\n');
      assertClean(result);
      assert.deepEqual(result.config.global, newGlobalDefs());
    });
  });

  describe('every keyword reaches its typed field', () => {
    const text = lines(
      'global_defs {',
      '    router_id lvs-a',
      '    notification_email {',
      '        ops@example.com',
      '        oncall@example.com noc@example.com',
      '    }',
      '    notification_email_from LVS Director <lvs@example.com>',
      '    smtp_server 192.0.2.25 2525',
      '    smtp_connect_timeout 12.5',
      '    smtp_helo_name lvs-a.example.com',
      '    vrrp_version 3',
      '    vrrp_mcast_group4 224.0.0.19',
      '    vrrp_mcast_group6 ff02::13',
      '    vrrp_strict',
      '    vrrp_garp_master_delay 10',
      '    vrrp_garp_master_repeat 3',
      '    vrrp_garp_master_refresh 60',
      '    vrrp_garp_master_refresh_repeat 2',
      '    vrrp_garp_interval 0.001',
      '    vrrp_gna_interval 0.5',
      '    vrrp_lower_prio_no_advert yes',
      '    vrrp_higher_prio_send_advert on',
      '    vrrp_startup_delay 2.5',
      '    script_user keepalived_script scripts',
      '    enable_script_security',
      '    notify_fifo "/run/keepalived.fifo" root wheel',
      '    lvs_sync_daemon eth1 inst VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 224.0.0.82',
      '    lvs_timeouts tcp 7200 tcpfin 120 udp 300',
      '    lvs_flush',
      '}',
    );

    it('loads with no diagnostic', () => {
      assertClean(loadText(text));
    });

    it('fills every field, timers in milliseconds and lvs_timeouts in seconds', () => {
      const g = loadText(text).config.global;
      assert.equal(g.routerId, 'lvs-a');
      assert.deepEqual(g.notificationEmails, ['ops@example.com', 'oncall@example.com', 'noc@example.com']);
      assert.equal(g.notificationEmailFrom, 'LVS Director <lvs@example.com>');
      assert.deepEqual(g.smtpServer, { address: '192.0.2.25', family: 4, port: 2525 });
      assert.equal(g.smtpConnectTimeoutMs, 12_500);
      assert.equal(g.smtpHeloName, 'lvs-a.example.com');
      assert.equal(g.vrrpVersion, 3);
      assert.equal(g.vrrpMcastGroup4, '224.0.0.19');
      assert.equal(g.vrrpMcastGroup6, 'ff02::13');
      assert.equal(g.vrrpStrict, true);
      assert.deepEqual(g.garp, { masterDelayMs: 10_000, masterRepeat: 3, masterRefreshMs: 60_000, masterRefreshRepeat: 2 });
      assert.equal(g.garpIntervalMs, 1);
      assert.equal(g.gnaIntervalMs, 500);
      assert.equal(g.vrrpLowerPrioNoAdvert, true);
      assert.equal(g.vrrpHigherPrioSendAdvert, true);
      assert.equal(g.vrrpStartupDelayMs, 2500);
      assert.deepEqual(g.scriptUser, { user: 'keepalived_script', group: 'scripts' });
      assert.equal(g.enableScriptSecurity, true);
      assert.deepEqual(g.notifyFifo?.argv, ['/run/keepalived.fifo']);
      assert.equal(g.notifyFifo?.user, 'root');
      assert.equal(g.notifyFifo?.group, 'wheel');
      assert.deepEqual(g.lvsSyncDaemon, {
        interface: 'eth1',
        where: { file: mainFile, line: 27, col: 5 },
        instance: 'VI_1',
        syncId: 7,
        maxLen: 1400,
        port: 8849,
        ttl: 2,
        group: '224.0.0.82',
      });
      assert.deepEqual(g.lvsTimeouts, { tcpS: 7200, tcpfinS: 120, udpS: 300 });
      assert.equal(g.lvsFlush, true);
    });
  });

  describe('single keywords', () => {
    it('smtp_server without a port uses 25', () => {
      const { config } = loadText('global_defs {\n  smtp_server 2001:db8::25\n}\n');
      assert.deepEqual(config.global.smtpServer, { address: '2001:db8::25', family: 6, port: 25 });
    });

    it('data_plane takes kernel, userspace or auto', () => {
      for (const choice of ['kernel', 'userspace', 'auto'] as const) {
        const result = loadText(`global_defs {\n  data_plane ${choice}\n}\n`);
        assertClean(result);
        assert.equal(result.config.global.dataPlane, choice);
      }
    });

    it('script_user with a user alone has no group', () => {
      const { config } = loadText('global_defs {\n  script_user nobody\n}\n');
      assert.deepEqual(config.global.scriptUser, { user: 'nobody' });
    });

    it('flags take on|off|true|false|yes|no, and off turns a flag off', () => {
      const text = lines('global_defs {', '  vrrp_strict off', '  enable_script_security false', '  lvs_flush no', '  vrrp_lower_prio_no_advert true', '}');
      const result = loadText(text);
      assertClean(result);
      assert.equal(result.config.global.vrrpStrict, false);
      assert.equal(result.config.global.enableScriptSecurity, false);
      assert.equal(result.config.global.lvsFlush, false);
      assert.equal(result.config.global.vrrpLowerPrioNoAdvert, true);
    });

    it('a flag given a word that is no boolean is HAD_CFG_BAD_VALUE at the word', () => {
      const text = 'global_defs {\n  vrrp_strict maybe\n}\n';
      assertOne(loadText(text), 'HAD_CFG_BAD_VALUE', 'error', at(text, 'maybe'));
    });

    it('notify_fifo splits a quoted command into argv', () => {
      const { config } = loadText('global_defs {\n  notify_fifo "/usr/bin/fifo-reader --tag \'lvs a\'"\n}\n');
      assert.deepEqual(config.global.notifyFifo?.argv, ['/usr/bin/fifo-reader', '--tag', 'lvs a']);
    });

    it('lvs_sync_daemon needs only an interface', () => {
      const result = loadText('global_defs {\n  lvs_sync_daemon eth1\n}\n');
      assertClean(result);
      assert.deepEqual(result.config.global.lvsSyncDaemon, { interface: 'eth1', where: { file: mainFile, line: 2, col: 3 } });
    });

    it('lvs_timeouts may set only some of tcp, tcpfin and udp', () => {
      const result = loadText('global_defs {\n  lvs_timeouts udp 30\n}\n');
      assertClean(result);
      assert.deepEqual(result.config.global.lvsTimeouts, { udpS: 30 });
    });
  });

  describe('bad values are reported at the value and leave the default', () => {
    const cases: Array<{ line: string; bad: string; code: 'HAD_CFG_OUT_OF_RANGE' | 'HAD_CFG_BAD_NUMBER' | 'HAD_CFG_BAD_ADDRESS' | 'HAD_CFG_BAD_VALUE' | 'HAD_CFG_MISSING_ARGUMENT' }> = [
      { line: 'vrrp_version 4', bad: '4', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'vrrp_version two', bad: 'two', code: 'HAD_CFG_BAD_NUMBER' },
      { line: 'smtp_connect_timeout 0', bad: '0', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'smtp_connect_timeout 3601', bad: '3601', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'smtp_connect_timeout 5s', bad: '5s', code: 'HAD_CFG_BAD_NUMBER' },
      { line: 'smtp_server mail.example.com', bad: 'mail.example.com', code: 'HAD_CFG_BAD_ADDRESS' },
      { line: 'smtp_server 192.0.2.25 70000', bad: '70000', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'vrrp_mcast_group4 224.0.0.300', bad: '224.0.0.300', code: 'HAD_CFG_BAD_ADDRESS' },
      { line: 'vrrp_mcast_group6 ff02::zz', bad: 'ff02::zz', code: 'HAD_CFG_BAD_ADDRESS' },
      { line: 'vrrp_garp_master_delay 86401', bad: '86401', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'vrrp_garp_master_repeat 0', bad: '0', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'vrrp_garp_master_refresh -1', bad: '-1', code: 'HAD_CFG_BAD_NUMBER' },
      { line: 'vrrp_garp_master_refresh_repeat 10001', bad: '10001', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'vrrp_garp_interval 2', bad: '2', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'vrrp_gna_interval 1.5', bad: '1.5', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'vrrp_startup_delay 3601', bad: '3601', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'lvs_sync_daemon eth1 id 256', bad: '256', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'lvs_sync_daemon eth1 maxlen 65508', bad: '65508', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'lvs_sync_daemon eth1 port 0', bad: '0', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'lvs_sync_daemon eth1 ttl 256', bad: '256', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'lvs_sync_daemon eth1 group 224.0.0.999', bad: '224.0.0.999', code: 'HAD_CFG_BAD_ADDRESS' },
      { line: 'lvs_sync_daemon eth1 id', bad: 'id', code: 'HAD_CFG_MISSING_ARGUMENT' },
      { line: 'lvs_timeouts tcp 0', bad: '0', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'lvs_timeouts tcp 2678401', bad: '2678401', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'lvs_timeouts sctp 30', bad: 'sctp', code: 'HAD_CFG_BAD_VALUE' },
      { line: 'data_plane fast', bad: 'fast', code: 'HAD_CFG_BAD_VALUE' },
      { line: 'lvs_timeouts tcp 30 udp', bad: 'udp', code: 'HAD_CFG_BAD_VALUE' },
    ];
    for (const c of cases) {
      it(`'${c.line}' is ${c.code} at '${c.bad}'`, () => {
        const text = `global_defs {\n    ${c.line}\n}\n`;
        const result = loadText(text);
        const col = c.line.lastIndexOf(c.bad) + 5;
        // A bad number in keepalived's blocks is ignored with a warning, as keepalived ignores it.
        const ignored = c.code === 'HAD_CFG_OUT_OF_RANGE' || c.code === 'HAD_CFG_BAD_NUMBER';
        assertOne(result, c.code, ignored ? 'warning' : 'error', `${mainFile}:2:${col}`);
        assert.equal(result.errorCount, ignored ? 0 : 1);
        const fresh = newGlobalDefs();
        const g = result.config.global;
        assert.deepEqual(
          [g.vrrpVersion, g.smtpConnectTimeoutMs, g.smtpServer, g.vrrpMcastGroup4, g.vrrpMcastGroup6, g.garp, g.garpIntervalMs, g.gnaIntervalMs, g.vrrpStartupDelayMs],
          [fresh.vrrpVersion, fresh.smtpConnectTimeoutMs, undefined, fresh.vrrpMcastGroup4, fresh.vrrpMcastGroup6, fresh.garp, 0, 0, 0],
        );
      });
    }

    it('an unknown lvs_sync_daemon option is a warning at the option, and the rest still applies', () => {
      const text = 'global_defs {\n  lvs_sync_daemon eth1 weight 3 ttl 4\n}\n';
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'weight'));
      assert.equal(result.config.global.lvsSyncDaemon?.ttl, 4);
    });

    it('a keyword with no value is HAD_CFG_MISSING_ARGUMENT at the keyword', () => {
      const text = 'global_defs {\n  router_id\n}\n';
      assertOne(loadText(text), 'HAD_CFG_MISSING_ARGUMENT', 'error', at(text, 'router_id'));
    });

    it('a surplus value is a HAD_CFG_EXTRA_ARGUMENT warning at that value', () => {
      const text = 'global_defs {\n  router_id a b\n}\n';
      const result = loadText(text);
      assertOne(result, 'HAD_CFG_EXTRA_ARGUMENT', 'warning', at(text, 'b\n'));
      assert.equal(result.config.global.routerId, 'a');
    });
  });

  describe('seeding vrrp_instance defaults', () => {
    const globals = lines(
      'global_defs {',
      '    vrrp_version 3',
      '    vrrp_garp_master_delay 1',
      '    vrrp_garp_master_repeat 2',
      '    vrrp_garp_master_refresh 30',
      '    vrrp_garp_master_refresh_repeat 4',
      '}',
    );
    const seeded = { masterDelayMs: 1000, masterRepeat: 2, masterRefreshMs: 30_000, masterRefreshRepeat: 4 };

    it('vrrp_version and vrrp_garp_* become the defaults of every instance', () => {
      const result = loadText(globals + instance('VI_1', 1, '10.0.0.1') + instance('VI_2', 2, '10.0.0.2'));
      assertNoErrors(result);
      for (const i of result.config.vrrpInstances) {
        assert.equal(i.version, 3, i.name);
        assert.deepEqual(i.garp, seeded, i.name);
      }
    });

    it('they seed an instance written before global_defs as well', () => {
      const result = loadText(instance('VI_1', 1, '10.0.0.1') + globals);
      assertNoErrors(result);
      const vi = result.config.vrrpInstances[0];
      assert.equal(vi?.version, 3);
      assert.deepEqual(vi?.garp, seeded);
    });

    it("an instance's own version and garp_master_* override the global ones", () => {
      const own = instance('VI_1', 1, '10.0.0.1', 'version 2', 'garp_master_delay 0', 'garp_master_repeat 9', 'garp_master_refresh 0', 'garp_master_refresh_repeat 1');
      const vi = loadText(own + globals).config.vrrpInstances[0];
      assert.equal(vi?.version, 2);
      assert.deepEqual(vi?.garp, { masterDelayMs: 0, masterRepeat: 9, masterRefreshMs: 0, masterRefreshRepeat: 1 });
    });

    it('an instance does not share its garp settings with global_defs or other instances', () => {
      const result = loadText(globals + instance('VI_1', 1, '10.0.0.1', 'garp_master_repeat 9') + instance('VI_2', 2, '10.0.0.2'));
      assert.equal(result.config.vrrpInstances[1]?.garp.masterRepeat, 2);
      assert.equal(result.config.global.garp.masterRepeat, 2);
    });
  });
});
