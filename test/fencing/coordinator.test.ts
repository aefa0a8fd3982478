// The fencing coordinator's scripts (test/data/fencing/*.txt): each `run` line is an event,
// the expected output the actions it returns and its describe() line. Agents answer only
// when a script says so (`agent N ok|fail DETAIL`); `advance` fires the timers it asked
// for. Commands:
//   device NAME [timeout=MS] [retries=N] [hosts=A,B]   level NODE INDEX DEVICE...
//   new self=d1 directors=d1,d2 [action=off] [mode=self_release] [delay_base=MS]
//       [delay_max=MS] [retry_after=MS] [seed=N] [priorities=d1:150,d2:100]
//   view members=d1,w1 [dc=d1] [quorate=no] [majority=no] [holders=d2] [epochs=d2:7]
//       [left=d2] [settled=yes] [wire=d2] [unfit=WHY]
//   left NODE   revoked NODE   deposed REASON   reinstated   stop
//   fence NODE [off|reboot|on]   confirm NODE   clear NODE   agent N ok|fail DETAIL
//   advance 500ms
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { newFencing, type FenceDeviceConfig, type FenceLevelConfig } from '../../src/fencing/config';
import { FencingCoordinator, type FencingAction, type FencingEvent, type FenceTimer } from '../../src/fencing/coordinator';
import { describeScripts, durationWord, freeText, parseCommand, ScriptTimers, type ScriptHarness } from '../support/machine-script';

const where = { file: 'c.conf', line: 1, col: 1 };

function list(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').filter((x) => x.length > 0);
}

function pairs(value: string | undefined): Map<string, number> {
  return new Map(list(value).map((p) => [p.split(':')[0] as string, Number(p.split(':')[1])]));
}

function formatAction(a: FencingAction, nowMs: number): string {
  switch (a.kind) {
    case 'runAgent':
      return `runAgent #${a.attempt} ${a.device.name} ${a.action} ${a.target}`;
    case 'abortAgent':
      return `abortAgent #${a.attempt}`;
    case 'setTimer':
      return `setTimer ${a.timer} +${a.atMs - nowMs}ms`;
    case 'cancelTimer':
      return `cancelTimer ${a.timer}`;
    case 'fenced':
      return `fenced ${a.target} (${a.record.origin}, attempts: ${a.record.attempts.length})`;
    case 'reply':
      return 'error' in a.result ? `reply error: ${a.result.error}` : `reply record #${a.result.id} ${a.result.target} ${a.result.action} ${a.result.origin} ${a.result.result}`;
    case 'alert':
      return `alert: ${a.message}`;
    case 'log':
      return `log: ${a.message}`;
  }
}

class FencingHarness implements ScriptHarness {
  private readonly clock = new VirtualClock();
  private readonly timers = new ScriptTimers<FenceTimer>();
  private readonly devices: FenceDeviceConfig[] = [];
  private readonly levels: FenceLevelConfig[] = [];
  private coordinator: FencingCoordinator | undefined;

  run(command: string): string[] {
    const { verb, w, args } = parseCommand(command);
    switch (verb) {
      case 'device':
        this.devices.push({ name: args[0] ?? 'pdu', where, agent: 'exec', timeoutMs: Number(w.get('timeout') ?? 60_000), retries: Number(w.get('retries') ?? 2), hosts: list(w.get('hosts')), options: {}, optionWhere: {} });
        return [];
      case 'level':
        this.levels.push({ where, target: args[0] ?? '', index: Number(args[1]), devices: args.slice(2).map((name) => ({ name, where })) });
        return [];
      case 'new': {
        this.timers.clear();
        const fencing = { ...newFencing(), action: w.get('action') === 'off' ? ('off' as const) : ('reboot' as const), mode: w.get('mode') === 'self_release' ? ('self_release' as const) : ('power' as const) };
        this.coordinator = new FencingCoordinator(
          {
            self: w.get('self') ?? 'd1',
            config: { ...fencing, delayBaseMs: Number(w.get('delay_base') ?? 0), delayMaxMs: Number(w.get('delay_max') ?? 0), devices: this.devices, levels: this.levels },
            directors: list(w.get('directors') ?? 'd1,d2,d3'),
            priorities: pairs(w.get('priorities')),
            retryAfterMs: Number(w.get('retry_after') ?? 10_000),
          },
          this.clock,
          new SeededRng(Number(w.get('seed') ?? 7)),
        );
        return [this.describeLine()];
      }
      case 'advance': {
        const out: string[] = [];
        this.timers.advance(this.clock, this.clock.nowMs() + durationWord(args[0]), (timer) => {
          out.push(`t=${this.clock.nowMs()}ms ${timer} fired`, ...this.step({ kind: 'timerFired', timer }));
        });
        return [...out, this.describeLine()];
      }
      default:
        return [...this.step(this.event(verb, w, args, command)), this.describeLine()];
    }
  }

