import assert from 'node:assert/strict';
import { ScriptResult } from '../../src/track/script-result';

const run = (r: ScriptResult, results: string): string => [...results].map((c) => (r.record(c === '+'), r.up ? 'U' : 'D')).join('');

describe('vrrp_script rise and fall', () => {
  it('starts up and its first result alone decides', () => {
    assert.equal(run(new ScriptResult(3, 3, false), '-'), 'D');
    assert.equal(run(new ScriptResult(3, 3, false), '+-'), 'UU');
  });

  it('needs `fall` failures in a row to go down and `rise` successes in a row to come up', () => {
    assert.equal(run(new ScriptResult(2, 3, false), '+--+---++-++'), 'UUUUUUDDUUUU');
  });

  it('with init_fail starts down and needs `rise` successes', () => {
    const r = new ScriptResult(2, 1, true);
    assert.equal(r.up, false);
    assert.equal(run(r, '+-++-'), 'DDDUD');
  });

  it('reports a change only when the state changes', () => {
    const r = new ScriptResult(1, 2, false);
    assert.deepEqual([true, false, false, true].map((ok) => r.record(ok)), [false, false, true, true]);
  });
});
