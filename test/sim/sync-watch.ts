// Connection sync in the simulation: each director's engine serves one persistent
// virtual service, its master makes connections, and the watch remembers, per director
// and run (epoch), the latest change to each entry it sent and in which batch. When a
// director takes the instance over from another, every entry the old master sent in a
// batch the new master's copy had applied (so had acknowledged, or was about to), and
// that has not expired, must be in the new master's engine, on the same real server.
import type { Clock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import type { ClusterSync } from '../../src/director/cluster-sync';
import { ip } from '../ipvs/service-fixture';
import { IpvsEngine } from '../../src/ipvs/engine';
import { noSchedulerFlags } from '../../src/ipvs/schedulers/scheduler';
import { entryKey, type SyncEntry } from '../../src/sync/entry';
import type { SyncBody } from '../../src/sync/wire';

export const simVip = '10.0.0.100';

/** A director's table: one persistent service on the VIP, two real servers. */
export function simEngine(clock: Clock, seed: number): IpvsEngine {
  const engine = new IpvsEngine({ clock, rng: new SeededRng(seed) });
  const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip(simVip), port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false, persistenceS: 60 });
  for (const rs of ['10.1.0.1', '10.1.0.2']) engine.addDestination(svc, ip(rs), 80, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
  return engine;
}

interface Sent {
  readonly seq: number;
  /** Undefined: the latest change was its expiry. */
  readonly entry: SyncEntry | undefined;
  readonly expiresAtMs: number;
}

export class SyncWatch {
  /** Director and epoch → key → the latest change it sent. */
  private readonly sent = new Map<string, Map<string, Sent>>();
  private nextPort = 1024;
  checks = 0;
  entriesChecked = 0;

  constructor(private readonly clock: Clock) {}

  /** A director's master makes a connection from one of 200 clients, a fresh port each time. */
  connect(engine: IpvsEngine, client: number): void {
    const r = engine.connect({ protocol: 'tcp', caddr: ip(`198.51.100.${1 + (client % 200)}`), cport: this.nextPort, vaddr: ip(simVip), vport: 80 });
    this.nextPort = this.nextPort >= 65535 ? 1024 : this.nextPort + 1;
    if (r.ok) engine.setState(r.conn, 'ESTABLISHED');
  }

  /** What a director sends: the batches are remembered. */
  sending(node: string, epoch: number, body: SyncBody): void {
    const m = body.message;
    if (m.kind !== 'batch') return;
    const byKey = this.sent.get(`${node}/${epoch}`) ?? new Map<string, Sent>();
    this.sent.set(`${node}/${epoch}`, byKey);
    const now = this.clock.nowMs();
    for (const c of m.changes) {
      const key = entryKey(c.kind === 'upsert' ? c.entry : c.key);
      if ((byKey.get(key)?.seq ?? 0) > m.seq) continue;
      byKey.set(key, c.kind === 'upsert' ? { seq: m.seq, entry: c.entry, expiresAtMs: now + c.entry.remainingMs } : { seq: m.seq, entry: undefined, expiresAtMs: now });
    }
  }

  /** `master` just took over from `previous` (its engine loaded): what is missing. */
  check(master: string, masterSync: ClusterSync, engine: IpvsEngine, previous: string): string[] {
    const copy = masterSync.status().copies.find((c) => c.peer === previous);
    if (copy === undefined || copy.epoch === undefined) return [];
    this.checks++;
    const problems: string[] = [];
    const now = this.clock.nowMs();
    for (const s of this.sent.get(`${previous}/${copy.epoch}`)?.values() ?? []) {
      const e = s.entry;
      // A second of margin: the copy's clock starts the entry's time when it arrives.
      if (e === undefined || s.seq > copy.appliedSeq || s.expiresAtMs <= now + 1000) continue;
      this.entriesChecked++;
      const here = engine.find(e.protocol, ip(e.caddr), e.cport, e.vaddr, e.vport);
      if (here === undefined) problems.push(`${master} took over from ${previous} without ${entryKey(e)} (batch ${s.seq}, its copy had applied ${copy.appliedSeq})`);
      // A template of its own that outlives the copy's by more than a refresh may lag: this
      // director served the client later (both were master, fencing off), and rightly keeps it.
      else if (here.template && e.template && here.expiresAtMs >= s.expiresAtMs + here.timeoutMs / 4) continue;
      else if (here.daddr.text !== e.daddr) problems.push(`${master} took over from ${previous} with ${entryKey(e)} on ${here.daddr.text}, not ${e.daddr}`);
      if (problems.length >= 3) break;
    }
    return problems;
  }
}