  private event(verb: string, w: Map<string, string>, args: string[], command: string): FencingEvent {
    const node = args[0] ?? '';
    switch (verb) {
      case 'view': {
        const members = list(w.get('members'));
        const epochs = new Map(members.map((m) => [m, 1]));
        for (const [m, e] of pairs(w.get('epochs'))) epochs.set(m, e);
        const dc = w.get('dc');
        const unfit = w.get('unfit');
        return { kind: 'viewChanged', view: { members, quorate: w.get('quorate') !== 'no', majority: w.get('majority') !== 'no', epochs, holders: list(w.get('holders')), left: list(w.get('left')), settled: w.get('settled') === 'yes', wireHeard: list(w.get('wire')), ...(dc !== undefined ? { dc } : {}), ...(unfit !== undefined ? { unfit } : {}) } };
      }
      case 'left':
        return { kind: 'peerLeft', node };
      case 'revoked':
        return { kind: 'leaveRevoked', node };
      case 'deposed':
        return { kind: 'deposed', reason: freeText(command) };
      case 'reinstated':
        return { kind: 'reinstated' };
      case 'fence': {
        const action = args[1] === 'off' || args[1] === 'on' ? args[1] : 'reboot';
        return { kind: 'fenceRequested', target: node, action };
      }
      case 'confirm':
        return { kind: 'confirmed', target: node };
      case 'clear':
        return { kind: 'cleared', target: node };
      case 'agent':
        return { kind: 'agentFinished', attempt: Number(args[0]), outcome: { ok: args[1] === 'ok', detail: freeText(command, 3) } };
      case 'stop':
        return { kind: 'stop' };
      default:
        throw new Error(`unknown command: ${verb}`);
    }
  }

  private step(event: FencingEvent): string[] {
    const c = this.coordinator;
    if (c === undefined) throw new Error('no coordinator: start with new');
    const actions = c.step(event);
    this.timers.follow(actions);
    return actions.map((a) => `  ${formatAction(a, this.clock.nowMs())}`);
  }

  private describeLine(): string {
    return this.coordinator?.describe() ?? '(none)';
  }
}

describeScripts('fencing coordinator', 'fencing', () => new FencingHarness());

describe('fencing coordinator, over many draws', () => {
  const devices = [{ name: 'pdu', where, agent: 'exec', timeoutMs: 60_000, retries: 2, hosts: [], options: {}, optionWhere: {} }];
  const view = (members: string[], holders: string[] = []) => ({ members, quorate: true, majority: false, dc: 'd1', epochs: new Map(members.map((m) => [m, 1])), holders, left: [], settled: false, wireHeard: [] });
  const firstRunAt = (seed: number, holders: string[]): number => {
    const clock = new VirtualClock();
    const c = new FencingCoordinator({ self: 'd1', config: { ...newFencing(), delayBaseMs: 2000, delayMaxMs: 5000, devices }, directors: ['d1', 'd2'], priorities: new Map([['d1', 100], ['d2', 100]]) }, clock, new SeededRng(seed));
    c.step({ kind: 'viewChanged', view: view(['d1', 'd2']) });
    const delay = c.step({ kind: 'viewChanged', view: view(['d1'], holders) }).find((a) => a.kind === 'setTimer');
    return delay?.kind === 'setTimer' ? delay.atMs : 0;
  };

  it('waits between delay_base and delay_max, at random, before an automatic fence', () => {
    const delays = Array.from({ length: 40 }, (_, seed) => firstRunAt(seed, []));
    assert.ok(delays.every((d) => d >= 2000 && d <= 5000), delays.join(','));
    assert.ok(new Set(delays).size > 20, 'the delays differ');
  });

  it('without a majority, fencing the side that holds the VIPs waits twice delay_max more: the holder always acts first', () => {
    for (let seed = 0; seed < 40; seed++) assert.equal(firstRunAt(seed, ['d2']) - firstRunAt(seed, []), 10_000, `seed ${seed}`);
  });
});
