// VRRP instance scripts (test/data/vrrp/*.txt): each `run` line is an event for the
// instance; the expected output is the actions it returns and its describe() line.
// `advance` moves virtual time, firing the timers the instance asked for, in order.
import { VirtualClock } from '../../src/common/clock';
import { VrrpInstance, type VrrpAction, type VrrpEvent, type VrrpTimer } from '../../src/vrrp/instance';
import { describeScripts, durationWord, parseCommand, ScriptTimers, type ScriptHarness } from '../support/machine-script';

function formatAction(a: VrrpAction, nowMs: number): string {
  switch (a.kind) {
    case 'sendAdvert':
      return `sendAdvert priority=${a.priority}`;
    case 'setTimer':
      return `setTimer ${a.timer} +${(a.atMs - nowMs).toFixed(0)}ms`;
    case 'cancelTimer':
      return `cancelTimer ${a.timer}`;
    case 'stateChanged':
      return `${a.from} -> ${a.to}: ${a.reason}`;
  }
}

class Harness implements ScriptHarness {
  readonly clock = new VirtualClock();
  instance: VrrpInstance | undefined;
  private readonly timers = new ScriptTimers<VrrpTimer>();

  run(command: string): string[] {
    const { verb, w } = parseCommand(command);
    if (verb === 'new') {
      this.instance = new VrrpInstance(
        {
          name: w.get('name') ?? 'VI_1',
          version: w.get('version') === '2' ? 2 : 3,
          priority: Number(w.get('priority') ?? 100),
          advertIntervalMs: Number(w.get('interval') ?? 1000),
          preempt: w.get('nopreempt') === undefined,
          preemptDelayMs: Number(w.get('preempt_delay') ?? 0),
          startAsMaster: w.get('master') !== undefined,
          primaryAddress: w.get('address') ?? '10.0.0.2',
        },
        this.clock,
      );
      return [this.instance.describe()];
    }
    if (verb === 'advance') {
      const out: string[] = [];
      this.timers.advance(this.clock, this.clock.nowMs() + durationWord(command.split(/\s+/)[1]), (timer) => out.push(`t=${this.clock.nowMs()}ms ${timer} fired`, ...this.step({ kind: 'timerFired', timer })));
      return [...out, this.describeLine()];
    }
    const event = this.event(verb, w, command);
    return [...this.step(event), this.describeLine()];
  }

  private event(verb: string, w: Map<string, string>, command: string): VrrpEvent {
    switch (verb) {
      case 'startup':
        return { kind: 'startup' };
      case 'advert':
        return { kind: 'advertReceived', from: w.get('from') ?? '10.0.0.1', priority: Number(w.get('priority') ?? 100), advertIntervalMs: Number(w.get('interval') ?? 1000) };
      case 'gate':
        return { kind: 'gateChanged', open: w.has('open'), reason: command.split(/\s+/).slice(2).join(' ') || 'test' };
      case 'priority':
        return { kind: 'priorityChanged', priority: Number(command.split(/\s+/)[1]) };
      case 'fault':
        return { kind: 'faultRaised', source: w.get('source') ?? 'test', reason: command.split(/\s+/).slice(1).filter((x) => !x.includes('=')).join(' ') };
      case 'clear':
        return { kind: 'faultCleared', source: w.get('source') ?? 'test' };
      case 'group-master':
        return { kind: 'groupMaster', reason: command.split(/\s+/).slice(1).join(' ') };
      case 'group-backup':
        return { kind: 'groupBackup', reason: command.split(/\s+/).slice(1).join(' ') };
      case 'shutdown':
        return { kind: 'shutdown' };
      default:
        throw new Error(`unknown command ${command}`);
    }
  }

  private step(event: VrrpEvent): string[] {
    const instance = this.instance;
    if (instance === undefined) throw new Error('no instance: start with new');
    const actions = instance.step(event);
    this.timers.follow(actions);
    return actions.map((a) => `  ${formatAction(a, this.clock.nowMs())}`);
  }

  private describeLine(): string {
    return this.instance?.describe() ?? '(none)';
  }
}

describeScripts('VRRP instance', 'vrrp', () => new Harness());
