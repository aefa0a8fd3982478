// The cluster node's scripts (test/data/cluster/*.txt): one node, and its peers played by
// the script, which writes their datagrams (authenticated, numbered per run as the peer
// would). Each `run` prints what the node did and its describe() line. Commands:
//   new self=d1 [nodes=d1:150,d2:100,w1:0:witness] [links=ring0] [two_node]
//       [interval=1000] [deadtime=3000] [initdead=6000] [quarantine=MS]
//   start   claims [holds=VI_1] [fences=d2@7:fenced]   link NAME up|down   cleared
//   heartbeat from=d2 [epoch=5] [link=ring0] [holds=VI_1] [fences=d1@1:fencing,d3@2:fenced:AGO_MS] [left=d3@1]
//   fenced (prints the peers this node counts as fenced in their current run)
//   leave from=d2 [epoch=5]   straggler from=d2 (a heartbeat numbered before its leave)
//   advance 500ms   freeze 5000ms (nothing runs meanwhile; what fell due runs after)
//   leaving (this node leaves)
import { VirtualClock } from '../../src/common/clock';
import { ClusterNode, type ClusterAction, type ClusterTimer } from '../../src/cluster/node';
import { decodeEnvelope, encodeEnvelope, protocolVersion, type Envelope, type HeartbeatBody } from '../../src/heartbeat/envelope';
import type { FenceMark } from '../../src/fencing/coordinator';
import { describeScripts, durationWord, parseCommand, ScriptTimers, type ScriptHarness } from '../support/machine-script';
import { simKey } from '../sim/sim-plane';

function list(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').filter((x) => x.length > 0);
}

function marks(value: string | undefined): FenceMark[] {
  return list(value).map((m) => {
    const [node, rest] = m.split('@') as [string, string];
    const [epoch, state, ago] = rest.split(':');
    return { node, epoch: Number(epoch), state: state === 'fencing' ? 'fencing' : 'fenced', ...(ago !== undefined ? { agoMs: Number(ago) } : {}) };
  });
}

function bodyKind(datagram: Buffer): string {
  const e = decodeEnvelope(datagram, simKey);
  if (typeof e === 'string') return e;
  return e.heartbeat !== undefined ? 'heartbeat' : e.advert !== undefined ? 'advert' : e.sync !== undefined ? 'sync' : e.leave !== undefined ? 'leave' : 'empty';
}

class NodeHarness implements ScriptHarness {
  private readonly clock = new VirtualClock();
  private readonly timers = new ScriptTimers<ClusterTimer>();
  /** Each peer's run and the last sequence number it used. */
  private readonly peers = new Map<string, { epoch: number; sequence: number; leftAt?: number }>();
  private node: ClusterNode | undefined;

  run(command: string): string[] {
    const { verb, w, args } = parseCommand(command);
    switch (verb) {
      case 'new': {
        this.timers.clear();
        this.peers.clear();
        const nodes = list(w.get('nodes') ?? 'd1:150,d2:100,w1:0:witness').map((n) => {
          const [name, priority, witness] = n.split(':') as [string, string, string?];
          return { name, votes: 1, priority: Number(priority), witness: witness === 'witness' };
        });
        const interval = Number(w.get('interval') ?? 1000);
        const deadtime = Number(w.get('deadtime') ?? 3000);
        const quarantine = w.get('quarantine');
        this.node = new ClusterNode(
          {
            self: w.get('self') ?? 'd1',
            clusterId: 'sim',
            key: simKey,
            nodes,
            links: list(w.get('links') ?? 'ring0'),
            timing: { intervalMs: interval, warntimeMs: deadtime / 2, deadtimeMs: deadtime, initdeadMs: Number(w.get('initdead') ?? 2 * deadtime) },
            quorum: { twoNode: w.has('two_node'), waitForAll: false },
            skew: { warnMs: 500, criticalMs: 1000 },
            bootEpoch: 1,
            ...(quarantine !== undefined ? { stallQuarantineMs: Number(quarantine) } : {}),
          },
          this.clock,
        );
        return [this.describeLine()];
      }
      case 'advance':
      case 'freeze': {
        const endMs = this.clock.nowMs() + durationWord(args[0]);
        if (verb === 'freeze') this.clock.advanceTo(endMs);
        const out: string[] = [];
        this.timers.advance(this.clock, endMs, (timer) => out.push(`t=${this.clock.nowMs()}ms ${timer} fired`, ...this.step({ kind: 'timerFired', timer })));
        return [...out, this.describeLine()];
      }
      case 'start':
        return [...this.step({ kind: 'start' }), this.describeLine()];
      case 'claims':
        return [...this.step({ kind: 'claimsChanged', claims: { holds: list(w.get('holds')), wants: [], fences: marks(w.get('fences')) } }), this.describeLine()];
      case 'link':
        return [...this.step({ kind: 'linkState', link: args[0] ?? 'ring0', up: args[1] === 'up' }), this.describeLine()];
      case 'cleared':
        return [...this.step({ kind: 'cleared' }), this.describeLine()];
      case 'fenced': {
        const facts = this.node?.facts();
        return [`fenced: [${[...(facts?.peers ?? new Map())].filter(([, p]) => p.fenced).map(([name]) => name).join(',')}]`];
      }
      case 'leaving':
        return [...this.step({ kind: 'leave' }), this.describeLine()];
      case 'heartbeat':
      case 'leave':
      case 'straggler':
        return [...this.step({ kind: 'datagram', bytes: this.datagram(verb, w) }), this.describeLine()];
      default:
        throw new Error(`unknown command: ${verb}`);
    }
  }

