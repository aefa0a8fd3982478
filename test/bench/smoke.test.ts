import assert from 'node:assert/strict';
import { benchmarks } from '../../bench/registry';

describe('benchmarks at smoke size', () => {
  it('config-parse reads every generated service and reports its rate', () => {
    const bench = benchmarks['config-parse'];
    assert.ok(bench !== undefined);
    const [line] = bench.run({ smoke: true });
    assert.match(line ?? '', /^config-parse services=10 lines=\d+ hadirector=[\d.]+ms \(\d+ lines\/s\)$/);
  });
});
