import assert from 'node:assert/strict';
import { parseControlRequest } from '../../src/director/control-protocol';

describe('control API requests', () => {
  it('reads the four operations', () => {
    assert.deepEqual(parseControlRequest('{"op":"status"}'), { op: 'status' });
    assert.deepEqual(parseControlRequest('{"op":"health"}'), { op: 'health' });
    assert.deepEqual(parseControlRequest('{"op":"metrics"}'), { op: 'metrics' });
    assert.deepEqual(parseControlRequest('{"op":"ipvsadm","args":["-L","-n"]}'), { op: 'ipvsadm', args: ['-L', '-n'] });
    assert.deepEqual(parseControlRequest('{"op":"ipvsadm","args":["-R"],"stdin":"-C\\n"}'), { op: 'ipvsadm', args: ['-R'], stdin: '-C\n' });
  });

  const bad: Array<[string, RegExp]> = [
    ['garbage', /^not JSON/],
    ['[1,2]', /JSON object/],
    ['null', /JSON object/],
    ['{}', /'op' must be one of status, health, metrics, ipvsadm/],
    ['{"op":"shutdown"}', /'op' must be one of/],
    ['{"op":"ipvsadm"}', /'args' must be an array/],
    ['{"op":"ipvsadm","args":[1]}', /'args' must be an array of at most 256 strings/],
    [`{"op":"ipvsadm","args":${JSON.stringify(Array.from({ length: 300 }, () => '-n'))}}`, /at most 256/],
    ['{"op":"ipvsadm","args":[],"stdin":5}', /'stdin' must be a string/],
  ];
  for (const [line, message] of bad) {
    it(`answers ${line.slice(0, 40)} with an error that says why`, () => {
      const r = parseControlRequest(line);
      assert.equal(typeof r, 'string');
      assert.match(r as string, message);
    });
  }
});
