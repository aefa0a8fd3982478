import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { newFencing, type FenceDeviceConfig, type FencingConfig } from '../../src/fencing/config';
import { FencingCoordinator, type FenceOutcome, type FenceRunner } from '../../src/fencing/coordinator';
import { runVirtual } from '../support/virtual-time';

const where = { file: 'c.conf', line: 1, col: 1 };
const device = (name: string, over: Partial<FenceDeviceConfig> = {}): FenceDeviceConfig => ({ name, where, agent: 'exec', timeoutMs: 60_000, retries: 2, hosts: [], options: {}, optionWhere: {}, ...over });

/** Each device answers as planned: ok, fail, or hang (never answers until aborted), after `ms`. */
class PlannedRunner implements FenceRunner {
  readonly calls: string[] = [];
  constructor(
    private readonly clock: VirtualClock,
    private readonly plan: Record<string, 'ok' | 'fail' | 'hang'>,
    private readonly ms = 100,
  ) {}
  run(d: FenceDeviceConfig, target: string, action: string, signal: AbortSignal): Promise<FenceOutcome> {
    this.calls.push(`${Math.round(this.clock.nowMs())} ${d.name} ${action} ${target}`);
    const answer = this.plan[d.name] ?? 'ok';
    return new Promise((resolve) => {
      signal.addEventListener('abort', () => resolve({ ok: false, detail: 'killed' }));
      if (answer !== 'hang') this.clock.setTimeout(() => resolve({ ok: answer === 'ok', detail: answer === 'ok' ? 'off' : 'exit 1' }), this.ms);
    });
  }
}

function setup(config: Partial<FencingConfig>, plan: Record<string, 'ok' | 'fail' | 'hang'> = {}) {
  const clock = new VirtualClock();
  const runner = new PlannedRunner(clock, plan);
  const fenced: string[] = [];
  const alerts: string[] = [];
  const coordinator = new FencingCoordinator({
    self: 'd1',
    config: { ...newFencing(), devices: [device('pdu')], ...config },
    directors: ['d1', 'd2', 'd3'],
    clock,
    rng: new SeededRng(7),
    runner,
    retryAfterMs: 10_000,
    events: { fenced: (t) => fenced.push(`${Math.round(clock.nowMs())} ${t}`), alert: (m) => alerts.push(m), log: () => undefined },
  });
  const all = { members: ['d1', 'd2', 'd3', 'w1'], quorate: true, dc: 'd1' };
  coordinator.viewChanged(all);
  return { clock, runner, fenced, alerts, coordinator, all };
}

