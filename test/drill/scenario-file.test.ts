// Scenario files: steps and expectations read from YAML, every problem with its place
// (file:line:col); a built-in scenario is the same steps; an assert is judged from the
// samples it took.
import assert from 'node:assert/strict';
import { durationMs, parseScenarioFile } from '../../src/drill/scenario-file';
import { scenarioNamed } from '../../src/drill/scenarios';
import { builtinDrill, judgeAssertion } from '../../src/drill/steps';
import { defaultExpectations } from '../../src/drill/verdict';

const faults = ['master-kill', 'master-freeze', 'link-cut'];

describe('drill scenario files', () => {
  it('reads steps and tightened expectations, each step with its place', () => {
    const text = [
      'name: freeze-then-check',
      'summary: a frozen master is fenced',
      'expect:',
      '  outage_margin_ms: 500',
      '  fence_before_takeover: true',
      'steps:',
      '  - fault: master-freeze',
      '  - wait: takeover',
      '  - assert: { holder: backup, quorate: [d2, w1] }',
      '  - wait: 1.5s',
      '  - heal',
      '  - wait: settled',
      '',
    ].join('\n');
    const { scenario, problems } = parseScenarioFile('f.yaml', text, faults);
    assert.deepEqual(problems, []);
    assert.equal(scenario?.name, 'freeze-then-check');
    assert.deepEqual(scenario?.expectations, { ...defaultExpectations, outageMarginMs: 500, fenceBeforeTakeover: true });
    assert.deepEqual(scenario?.steps, [
      { kind: 'fault', scenario: 'master-freeze', where: 'f.yaml:7:5' },
      { kind: 'wait', until: 'takeover', where: 'f.yaml:8:5' },
      { kind: 'assert', check: { holder: 'backup', quorate: ['d2', 'w1'] }, where: 'f.yaml:9:5' },
      { kind: 'wait', ms: 1500, where: 'f.yaml:10:5' },
      { kind: 'heal', where: 'f.yaml:11:5' },
      { kind: 'wait', until: 'settled', where: 'f.yaml:12:5' },
    ]);
  });

  it('says what is wrong and where: an unknown fault, step, key or expectation, a bad duration, a bad type, broken YAML', () => {
    const text = ['name: bad one', 'colour: red', 'expect:', '  no_fence: yes please', '  speed: 3', 'steps:', '  - fault: cable-pull', '  - wait: forever', '  - dance: 1', '  - assert: { holder: [d1] }', ''].join('\n');
    assert.deepEqual(parseScenarioFile('b.yaml', text, faults).problems, [
      "b.yaml:2:1: unknown key 'colour' (there are name, summary, expect, steps)",
      "b.yaml:1:7: name: a word of letters, digits, '.', '-' or '_', at most 64",
      'b.yaml:4:13: expect: no_fence is true or false',
      "b.yaml:5:3: expect: no expectation 'speed' (there are double_holder_ms, outage_margin_ms, fence_before_takeover, no_fence, takeover, skew_alert, returns_after_hold)",
      "b.yaml:7:5: fault: no scenario 'cable-pull' (there are master-kill, master-freeze, link-cut)",
      "b.yaml:8:5: wait: a duration (2s, 500ms) up to 600s, 'takeover' or 'settled', not 'forever'",
      "b.yaml:9:5: no step 'dance' (there are wait, fault, heal, assert)",
      "b.yaml:10:5: assert: 'holder' is not holder: NODE|master|backup|none nor quorate: [NODES]",
    ]);
    assert.match(parseScenarioFile('y.yaml', 'steps: [a, b\n', faults).problems[0] ?? '', /^y\.yaml:\d+:\d+: /);
    assert.deepEqual(parseScenarioFile('e.yaml', 'name: e\nsteps: []\n', faults).problems, ['e.yaml:2:8: steps: a list of 1 to 100 steps']);
  });

  it('reads durations as a step writes them', () => {
    assert.deepEqual(['2s', '500ms', '1.5s', '250', '601s', 'soon', '-1s'].map(durationMs), [2000, 500, 1500, 250, undefined, undefined, undefined]);
  });

  it('a built-in scenario is its fault, its wait and its heal', () => {
    const kill = builtinDrill(scenarioNamed('master-kill') as NonNullable<ReturnType<typeof scenarioNamed>>);
    assert.deepEqual(kill.steps.map((s) => s.kind + ('until' in s ? ` ${s.until}` : 'ms' in s ? ` ${s.ms}` : '')), ['fault', 'wait takeover', 'wait 2000', 'heal', 'wait settled', 'wait 2000']);
    const reload = builtinDrill(scenarioNamed('bad-reload') as NonNullable<ReturnType<typeof scenarioNamed>>);
    assert.deepEqual(reload.steps.map((s) => s.kind + ('until' in s ? ` ${s.until}` : 'ms' in s ? ` ${s.ms}` : '')), ['fault', 'wait 3000', 'heal', 'wait settled', 'wait 2000']);
  });

  it('judges an assert from the latest samples: the holder by name or role, the quorate nodes', () => {
    const latest = [
      { tMs: 1, node: 'd1', state: 'down' as const },
      { tMs: 1, node: 'd2', state: 'master' as const, holdsVip: true, quorate: true },
      { tMs: 1, node: 'w1', state: 'none' as const, holdsVip: false, quorate: true },
    ];
    const roles = { master: 'd1', witnesses: ['w1'] };
    assert.equal(judgeAssertion({ holder: 'backup', quorate: ['d2', 'w1'] }, 'f:1:1', latest, roles).ok, true);
    assert.equal(judgeAssertion({ holder: 'd2' }, 'f:1:1', latest, roles).ok, true);
    const wrong = judgeAssertion({ holder: 'master', quorate: ['d1', 'd2'] }, 'f:3:5', latest, roles);
    assert.deepEqual(wrong, { expectation: 'assert at f:3:5', ok: false, detail: 'holder d2 (wanted master; d1 was master); not quorate: d1' });
    assert.equal(judgeAssertion({ holder: 'none' }, 'f:1:1', latest, roles).ok, false);
  });
});
