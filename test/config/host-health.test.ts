import assert from 'node:assert/strict';
import type { ConfigErrorCode } from '../../src/config/errors';
import { newHostHealth } from '../../src/host/config';
import { assertClean, assertOne, at, describeAll, lines, loadText, mainFile, summary } from './load-text';

/** `global_defs { host_health { body } }`, indented, the body from line 3. */
function healthText(...body: string[]): string {
  return lines('global_defs {', '    host_health {', ...body.map((b) => `        ${b}`), '    }', '}');
}

describe('host_health (global_defs)', () => {
  it('without the block, the host is watched with strategy none: sampled every 5 s, hold 60 s, hysteresis 5, no fact judged', () => {
    const result = loadText('');
    assertClean(result);
    assert.deepEqual(result.config.global.hostHealth, { strategy: 'none', intervalMs: 5000, holdMs: 60_000, hysteresis: 5, rules: {} });
    assert.deepEqual(newHostHealth(), result.config.global.hostHealth);
  });

  describe('every keyword reaches its typed field', () => {
    const text = healthText(
      'strategy progressive',
      'interval 10',
      'hold 2m',
      'hysteresis 2.5',
      'memory 90 95 weight 20',
      'swap 50 80',
      'cpu 85.5 98 weight 10',
      'load 1.5 3',
      'disk 90 95 weight 30',
      'interface_down red weight 50',
    );

    it('loads with no diagnostic', () => {
      assertClean(loadText(text));
    });

    it('fills the config, durations in ms, each rule with its place', () => {
      const where = (line: number) => ({ file: mainFile, line, col: 9 });
      assert.deepEqual(loadText(text).config.global.hostHealth, {
        where: { file: mainFile, line: 2, col: 5 },
        strategy: 'progressive',
        intervalMs: 10_000,
        holdMs: 120_000,
        hysteresis: 2.5,
        rules: {
          memory: { yellow: 90, red: 95, weight: 20, where: where(7) },
          swap: { yellow: 50, red: 80, where: where(8) },
          cpu: { yellow: 85.5, red: 98, weight: 10, where: where(9) },
          load: { yellow: 1.5, red: 3, where: where(10) },
          disk: { yellow: 90, red: 95, weight: 30, where: where(11) },
          interface_down: { yellow: 1, red: 1, weight: 50, where: where(12) },
        },
      });
    });
  });

  it('each strategy is a word of its own; interface_down yellow never turns red', () => {
    for (const strategy of ['none', 'migrate_on_red', 'only_green', 'progressive']) {
      const result = loadText(healthText(`strategy ${strategy}`, 'memory 90 95'));
      assertClean(result);
      assert.equal(result.config.global.hostHealth.strategy, strategy);
    }
    const yellow = loadText(healthText('interface_down yellow')).config.global.hostHealth.rules.interface_down;
    assert.deepEqual(yellow, { yellow: 1, where: { file: mainFile, line: 3, col: 9 } });
  });

  it('notify is a command, as keepalived writes one (quoted program and arguments, then user and group)', () => {
    const result = loadText(healthText(`notify "/usr/local/bin/host-changed --quiet" hadirector daemon`, 'memory 90 95'));
    assertClean(result);
    assert.deepEqual(result.config.global.hostHealth.notify, { argv: ['/usr/local/bin/host-changed', '--quiet'], user: 'hadirector', group: 'daemon', where: { file: mainFile, line: 3, col: 16 } });
  });

  it('equal yellow and red thresholds are allowed: the fact goes straight to red', () => {
    const result = loadText(healthText('memory 90 90'));
    assertClean(result);
    assert.deepEqual(result.config.global.hostHealth.rules.memory?.red, 90);
  });

  describe('bad values are errors (the block is hadirector’s own) at the value, and the rule is left out', () => {
    const cases: Array<{ line: string; bad: string; code: ConfigErrorCode }> = [
      { line: 'memory 95 90', bad: '95', code: 'HAD_CFG_CONFLICT' },
      { line: 'memory 90 101', bad: '101', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'disk -1 90', bad: '-1', code: 'HAD_CFG_BAD_NUMBER' },
      { line: 'load 1,5 3', bad: '1,5', code: 'HAD_CFG_BAD_NUMBER' },
      { line: 'load 1.5 1001', bad: '1001', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'cpu 80 90 weight 0', bad: '0', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'cpu 80 90 weight 254', bad: '254', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'cpu 80 90 weight -5', bad: '-5', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'cpu 80 90 wieght 5', bad: 'wieght', code: 'HAD_CFG_BAD_VALUE' },
      { line: 'cpu 80 90 weight', bad: 'weight', code: 'HAD_CFG_MISSING_ARGUMENT' },
      { line: 'swap 80', bad: 'swap', code: 'HAD_CFG_MISSING_ARGUMENT' },
      { line: 'interface_down green', bad: 'green', code: 'HAD_CFG_BAD_VALUE' },
      { line: 'interface_down red weight 300', bad: '300', code: 'HAD_CFG_OUT_OF_RANGE' },
    ];
    for (const c of cases) {
      it(`'${c.line}' is ${c.code} at '${c.bad}'`, () => {
        const text = healthText(c.line);
        const result = loadText(text);
        assertOne(result, c.code, 'error', `${mainFile}:3:${c.line.lastIndexOf(c.bad) + 9}`);
        assert.equal(result.diagnostics.length, 1, describeAll(result));
        assert.deepEqual(result.config.global.hostHealth.rules, {});
      });
    }

    const settings: Array<{ line: string; bad: string; code: ConfigErrorCode }> = [
      { line: 'strategy migrate-on-red', bad: 'migrate-on-red', code: 'HAD_CFG_BAD_VALUE' },
      { line: 'interval 0.5', bad: '0.5', code: 'HAD_CFG_OUT_OF_RANGE' },
      { line: 'interval soon', bad: 'soon', code: 'HAD_CFG_BAD_DURATION' },
      { line: 'hold 2d', bad: '2d', code: 'HAD_CFG_BAD_DURATION' },
      { line: 'hysteresis 120', bad: '120', code: 'HAD_CFG_OUT_OF_RANGE' },
    ];
    for (const c of settings) {
      it(`'${c.line}' is ${c.code} at '${c.bad}', and the default stays`, () => {
        const text = healthText(c.line);
        const result = loadText(text);
        assertOne(result, c.code, 'error', `${mainFile}:3:${c.line.lastIndexOf(c.bad) + 9}`);
        const { where: _where, ...rest } = result.config.global.hostHealth;
        assert.deepEqual(rest, newHostHealth());
      });
    }
  });

  it('an unknown word names its file:line:col and the nearest keyword', () => {
    const text = healthText('memory 90 95', 'memry 80 90');
    const d = assertOne(loadText(text), 'HAD_CFG_UNKNOWN_KEYWORD', 'warning', at(text, 'memry'));
    assert.match(d.message, /'memry' in host_health \(did you mean 'memory'\?\)/);
  });

  it('a second host_health block is an error naming the first, and the first stands', () => {
    const text = lines('global_defs {', '    host_health {', '        strategy only_green', '        memory 90 95', '    }', '}', 'global_defs {', '    host_health {', '        strategy progressive', '    }', '}');
    const result = loadText(text);
    const d = assertOne(result, 'HAD_CFG_DUPLICATE', 'error', at(text, 'host_health', 2));
    assert.match(d.message, new RegExp(`first is at ${mainFile}:2:5`));
    assert.equal(result.config.global.hostHealth.strategy, 'only_green');
  });

  it('host_health wants a block', () => {
    const text = lines('global_defs {', '    host_health', '}');
    assertOne(loadText(text), 'HAD_CFG_BLOCK_EXPECTED', 'error', at(text, 'host_health'));
  });

  describe('settings that do nothing together are warnings', () => {
    it('a strategy with no fact to judge', () => {
      const text = healthText('strategy migrate_on_red');
      const d = assertOne(loadText(text), 'HAD_CFG_MISSING_KEYWORD', 'warning', at(text, 'host_health'));
      assert.match(d.message, /never acts/);
    });

    it('a weight under a strategy other than progressive, at its rule', () => {
      const text = healthText('strategy only_green', 'memory 90 95 weight 10');
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'memory'));
    });

    it('interface_down yellow under migrate_on_red', () => {
      const text = healthText('strategy migrate_on_red', 'memory 90 95', 'interface_down yellow');
      assertOne(loadText(text), 'HAD_CFG_CONFLICT', 'warning', at(text, 'interface_down'));
    });

    it('none of them under strategy none with thresholds alone', () => {
      assert.deepEqual(summary(loadText(healthText('memory 90 95', 'interface_down yellow'))), []);
    });
  });
});
