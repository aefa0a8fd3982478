import assert from 'node:assert/strict';
import { benchmarks } from '../../bench/registry';

describe('benchmarks at smoke size', () => {
  it('config-parse reads every generated service and reports its rate', () => {
    const bench = benchmarks['config-parse'];
    assert.ok(bench !== undefined);
    const [line] = bench.run({ smoke: true });
    assert.match(line ?? '', /^config-parse services=10 lines=\d+ hadirector=[\d.]+ms \(\d+ lines\/s\)$/);
  });

  it('ipvs reports decisions per second for all 14 schedulers and the table figures', () => {
    const bench = benchmarks['ipvs'];
    assert.ok(bench !== undefined);
    const [schedule, table] = bench.run({ smoke: true });
    assert.equal(schedule?.match(/ [a-z]+=[\d.]+[kM]?\/s/g)?.length, 14, schedule);
    assert.match(table ?? '', /^ipvs conn-table entries=10000 inserts=[\d.]+[kM]?\/s lookups=[\d.]+[kM]?\/s bytes\/entry=(\d+|n\/a \(run with --expose-gc\))$/);
  });
});
