import assert from 'node:assert/strict';
import { benchmarks } from '../../bench/registry';

describe('host-sample benchmark at smoke size', () => {
  it('reports the first and the steady cost of a sample: wall, event loop blocked, heap', async function () {
    this.timeout(30_000);
    const bench = benchmarks['host-sample'];
    assert.ok(bench !== undefined);
    const [head, first, steady] = await bench.run({ smoke: true });
    assert.match(head ?? '', /^host-sample paths=3 interfaces=\d+ \(.*\) samples=3$/);
    assert.match(first ?? '', /^host-sample first wall=[\d.]+ms blocked=[\d.]+ms heap=-?[\d.]+KiB$/);
    assert.match(steady ?? '', /^host-sample steady wall median=[\d.]+ms max=[\d.]+ms blocked median=[\d.]+ms max=[\d.]+ms heap allocated median=-?[\d.]+KiB retained\/sample=(-?[\d.]+KiB|n\/a \(run with --expose-gc\))$/);
  });
});
