// VRRP instance scripts (test/data/vrrp/*.txt): each `run` line is an event for the
// instance; the expected output is the actions it returns and its describe() line.
// `advance` moves virtual time, firing the timers the instance asked for, in order.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { VirtualClock } from '../../src/common/clock';
import { VrrpInstance, type VrrpAction, type VrrpEvent, type VrrpTimer } from '../../src/vrrp/instance';
import { parseDataFile, rewriteDataFile, rewriting, type RunDirective } from '../support/datadriven';
import { repoRoot } from '../support/paths';

const dataDir = path.join(repoRoot(), 'test', 'data', 'vrrp');

function words(command: string): Map<string, string> {
  return new Map(command.split(/\s+/).slice(1).map((w) => (w.includes('=') ? (w.split('=', 2) as [string, string]) : [w, 'true'])));
}

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

class Harness {
  readonly clock = new VirtualClock();
  instance: VrrpInstance | undefined;
  private readonly timers = new Map<VrrpTimer, number>();

  run(command: string): string[] {
    const verb = command.split(/\s+/)[0];
    const w = words(command);
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
      const end = this.clock.nowMs() + Number((w.keys().next().value ?? '0ms').replace('ms', ''));
      const out: string[] = [];
      for (let n = 0; n < 1000; n++) {
        const due = [...this.timers].filter(([, at]) => at <= end).sort((a, b) => a[1] - b[1])[0];
        if (due === undefined) break;
        this.timers.delete(due[0]);
        this.clock.advanceTo(due[1]);
        out.push(`t=${this.clock.nowMs()}ms ${due[0]} fired`, ...this.step({ kind: 'timerFired', timer: due[0] }));
      }
      this.clock.advanceTo(end);
      return [...out, this.describeLine()];
    }
    const event = this.event(verb ?? '', w, command);
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
    for (const a of actions) {
      if (a.kind === 'setTimer') this.timers.set(a.timer, a.atMs);
      if (a.kind === 'cancelTimer') this.timers.delete(a.timer);
    }
    return actions.map((a) => `  ${formatAction(a, this.clock.nowMs())}`);
  }

  private describeLine(): string {
    return this.instance?.describe() ?? '(none)';
  }
}

describe('VRRP instance (test/data/vrrp/*.txt)', () => {
  for (const name of fs.readdirSync(dataDir).filter((f) => f.endsWith('.txt')).sort()) {
    it(`behaves as ${name} says`, () => {
      const file = path.join(dataDir, name);
      const { lines, directives } = parseDataFile(file);
      const h = new Harness();
      const outputs = new Map<RunDirective, string[]>();
      for (const d of directives) {
        if (d.kind !== 'run') continue;
        const actual = h.run(d.command);
        outputs.set(d, actual);
        if (!rewriting) assert.deepEqual(actual, d.expected, `${name}:${d.line}: run ${d.command}`);
      }
      if (rewriting) rewriteDataFile(file, lines, outputs);
    });
  }
});
