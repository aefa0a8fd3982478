// The host-health shell and sampler on virtual time: which schedule an interval gets,
// samples never overlapping, the hold timer armed on the clock, a reload judged at once
// and its new interval taken up, the FAULT reason the instances are given.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { clockSchedule, cronExpression, cronSchedule, HostHealthShell, HostMonitor, type HostEvents, type SampleSchedule } from '../../src/director/host-monitor';
import { newHostHealth, type HostHealthConfig } from '../../src/host/config';
import type { HostFactSource, HostFacts } from '../../src/host/facts';
import type { HostDecision } from '../../src/host/health';

const where = { file: 'test', line: 1, col: 1 };
const facts = (memory: number): HostFacts => ({ memoryUsedPercent: memory, fileSystems: [], interfaces: [] });
const migrateOnRed = (over: Partial<HostHealthConfig> = {}): HostHealthConfig => ({
  ...newHostHealth(),
  strategy: 'migrate_on_red',
  intervalMs: 1000,
  holdMs: 10_000,
  rules: { memory: { yellow: 80, red: 90, where } },
  ...over,
});

/** A source whose samples resolve when the test says. */
class HeldSource implements HostFactSource {
  readonly waiting: Array<(f: HostFacts) => void> = [];
  sample(): Promise<HostFacts> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

function recorder(): { events: HostEvents; decisions: HostDecision[]; colours: string[] } {
  const decisions: HostDecision[] = [];
  const colours: string[] = [];
  return { decisions, colours, events: { decided: (d) => decisions.push(d), colourChanged: (from, to, causes) => colours.push(`${from}->${to} ${causes.join('; ')}`) } };
}

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined };
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('host health: the schedule', () => {
  it("takes cron's seconds field for an interval that divides a minute, and the clock for any other", () => {
    assert.equal(cronExpression(1000), '*/1 * * * * *');
    assert.equal(cronExpression(5000), '*/5 * * * * *');
    assert.equal(cronExpression(30_000), '*/30 * * * * *');
    assert.equal(cronExpression(60_000), '0 * * * * *');
    for (const ms of [7000, 1500, 45_000, 120_000, 3_600_000]) assert.equal(cronExpression(ms), undefined, `${ms}`);
    const asked: number[] = [];
    const fallback: SampleSchedule = (intervalMs) => (asked.push(intervalMs), { stop: () => undefined });
    cronSchedule(fallback)(7000, () => undefined).stop();
    assert.deepEqual(asked, [7000]);
  });

  it('on the clock: a tick every interval until stopped, and no timer left behind', () => {
    const clock = new VirtualClock();
    const ticks: number[] = [];
    const task = clockSchedule(clock)(7000, () => ticks.push(clock.nowMs()));
    clock.advance(21_500);
    assert.deepEqual(ticks, [7000, 14_000, 21_000]);
    task.stop();
    clock.advance(20_000);
    assert.equal(ticks.length, 3);
    assert.equal(clock.pendingTimers(), 0);
  });
});

describe('host health: the sampler', () => {
  it('never runs two samples at once: a tick while one runs is let go and counted', async () => {
    const clock = new VirtualClock();
    const source = new HeldSource();
    const r = recorder();
    const monitor = new HostMonitor({ config: migrateOnRed(), clock, source, paths: ['/etc'], interfaces: [], schedule: clockSchedule(clock), log: quiet, events: r.events, heapUsed: () => 0 });
    monitor.start();
    clock.advance(1000);
    clock.advance(1000);
    clock.advance(1000);
    assert.equal(source.waiting.length, 1, 'one sample running');
    assert.equal(monitor.status().skipped, 2);
    source.waiting[0]?.(facts(95));
    await turn();
    assert.equal(monitor.status().samples, 1);
    assert.deepEqual(r.colours, ['green->red memory red 95']);
    clock.advance(1000);
    assert.equal(source.waiting.length, 2, 'the next tick samples again');
    monitor.stop();
    source.waiting[1]?.(facts(10));
    await turn();
    assert.equal(monitor.status().samples, 1, 'a sample that ends after stop is dropped');
    assert.equal(clock.pendingTimers(), 0);
  });

  it('a reload is judged at once on the last sample, and a new interval takes the schedule anew', async () => {
    const clock = new VirtualClock();
    let memory = 85;
    const sampled: number[] = [];
    const source: HostFactSource = { sample: () => (sampled.push(clock.nowMs()), Promise.resolve(facts(memory))) };
    const r = recorder();
    const monitor = new HostMonitor({ config: migrateOnRed(), clock, source, paths: [], interfaces: [], schedule: clockSchedule(clock), log: quiet, events: r.events });
    await monitor.sample();
    monitor.start();
    assert.equal(monitor.status().colour, 'yellow');
    monitor.reload(migrateOnRed({ intervalMs: 5000, rules: { memory: { yellow: 70, red: 84, where } } }));
    assert.deepEqual([monitor.status().colour, monitor.status().fault], ['red', true]);
    memory = 10;
    clock.advance(4999);
    assert.deepEqual(sampled, [0]);
    clock.advance(1);
    await turn();
    assert.deepEqual(sampled, [0, 5000]);
    assert.equal(monitor.status().intervalMs, 5000);
    monitor.stop();
  });
});

describe('host health: the shell', () => {
  it('arms the hold timer on the clock; the FAULT reason names the cause, then when the hold ends', () => {
    const clock = new VirtualClock(0, Date.UTC(2026, 0, 1));
    const r = recorder();
    const shell = new HostHealthShell(migrateOnRed(), clock, r.events);
    shell.sampled(facts(95));
    assert.deepEqual(shell.extraWeight(), { weight: 0, faults: ['host health red: memory red 95'] });
    clock.advance(1000);
    shell.sampled(facts(50));
    assert.equal(clock.pendingTimers(), 1, 'the hold timer');
    assert.deepEqual(shell.extraWeight(), { weight: 0, faults: ['host health green: held until 2026-01-01T00:00:11.000Z'] });
    clock.advance(9999);
    assert.equal(r.decisions.at(-1)?.fault, true);
    clock.advance(1);
    assert.equal(r.decisions.at(-1)?.fault, false, 'the timer fired and the decision was handed on');
    assert.deepEqual(shell.extraWeight(), { weight: 0, faults: [] });
    assert.equal(clock.pendingTimers(), 0);
  });
});