describe('fencing coordinator', () => {
  it('the DC of a quorate view fences a director that left it, and says so once it is off', async () => {
    const { clock, runner, fenced, coordinator } = setup({});
    coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd1' });
    assert.deepEqual(coordinator.pending(), ['d2']);
    await runVirtual(clock, 1000);
    assert.deepEqual(runner.calls, ['0 pdu reboot d2']);
    assert.deepEqual(fenced, ['100 d2']);
    assert.equal(coordinator.isFenced('d2'), true);
    const [record] = coordinator.history();
    assert.deepEqual([record?.target, record?.origin, record?.result, record?.durationMs, record?.attempts.map((a) => `${a.device}#${a.attempt} ${a.result}`)], ['d2', 'automatic', 'success', 100, ['pdu#1 success']]);
  });

  it('does not fence when it is not the DC, when the view has no quorum, for a witness, or for a node never seen', async () => {
    const notDc = setup({});
    notDc.coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd3' });
    const noQuorum = setup({});
    noQuorum.coordinator.viewChanged({ members: ['d1'], quorate: false, dc: 'd1' });
    const witness = setup({});
    witness.coordinator.viewChanged({ members: ['d1', 'd2', 'd3'], quorate: true, dc: 'd1' });
    const clock = new VirtualClock();
    const runner = new PlannedRunner(clock, {});
    const fresh = new FencingCoordinator({ self: 'd1', config: { ...newFencing(), devices: [device('pdu')] }, directors: ['d1', 'd2'], clock, rng: new SeededRng(1), runner, events: { fenced: () => undefined, alert: () => undefined, log: () => undefined } });
    fresh.viewChanged({ members: ['d1'], quorate: true, dc: 'd1' });
    for (const s of [notDc, noQuorum, witness]) {
      await runVirtual(s.clock, 1000);
      assert.deepEqual(s.runner.calls, []);
    }
    assert.deepEqual(fresh.pending(), []);
  });

  it('waits between delay_base and delay_max, at random, before an automatic fence', async () => {
    const delays: number[] = [];
    for (let seed = 0; seed < 20; seed++) {
      const clock = new VirtualClock();
      const runner = new PlannedRunner(clock, {});
      const c = new FencingCoordinator({ self: 'd1', config: { ...newFencing(), delayBaseMs: 2000, delayMaxMs: 5000, devices: [device('pdu')] }, directors: ['d1', 'd2'], clock, rng: new SeededRng(seed), runner, events: { fenced: () => undefined, alert: () => undefined, log: () => undefined } });
      c.viewChanged({ members: ['d1', 'd2'], quorate: true, dc: 'd1' });
      c.viewChanged({ members: ['d1'], quorate: true, dc: 'd1' });
      await runVirtual(clock, 6000);
      delays.push(Number(runner.calls[0]?.split(' ')[0]));
    }
    assert.ok(delays.every((d) => d >= 2000 && d <= 5000), delays.join(','));
    assert.ok(new Set(delays).size > 10, 'the delays differ');
  });

  it('fencing a node that outranks this one waits twice delay_max more, so the node that matters acts first', async () => {
    const starts: number[] = [];
    for (const outranked of [false, true]) {
      const clock = new VirtualClock();
      const runner = new PlannedRunner(clock, {});
      const c = new FencingCoordinator({
        self: 'd1',
        config: { ...newFencing(), delayBaseMs: 0, delayMaxMs: 1000, devices: [device('pdu')] },
        directors: ['d1', 'd2'],
        clock,
        rng: new SeededRng(3),
        runner,
        outranks: (a, b) => outranked && a === 'd2' && b === 'd1',
        events: { fenced: () => undefined, alert: () => undefined, log: () => undefined },
      });
      c.viewChanged({ members: ['d1', 'd2'], quorate: true, dc: 'd1' });
      c.viewChanged({ members: ['d1'], quorate: true, dc: 'd1' });
      await runVirtual(clock, 5000);
      starts.push(Number(runner.calls[0]?.split(' ')[0]));
    }
    assert.ok((starts[0] as number) <= 1000, `${starts[0]}`);
    assert.equal((starts[1] as number) - (starts[0] as number), 2000, 'the same draw, two delay_max later');
  });

  it('a device that fails is retried, then the next level is tried; an alert says so', async () => {
    const { clock, runner, fenced, alerts, coordinator } = setup(
      {
        devices: [device('ipmi', { retries: 2 }), device('pdu-a'), device('pdu-b')],
        levels: [
          { where, target: 'd2', index: 1, devices: [{ name: 'ipmi', where }] },
          { where, target: 'd2', index: 2, devices: [{ name: 'pdu-a', where }, { name: 'pdu-b', where }] },
        ],
      },
      { ipmi: 'fail' },
    );
    coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd1' });
    await runVirtual(clock, 5000);
    assert.deepEqual(runner.calls, ['0 ipmi reboot d2', '100 ipmi reboot d2', '200 ipmi reboot d2', '300 pdu-a reboot d2', '400 pdu-b reboot d2']);
    assert.deepEqual(fenced, ['500 d2']);
    assert.deepEqual(alerts, ['fencing d2: level 1 failed; trying the next level']);
  });

  it('a hanging agent is stopped at its timeout, each retry counted', async () => {
    const { clock, runner, alerts, fenced, coordinator } = setup({ devices: [device('slow', { timeoutMs: 5000, retries: 1 })] }, { slow: 'hang' });
    coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd1' });
    await runVirtual(clock, 10_500);
    assert.deepEqual(runner.calls, ['0 slow reboot d2', '5000 slow reboot d2']);
    assert.deepEqual(fenced, []);
    const record = coordinator.history()[0];
    assert.deepEqual(record?.attempts.map((a) => `${a.attempt} ${a.result} ${a.durationMs}`), ['1 timeout 5000', '2 timeout 5000']);
    assert.equal(record?.result, 'failed');
    assert.match(alerts.at(-1) ?? '', /fencing d2 failed at every level \(2 attempts\)/);
    assert.equal(coordinator.isFenced('d2'), false);
  });

  it('after every level failed it tries again later, and stops when the node is back', async () => {
    const { clock, runner, coordinator, all } = setup({}, { pdu: 'fail' });
    coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd1' });
    await runVirtual(clock, 10_500);
    assert.equal(runner.calls.length, 6, runner.calls.join('\n'));
    coordinator.viewChanged(all);
    await runVirtual(clock, 60_000);
    assert.equal(runner.calls.length, 6);
  });

  it('a node fenced and back in the view is a member again: fenced no more', async () => {
    const { clock, coordinator, all } = setup({});
    coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd1' });
    await runVirtual(clock, 1000);
    assert.equal(coordinator.isFenced('d2'), true);
    coordinator.viewChanged(all);
    assert.equal(coordinator.isFenced('d2'), false);
  });

  it('an operator fences through the DC only, may power a node on (not a fence), and may confirm a node off', async () => {
    const { clock, runner, fenced, coordinator } = setup({});
    assert.deepEqual(coordinator.fence('d1', 'off'), { error: 'a node does not fence itself' });
    const on = coordinator.fence('d3', 'on');
    await runVirtual(clock, 1000);
    assert.equal('error' in on ? on.error : on.result, 'success');
    assert.deepEqual(runner.calls, ['0 pdu on d3']);
    assert.deepEqual(fenced, []);
    coordinator.confirm('d2');
    assert.deepEqual(fenced, ['1000 d2']);
    assert.equal(coordinator.history().at(-1)?.origin, 'confirmed');
    coordinator.viewChanged({ members: ['d1', 'd2', 'd3'], quorate: true, dc: 'd3' });
    assert.match((coordinator.fence('d2', 'off') as { error: string }).error, /only the DC/);
  });

  it('cancels a fence still in its delay when this node stops being the DC', async () => {
    const { clock, runner, coordinator } = setup({ delayBaseMs: 5000 });
    coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd1' });
    coordinator.viewChanged({ members: ['d1', 'd3', 'w1'], quorate: true, dc: 'd3' });
    await runVirtual(clock, 10_000);
    assert.deepEqual(runner.calls, []);
    assert.match(coordinator.history()[0]?.attempts[0]?.detail ?? '', /no longer the DC/);
  });
});
