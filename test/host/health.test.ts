// Host health scripts (test/data/host/*.txt): one HostHealth on virtual time, fed samples
// the script writes. Each `run` prints what the machine returned, then its describe() line.
// Commands:
//   new LINE; LINE; ...      a host_health block (the lines of the config grammar, `;`
//                            between them), read by the real parser; a fresh machine
//   reload LINE; LINE; ...   the same, given to the running machine (a SIGHUP)
//   sample [memory=N] [swap=N] [cpu=N] [load=N] [disk=PATH:N,...] [if=NAME:up|down,...]
//                            a sample; a fact not named keeps its last value (at first:
//                            memory=10 swap=0 cpu=5 load=0.1 disk=/var/log:20, no
//                            interfaces); `memory=?` is a fact the source could not read
//   advance 10s              moves time, firing the hold timer the machine asked for
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import type { HostHealthConfig } from '../../src/host/config';
import type { FileSystemFact, HostFacts, InterfaceFact } from '../../src/host/facts';
import { HostHealth, type HostHealthAction, type HostHealthEvent, type HostHealthTimer } from '../../src/host/health';
import { describeAll, lines, loadText } from '../config/load-text';
import { describeScripts, durationWord, parseCommand, ScriptTimers, type ScriptHarness } from '../support/machine-script';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

function formatAction(a: HostHealthAction): string {
  switch (a.kind) {
    case 'factColourChanged':
      return `${a.fact} ${a.from} -> ${a.to}${a.value === undefined ? '' : ` (${Math.round(a.value * 100) / 100}${a.detail === undefined ? '' : ` ${a.detail}`})`}`;
    case 'colourChanged':
      return `host ${a.from} -> ${a.to}`;
    case 'decisionChanged': {
      const d = a.decision;
      return `decide ${d.fault ? 'fault' : 'fit'} delta=${d.priorityDelta}${d.reasons.length > 0 ? `: ${d.reasons.join('; ')}` : ''}`;
    }
    case 'setTimer':
      return `setTimer ${a.timer} at ${a.atMs}ms`;
    case 'cancelTimer':
      return `cancelTimer ${a.timer}`;
  }
}

/** The block of a `new` or `reload` line, through the real parser: a test of the grammar too. */
function configOf(command: string): HostHealthConfig {
  const body = command.replace(/^\S+\s*/, '').split(';').map((l) => `        ${l.trim()}`);
  const result = loadText(lines('global_defs {', '    host_health {', ...body, '    }', '}'));
  assert.equal(result.diagnostics.length, 0, `${command}:\n${describeAll(result)}`);
  return result.config.global.hostHealth;
}

class Harness implements ScriptHarness {
  private readonly clock = new VirtualClock();
  private readonly timers = new ScriptTimers<HostHealthTimer>();
  private health: HostHealth | undefined;
  private facts: Writable<HostFacts> = {
    memoryUsedPercent: 10,
    swapUsedPercent: 0,
    cpuPercent: 5,
    load5PerCpu: 0.1,
    fileSystems: [{ path: '/var/log', mount: '/', usedPercent: 20 }],
    interfaces: [],
  };

  run(command: string): string[] {
    const { verb, args, w } = parseCommand(command);
    switch (verb) {
      case 'new':
        this.timers.clear();
        this.health = new HostHealth(configOf(command), this.clock);
        return [this.describeLine()];
      case 'reload':
        return [...this.step({ kind: 'configured', config: configOf(command) }), this.describeLine()];
      case 'sample':
        this.update(w);
        return [...this.step({ kind: 'sampled', facts: { ...this.facts } }), this.describeLine()];
      case 'advance': {
        const out: string[] = [];
        const endMs = this.clock.nowMs() + durationWord(args[0]);
        this.timers.advance(this.clock, endMs, (timer) => out.push(`t=${this.clock.nowMs()}ms ${timer} fired`, ...this.step({ kind: 'timerFired', timer })));
        return [...out, this.describeLine()];
      }
      default:
        throw new Error(`unknown command: ${verb}`);
    }
  }

  private update(w: Map<string, string>): void {
    const number = (key: string): number | undefined => {
      const text = w.get(key) as string;
      return text === '?' ? undefined : Number(text);
    };
    const fields: Array<[string, 'memoryUsedPercent' | 'swapUsedPercent' | 'cpuPercent' | 'load5PerCpu']> = [
      ['memory', 'memoryUsedPercent'],
      ['swap', 'swapUsedPercent'],
      ['cpu', 'cpuPercent'],
      ['load', 'load5PerCpu'],
    ];
    for (const [key, field] of fields) if (w.has(key)) this.facts[field] = number(key);
    const disk = w.get('disk');
    if (disk !== undefined) {
      this.facts.fileSystems = disk.split(',').map((d): FileSystemFact => {
        const [path, use] = d.split(':') as [string, string];
        return use === '?' ? { path, mount: '/' } : { path, mount: '/', usedPercent: Number(use) };
      });
    }
    const links = w.get('if');
    if (links !== undefined) {
      this.facts.interfaces = links.split(',').map((l): InterfaceFact => {
        const [name, link] = l.split(':') as [string, 'up' | 'down' | 'unknown'];
        return { name, link, addresses: [] };
      });
    }
  }

  private step(event: HostHealthEvent): string[] {
    const health = this.health;
    if (health === undefined) throw new Error('no machine: start with new');
    const actions = health.step(event);
    this.timers.follow(actions);
    return actions.map((a) => `  ${formatAction(a)}`);
  }

  private describeLine(): string {
    return this.health?.describe() ?? '(none)';
  }
}

describeScripts('host health', 'host', () => new Harness());
