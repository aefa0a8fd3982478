// The VRRP agent's scripts (test/data/vrrp-agent/*.txt): the takeover gate, self-release,
// yield and standing down, driven by the cluster's facts as the script sets them. Each
// `run` prints the actions the agent returns and its describe() line with the gate.
// Commands:
//   new [self=d2] [priority=100] [peers=d1] [policy=stop|freeze|ignore] [mode=power|self_release]
//   peer NAME [alive|dead] [holds|free] [fenced] [left] [heard=MS] [wants=PRIORITY from=NODE]
//   cluster [quorate=no] [settled=no] [contact=MS|always] [deposed=WORDS]
//   start   shutdown   advert from=NAME priority=N [address=A]   tracked priority=N [fault=WHY]
//   advance 500ms
import type { ClusterFacts, PeerFacts } from '../../src/cluster/facts';
import { VirtualClock } from '../../src/common/clock';
import { VrrpAgent, type AgentTimer, type VrrpAgentAction, type VrrpAgentEvent } from '../../src/vrrp/agent';
import { describeScripts, durationWord, parseCommand, ScriptTimers, type ScriptHarness } from '../support/machine-script';

interface PeerState {
  alive: boolean;
  holds: boolean;
  fenced: boolean;
  left: boolean;
  heardMs: number;
  wants?: { priority: number; from: string };
}

function format(a: VrrpAgentAction, nowMs: number): string {
  switch (a.kind) {
    case 'sendAdvert':
      return `sendAdvert priority=${a.priority}`;
    case 'setTimer':
      return `setTimer ${a.timer} +${Math.round(a.atMs - nowMs)}ms`;
    case 'cancelTimer':
      return `cancelTimer ${a.timer}`;
    case 'stateChanged':
      return `${a.from} -> ${a.to}: ${a.reason}`;
    case 'gateChanged':
      return `gate ${a.verdict.open ? 'open' : 'shut'}: ${a.verdict.reason}`;
  }
}

class AgentHarness implements ScriptHarness {
  private clock = new VirtualClock();
  private readonly timers = new ScriptTimers<AgentTimer>();
  private readonly peers = new Map<string, PeerState>();
  private agent: VrrpAgent | undefined;
  private address = new Map<string, string>();

  run(command: string): string[] {
    const { verb, w, args } = parseCommand(command);
    switch (verb) {
      case 'new': {
        this.clock = new VirtualClock();
        this.timers.clear();
        this.peers.clear();
        const peers = (w.get('peers') ?? 'd1').split(',');
        peers.forEach((p, i) => this.address.set(p, `10.0.0.${i + 1}`));
        const mode = w.get('mode');
        this.agent = new VrrpAgent(
          {
            self: w.get('self') ?? 'd2',
            settings: { name: 'VI_1', version: 3, priority: Number(w.get('priority') ?? 100), advertIntervalMs: 1000, preempt: true, preemptDelayMs: 0, startAsMaster: false, primaryAddress: '10.0.0.9' },
            peers,
            deadtimeMs: Number(w.get('deadtime') ?? 3000),
            heartbeatIntervalMs: Number(w.get('interval') ?? 1000),
            policy: (w.get('policy') ?? 'stop') as 'stop' | 'freeze' | 'ignore',
            ...(mode !== undefined ? { fenceMode: mode as 'power' | 'self_release' } : {}),
          },
          this.clock,
        );
        for (const p of peers) this.peers.set(p, { alive: true, holds: false, fenced: false, left: false, heardMs: 0 });
        return [this.describeLine()];
      }
      case 'peer': {
        const p = this.peers.get(args[0] ?? '');
        if (p === undefined) throw new Error(`no peer ${args[0] ?? ''}`);
        for (const word of args.slice(1)) {
          if (word === 'alive' || word === 'dead') p.alive = word === 'alive';
          if (word === 'holds' || word === 'free') p.holds = word === 'holds';
          if (word === 'fenced') p.fenced = true;
          if (word === 'left') p.left = true;
        }
        if (w.has('heard')) p.heardMs = Number(w.get('heard'));
        if (w.has('wants')) p.wants = { priority: Number(w.get('wants')), from: w.get('from') ?? '' };
        return [];
      }
      case 'advance': {
        const out: string[] = [];
        this.timers.advance(this.clock, this.clock.nowMs() + durationWord(args[0]), (timer) => out.push(`t=${this.clock.nowMs()}ms ${timer} fired`, ...this.step({ kind: 'timerFired', timer })));
        return [...out, this.describeLine()];
      }
      default:
        return [...this.step(this.event(verb, w)), this.describeLine()];
    }
  }

  private event(verb: string, w: Map<string, string>): VrrpAgentEvent {
    switch (verb) {
      case 'start':
        return { kind: 'start' };
      case 'shutdown':
        return { kind: 'shutdown' };
      case 'cluster':
        return { kind: 'clusterChanged', facts: this.facts(w) };
      case 'advert': {
        const from = w.get('from') ?? 'd1';
        return { kind: 'advertReceived', sender: from, advert: { instance: 'VI_1', priority: Number(w.get('priority') ?? 100), advertIntervalMs: 1000, address: w.get('address') ?? this.address.get(from) ?? '10.0.0.1' } };
      }
      case 'tracked':
        return { kind: 'tracked', priority: Number(w.get('priority') ?? 100), faults: w.has('fault') ? [w.get('fault') ?? ''] : [] };
      default:
        throw new Error(`unknown command: ${verb}`);
    }
  }

  private facts(w: Map<string, string>): ClusterFacts {
    const quorate = w.get('quorate') !== 'no';
    const contact = w.get('contact');
    const peers = new Map<string, PeerFacts>();
    for (const [name, p] of this.peers) {
      const wants = p.wants === undefined ? [] : [{ instance: 'VI_1', priority: p.wants.priority, address: this.address.get(name) ?? '', from: p.wants.from }];
      peers.set(name, { alive: p.alive, left: p.left, fenced: p.fenced, lastHeardByPartitionMs: p.heardMs, claims: { holds: p.holds ? ['VI_1'] : [], wants, atMs: p.heardMs } });
    }
    const members = ['d2', ...[...this.peers].filter(([, p]) => p.alive).map(([n]) => n)];
    const deposed = w.get('deposed');
    return {
      view: { id: 1, members, votes: members.length, expectedVotes: 3, quorum: 2, quorate, waitingForAll: false },
      settled: w.get('settled') !== 'no',
      quorumContactMs: contact === undefined || contact === 'always' ? Infinity : Number(contact),
      ...(deposed !== undefined ? { deposed: deposed.split('_').join(' ') } : {}),
      peers,
    };
  }

  private step(event: VrrpAgentEvent): string[] {
    const agent = this.agent;
    if (agent === undefined) throw new Error('no agent: start with new');
    const actions = agent.step(event);
    this.timers.follow(actions);
    return actions.map((a) => `  ${format(a, this.clock.nowMs())}`);
  }

  private describeLine(): string {
    const a = this.agent;
    if (a === undefined) return '(none)';
    const w = a.wants();
    return `${a.describe()}${w !== undefined ? ` wants from=${w.want.from || '-'}` : ''}`;
  }
}

describeScripts('VRRP agent', 'vrrp-agent', () => new AgentHarness());