  /** A datagram from a peer the script plays, numbered as that peer would number it. */
  private datagram(verb: string, w: Map<string, string>): Buffer {
    const from = w.get('from') ?? 'd2';
    const epoch = Number(w.get('epoch') ?? 1);
    let peer = this.peers.get(from);
    if (peer === undefined || peer.epoch !== epoch) peer = { epoch, sequence: 0 };
    this.peers.set(from, peer);
    // A leave skips a number: the straggler, sent just before it on another link, arriving after it.
    if (verb === 'leave') peer.sequence++;
    const sequence = verb === 'straggler' ? (peer.leftAt ?? peer.sequence) - 1 : ++peer.sequence;
    if (verb === 'leave') peer.leftAt = sequence;
    const heartbeat: HeartbeatBody = {
      link: w.get('link') ?? 'ring0',
      to: this.node === undefined ? 'd1' : (w.get('to') ?? 'd1'),
      echoOriginWallUs: 0,
      echoReceiveWallUs: 0,
      hears: [],
      viewId: 0,
      uptimeMs: 1,
      heard: [{ node: 'd1', agoMs: 0 }],
      holds: list(w.get('holds')),
      wants: [],
      fences: marks(w.get('fences')),
      left: list(w.get('left')).map((d) => ({ node: d.split('@')[0] as string, epoch: Number(d.split('@')[1] ?? 1) })),
    };
    const envelope: Envelope = { version: protocolVersion, clusterId: 'sim', sender: from, bootEpoch: epoch, sequence, sentWallUs: Math.round(this.clock.wallMs() * 1000), ...(verb === 'leave' ? { leave: {} } : { heartbeat }) };
    return encodeEnvelope(envelope, simKey);
  }

  private step(event: Parameters<ClusterNode['step']>[0]): string[] {
    const node = this.node;
    if (node === undefined) throw new Error('no node: start with new');
    const actions = node.step(event);
    const sends = new Map<string, string[]>();
    const out: string[] = [];
    this.timers.follow(actions);
    for (const a of actions) {
      if (a.kind === 'send') {
        const kind = bodyKind(a.datagram);
        sends.set(kind, [...(sends.get(kind) ?? []), ...a.peers.map((p) => `${p}/${a.link}`)]);
        continue;
      }
      const line = this.format(a);
      if (line !== undefined) out.push(`  ${line}`);
    }
    for (const [kind, to] of sends) out.push(`  send ${kind} ${to.join(' ')}`);
    return out;
  }

  private format(a: ClusterAction): string | undefined {
    const nowMs = this.clock.nowMs();
    switch (a.kind) {
      case 'setTimer':
        return `setTimer ${a.timer} +${a.atMs - nowMs}ms`;
      case 'peerChanged':
        return `peer ${a.change.peer}: ${a.change.from} -> ${a.change.to}`;
      case 'viewChanged': {
        const v = a.change.view;
        return `view ${v.id} [${v.members.join(',')}] ${v.quorate ? 'quorate' : 'no-quorum'} dc=${v.dc ?? '-'}`;
      }
      case 'stalled':
        return `stalled ${a.gapMs}ms`;
      case 'peerLeft':
        return `peerLeft ${a.peer}`;
      case 'leaveRevoked':
        return `leaveRevoked ${a.peer}`;
      case 'deposedChanged':
        return a.reason === undefined ? 'reinstated' : `deposed: ${a.reason}`;
      case 'dropped':
        return `dropped: ${a.reason}`;
      case 'claimsHeard':
      case 'send':
        return undefined;
      default:
        return a.kind;
    }
  }

  private describeLine(): string {
    return this.node?.describe() ?? '(none)';
  }
}

describeScripts('cluster node', 'cluster', () => new NodeHarness());
