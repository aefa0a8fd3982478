import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SyncEndpoint, type SyncSettings } from '../../src/sync/endpoint';
import { entryKey, type SyncEntry } from '../../src/sync/entry';
import { everyPeer, type Outgoing, type SyncMessage } from '../../src/sync/messages';
import { heldBatchesMax, SyncReceiver } from '../../src/sync/receiver';
import { SyncSender, type SyncBatch, type TableItems } from '../../src/sync/sender';
import { ShadowTable } from '../../src/sync/shadow';

const entry = (n: number, over: Partial<SyncEntry> = {}): SyncEntry => ({
  protocol: 'tcp',
  caddr: `10.1.${n >> 8}.${n & 255}`,
  cport: 40000 + (n % 20000),
  vaddr: '192.168.0.100',
  vport: 80,
  daddr: `10.0.0.${1 + (n % 2)}`,
  dport: 8080,
  state: 'ESTABLISHED',
  template: false,
  remainingMs: 900_000,
  ...over,
});

/** Entries as their own items, coalesced by key. */
const entryItems: TableItems<SyncEntry> = { entry: (e: SyncEntry) => e, key: (e: SyncEntry) => e, identity: entryKey };

function pair(o: { batchMax?: number; keepBatches?: number; entriesMax?: number } = {}) {
  const clock = new VirtualClock();
  const sender = new SyncSender<SyncEntry>({ epoch: 7, clock, batchMax: o.batchMax ?? 3, keepBatches: o.keepBatches ?? 4, pageMax: 2, retryMs: 250, snapshotIdleMs: 10_000, windowBatches: 128, activeMs: 1000, pendingMax: 1000 }, entryItems);
  const shadow = new ShadowTable(clock, o.entriesMax ?? 1000);
  const receiver = new SyncReceiver(shadow, clock);
  /** The receiver's copy begun with an empty snapshot of epoch 7. */
  const begin = (entries: SyncEntry[] = [], atSeq = 0) => receiver.page(7, { atSeq, index: 0, pages: 1, entries, servedSeq: atSeq });
  return { clock, sender, shadow, receiver, begin };
}

/** A director's table and its endpoint. */
class Director {
  readonly table = new Map<string, SyncEntry>();
  readonly endpoint: SyncEndpoint<SyncEntry>;

  constructor(name: string, peers: string[], clock: VirtualClock, epoch: number, settings: Partial<SyncSettings>) {
    this.endpoint = new SyncEndpoint({
      self: name,
      peers,
      clock,
      epoch,
      settings,
      snapshot: () => [...this.table.values()],
      items: { ...entryItems, entry: (e) => (this.table.get(entryKey(e)) === e ? e : undefined) },
    });
  }

  upsert(e: SyncEntry): void {
    this.table.set(entryKey(e), e);
    this.endpoint.sender.upsert(e);
  }

  expire(e: SyncEntry): void {
    this.table.delete(entryKey(e));
    this.endpoint.sender.expire(e);
  }
}

/** Carries messages between directors, losing and reordering as told. */
class Channel {
  private queue: Array<{ from: string; to: string; message: SyncMessage }> = [];
  delivered = 0;
  lost = 0;
  kinds = new Map<string, number>();

  constructor(
    private readonly nodes: Map<string, Director>,
    private readonly rand: () => number,
    public loss = 0,
    public reorder = false,
  ) {}

  send(from: string, out: Outgoing[]): void {
    for (const o of out) {
      const targets = o.to === everyPeer ? [...this.nodes.keys()].filter((n) => n !== from) : [o.to];
      for (const to of targets) {
        if (this.rand() < this.loss) this.lost++;
        else this.queue.push({ from, to, message: o.message });
      }
    }
  }

  /** Delivers until nothing is in flight (bounded). */
  drain(): void {
    for (let round = 0; this.queue.length > 0 && round < 10_000; round++) {
      const batch = this.reorder ? this.queue.splice(0).sort(() => this.rand() - 0.5) : this.queue.splice(0);
      for (const { from, to, message } of batch) {
        this.delivered++;
        this.kinds.set(message.kind, (this.kinds.get(message.kind) ?? 0) + 1);
        this.send(to, this.nodes.get(to)?.endpoint.receive(from, message) ?? []);
      }
    }
  }

  /** Flushes, ticks and delivers, advancing the clock by `ms` each round. */
  run(clock: VirtualClock, rounds: number, ms: number): void {
    for (let i = 0; i < rounds; i++) {
      for (const [name, d] of this.nodes) this.send(name, [...d.endpoint.flush(), ...d.endpoint.tick()]);
      this.drain();
      clock.advance(ms);
    }
  }
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

function cluster(names: string[], clock: VirtualClock, settings: Partial<SyncSettings> = {}, rand = seeded(1)) {
  const nodes = new Map<string, Director>();
  names.forEach((n, i) => nodes.set(n, new Director(n, names.filter((x) => x !== n), clock, 100 + i, settings)));
  return { nodes, channel: new Channel(nodes, rand) };
}

const copyOf = (d: Director, peer: string) =>
  d.endpoint
    .copyOf(peer)
    ?.live()
    .map((e) => `${entryKey(e)} ${e.daddr} ${e.state}`)
    .sort();
const tableOf = (d: Director) => [...d.table.values()].map((e) => `${entryKey(e)} ${e.daddr} ${e.state}`).sort();

describe('connection-table replication (pure)', () => {
  it('coalesces changes to one entry, numbers batches of bounded size, and a copy applies them in order', () => {
    const { sender, shadow, receiver, begin } = pair();
    for (let n = 0; n < 5; n++) sender.upsert(entry(n, { state: 'SYN_RECV', remainingMs: 60_000 }));
    sender.upsert(entry(0));
    sender.expire(entry(4));
    const batches = sender.flush();
    assert.deepEqual(batches.map((b) => [b.seq, b.changes.length]), [[1, 3], [2, 2]]);
    assert.equal(sender.coalesced, 2);
    begin();
    for (const b of batches) assert.equal(receiver.batch(b), undefined);
    assert.equal(shadow.size, 4);
    assert.equal(shadow.get(entry(0))?.state, 'ESTABLISHED');
    assert.equal(receiver.inSync, true);
  });

  it('a joining director pulls a snapshot a window of pages at a time, then follows the stream from where it was taken', () => {
    const clock = new VirtualClock();
    const { nodes, channel } = cluster(['d1', 'd2'], clock, { pageMax: 10 });
    const d1 = nodes.get('d1') as Director;
    const d2 = nodes.get('d2') as Director;
    for (let n = 0; n < 1000; n++) d1.upsert(entry(n));
    channel.send('d1', d1.endpoint.flush());
    channel.drain();
    for (let n = 1000; n < 1010; n++) d1.upsert(entry(n));
    channel.run(clock, 3, 100);
    assert.deepEqual(copyOf(d2, 'd1'), tableOf(d1));
    assert.equal(d2.endpoint.inSyncWith('d1'), true);
    const pages = channel.kinds.get('page') ?? 0;
    assert.ok(pages >= 100 && pages <= 110, `${pages} pages for 1,000 entries in pages of 10`);
    const requests = channel.kinds.get('request') ?? 0;
    assert.ok(requests <= 2 + Math.ceil(100 / 8) * 2 + 4, `${requests} requests: a window of 8 pages each`);
  });

  it('asks for what it missed, holds what came ahead, and ignores duplicates', () => {
    const { sender, shadow, receiver, begin } = pair({ batchMax: 1 });
    begin();
    for (let n = 0; n < 5; n++) sender.upsert(entry(n));
    const b = sender.flush();
    assert.equal(receiver.batch(b[0] as SyncBatch), undefined);
    assert.deepEqual(receiver.batch(b[3] as SyncBatch), { kind: 'resend', afterSeq: 1 });
    assert.equal(receiver.batch(b[4] as SyncBatch), undefined, 'the same gap is asked for once');
    assert.equal(receiver.lagBatches, 4);
    const answer = sender.resend(receiver.applied);
    assert.equal(answer.kind, 'batches');
    for (const x of answer.kind === 'batches' ? answer.batches : []) receiver.batch(x);
    assert.equal(receiver.applied, 5);
    assert.equal(receiver.duplicates, 2, 'the held 4 and 5 came again');
    assert.equal(receiver.gaps, 1);
    assert.equal(shadow.size, 5);
    assert.equal(receiver.inSync, true);
  });

  it('a batch sent again says what the table holds now: the newest state, or the expiry of an entry gone since', () => {
    const clock = new VirtualClock();
    const table = new Map<string, SyncEntry>();
    const items: TableItems<SyncEntry> = { ...entryItems, entry: (e) => table.get(entryKey(e)) };
    const sender = new SyncSender<SyncEntry>({ epoch: 7, clock, batchMax: 2, keepBatches: 4, pageMax: 2, retryMs: 250, snapshotIdleMs: 10_000, windowBatches: 128, activeMs: 1000, pendingMax: 1000 }, items);
    const [a, b] = [entry(1, { state: 'SYN_RECV' }), entry(2)];
    for (const e of [a, b]) {
      table.set(entryKey(e), e);
      sender.upsert(e);
    }
    const [first] = sender.flush();
    assert.deepEqual(first?.changes, [{ kind: 'upsert', entry: a }, { kind: 'upsert', entry: b }]);
    const established = { ...a, state: 'ESTABLISHED' };
    table.set(entryKey(a), established);
    table.delete(entryKey(b));
    clock.advance(100);
    const again = sender.resend(0);
    assert.deepEqual(again.kind === 'batches' ? again.batches.map((x) => [x.seq, x.changes]) : again, [
      [1, [{ kind: 'upsert', entry: established }, { kind: 'expire', key: b }]],
    ]);
  });

  it('a snapshot finishes however busy the stream: batches meanwhile go into the copy being made, and no page undoes a newer one', () => {
    const clock = new VirtualClock();
    const settings = { batchMax: 4, pageMax: 16, keepBatches: 16 };
    const d1 = new Director('d1', ['d2'], clock, 100, settings);
    for (let n = 0; n < 2000; n++) d1.upsert(entry(n));
    d1.endpoint.flush();
    const d2 = new Director('d2', ['d1'], clock, 200, settings);
    const nodes = new Map([
      ['d1', d1],
      ['d2', d2],
    ]);
    // One hop per step, so that the snapshot takes many steps while d1 keeps changing its table.
    let inFlight: Array<{ from: string; to: string; message: SyncMessage }> = [];
    const route = (from: string, out: Outgoing[]) => out.map((o) => ({ from, to: o.to === everyPeer ? (from === 'd1' ? 'd2' : 'd1') : o.to, message: o.message }));
    const step = () => {
      const now = inFlight;
      inFlight = [];
      for (const m of now) inFlight.push(...route(m.to, nodes.get(m.to)?.endpoint.receive(m.from, m.message) ?? []));
      for (const [name, d] of nodes) inFlight.push(...route(name, [...d.endpoint.flush(), ...d.endpoint.tick()]));
      clock.advance(10);
    };
    const seqBefore = d1.endpoint.sender.lastSeq;
    for (let i = 0; i < 200 && !d2.endpoint.inSyncWith('d1'); i++) {
      for (let k = 0; k < 60; k++) {
        const n = (i * 61 + k * 7) % 2000;
        if (k % 5 === 0) d1.expire(d1.table.get(entryKey(entry(n))) ?? entry(n));
        else d1.upsert(entry(n, { state: k % 2 === 0 ? 'FIN_WAIT' : 'ESTABLISHED', remainingMs: 100_000 + i }));
      }
      step();
    }
    const during = d1.endpoint.sender.lastSeq - seqBefore;
    assert.ok(during > heldBatchesMax, `${during} batches while the snapshot was made: more than a copy holds back`);
    for (let i = 0; i < 10; i++) step();
    assert.deepEqual(copyOf(d2, 'd1'), tableOf(d1));
    assert.equal(d2.endpoint.copyStatus()[0]?.snapshots, 1, 'one snapshot was enough');
  });

  it('a copy too far behind for the kept batches gets a snapshot', () => {
    const { sender } = pair({ batchMax: 1, keepBatches: 2 });
    for (let n = 0; n < 5; n++) sender.upsert(entry(n));
    sender.flush();
    assert.deepEqual(sender.resend(1), { kind: 'snapshot' });
    assert.equal(sender.resend(3).kind, 'batches');
    assert.deepEqual(sender.resend(5), { kind: 'batches', batches: [] });
  });

  it('a peer that restarted (a new epoch) is copied anew: its old entries are gone', () => {
    const clock = new VirtualClock();
    const { nodes, channel } = cluster(['d1', 'd2'], clock);
    const d2 = nodes.get('d2') as Director;
    nodes.get('d1')?.upsert(entry(1));
    channel.run(clock, 3, 100);
    assert.equal(d2.endpoint.copyOf('d1')?.size, 1);
    const restarted = new Director('d1', ['d2'], clock, 999, {});
    nodes.set('d1', restarted);
    restarted.upsert(entry(2));
    channel.run(clock, 3, 100);
    assert.deepEqual(copyOf(d2, 'd1'), tableOf(restarted));
  });

  it('a copy of a peer restarted, heard first by a request rather than a batch, is in sync again once whole (the old run\'s numbers forgotten)', () => {
    const { sender, receiver, begin } = pair({ batchMax: 1 });
    begin();
    for (let n = 0; n < 5; n++) sender.upsert(entry(n));
    for (const b of sender.flush()) receiver.batch(b);
    assert.equal(receiver.inSync, true);
    // The peer restarts (epoch 8): its first word is a request for our table, then an empty snapshot of its own.
    assert.deepEqual(receiver.seen(8), { kind: 'snapshot' });
    receiver.page(8, { atSeq: 0, index: 0, pages: 1, entries: [], servedSeq: 0 });
    assert.deepEqual([receiver.inSync, receiver.lagBatches], [true, 0]);
  });

  it('an idle director is copied too: peers that know nothing of each other ask', () => {
    const clock = new VirtualClock();
    const { nodes, channel } = cluster(['d1', 'd2', 'd3'], clock);
    const d1 = nodes.get('d1') as Director;
    for (let n = 0; n < 20; n++) d1.upsert(entry(n));
    d1.endpoint.flush(); // sent while nobody listened
    channel.run(clock, 4, 100);
    for (const peer of ['d2', 'd3']) assert.deepEqual(copyOf(nodes.get(peer) as Director, 'd1'), tableOf(d1), peer);
    assert.equal(nodes.get('d1')?.endpoint.inSyncWith('d2'), true, 'the empty tables are copied as well');
  });

  it('the lost tail of a burst is noticed by the acks, and the lag is reported until then', () => {
    const clock = new VirtualClock();
    const { nodes, channel } = cluster(['d1', 'd2'], clock, { batchMax: 4 });
    const d1 = nodes.get('d1') as Director;
    channel.run(clock, 3, 100);
    for (let n = 0; n < 10; n++) d1.upsert(entry(n));
    d1.endpoint.flush(); // three batches, all lost: nothing after them shows the gap
    channel.run(clock, 1, 100);
    assert.deepEqual(
      (({ batches, changes }) => ({ batches, changes }))(d1.endpoint.lags()[0] as { batches: number; changes: number }),
      { batches: 3, changes: 10 },
    );
    channel.run(clock, 4, 100);
    assert.deepEqual(copyOf(nodes.get('d2') as Director, 'd1'), tableOf(d1));
    assert.equal(d1.endpoint.lags()[0]?.batches, 0);
  });

  it('keeps at most a window of batches in flight to a copy that acks, and stops waiting for one gone silent', () => {
    const clock = new VirtualClock();
    const sender = new SyncSender<SyncEntry>({ epoch: 7, clock, batchMax: 1, keepBatches: 64, pageMax: 2, retryMs: 250, snapshotIdleMs: 10_000, windowBatches: 4, activeMs: 1000, pendingMax: 1000 }, entryItems);
    for (let n = 0; n < 10; n++) sender.upsert(entry(n));
    assert.equal(sender.flush().length, 10, 'nobody acks yet: nothing to wait for');
    sender.ack('d2', 10);
    for (let n = 10; n < 20; n++) sender.upsert(entry(n));
    assert.deepEqual(sender.flush().map((b) => b.seq), [11, 12, 13, 14], 'the window');
    assert.equal(sender.pendingChanges, 6, 'the rest waits, coalescing');
    assert.equal(sender.flush().length, 0);
    sender.ack('d2', 12);
    assert.deepEqual(sender.flush().map((b) => b.seq), [15, 16]);
    clock.advance(1000);
    assert.equal(sender.flush().length, 4, 'd2 silent for activeMs no longer holds the stream back');
    assert.equal(sender.flush(1, true).length, 0);
  });

  it('keeps to the window a copy says its socket holds, and that copy acks every quarter of it', () => {
    const clock = new VirtualClock();
    const sender = new SyncSender<SyncEntry>({ epoch: 7, clock, batchMax: 1, keepBatches: 64, pageMax: 2, retryMs: 250, snapshotIdleMs: 10_000, windowBatches: 8, activeMs: 1000, pendingMax: 1000 }, entryItems);
    sender.ack('d2', 0, 3);
    sender.ack('d3', 0);
    for (let n = 0; n < 10; n++) sender.upsert(entry(n));
    assert.deepEqual(sender.flush().map((b) => b.seq), [1, 2, 3], "d2's window of 3, less than the sender's 8 and d3's (not said)");
    sender.ack('d2', 3, 100);
    assert.deepEqual(sender.flush().map((b) => b.seq), [4, 5, 6, 7, 8], 'a window larger than the sender\'s own is held to it (d3 has 8 batches unacknowledged)');

    const { nodes, channel } = cluster(['a', 'b'], clock, { batchMax: 1 });
    const [a, b] = [nodes.get('a') as Director, nodes.get('b') as Director];
    b.endpoint.receiveWindowBatches = 8;
    channel.run(clock, 2, 250);
    const acks: number[] = [];
    const windows = new Set<number>();
    for (let n = 0; n < 12; n++) a.upsert(entry(n));
    for (const o of a.endpoint.flush()) {
      for (const reply of b.endpoint.receive('a', o.message)) {
        if (reply.message.kind === 'ack') {
          acks.push(reply.message.appliedSeq);
          windows.add(reply.message.windowBatches);
        }
      }
    }
    assert.deepEqual(acks, [2, 4, 6, 8, 10, 12], 'an ack every 2 batches applied: a quarter of its window of 8');
    assert.deepEqual([...windows], [8]);
  });

  it('carries remaining time, not clock values: entries expire on the copy\'s own clock, and a takeover gets what is left', () => {
    const { clock, shadow, begin } = pair();
    begin([entry(1, { remainingMs: 5000 }), entry(2, { remainingMs: 120_000, template: true, state: 'NONE' })]);
    clock.advance(3000);
    assert.deepEqual(shadow.live().map((e) => e.remainingMs).sort((a, b) => a - b), [2000, 117_000]);
    clock.advance(2500);
    assert.equal(shadow.sweep(), 1);
    assert.deepEqual(shadow.live().map((e) => [e.caddr, e.template]), [[entry(2).caddr, true]]);
  });

  it('a takeover goes through every copy\'s entries for its addresses, templates first; a lookup finds the freshest', () => {
    const clock = new VirtualClock();
    const { nodes, channel } = cluster(['d1', 'd2', 'd3'], clock);
    nodes.get('d1')?.upsert(entry(1, { daddr: '10.0.0.1', remainingMs: 10_000 }));
    nodes.get('d2')?.upsert(entry(1, { daddr: '10.0.0.2', remainingMs: 50_000 }));
    nodes.get('d2')?.upsert(entry(3, { template: true, cport: 0, state: 'NONE' }));
    nodes.get('d1')?.upsert(entry(2, { vaddr: '192.168.0.200' }));
    channel.run(clock, 3, 100);
    const d3 = (nodes.get('d3') as Director).endpoint;
    const loaded = [...d3.takeover((e) => e.vaddr === '192.168.0.100')];
    assert.deepEqual(
      loaded.map((e) => [e.caddr, e.daddr, e.template]),
      [
        [entry(3).caddr, entry(3).daddr, true],
        [entry(1).caddr, '10.0.0.1', false],
        [entry(1).caddr, '10.0.0.2', false],
      ],
    );
    assert.equal(d3.lookup(entry(1))?.daddr, '10.0.0.2', 'the copy with the most time left');
    assert.equal(d3.lookup(entry(9)), undefined);
  });

  it('keeps each copy within its bound and counts what it refused', () => {
    const { shadow, begin } = pair({ entriesMax: 3 });
    begin([entry(1), entry(2), entry(3), entry(4)]);
    assert.equal(shadow.size, 3);
    assert.equal(shadow.refused, 1);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`over a channel that loses 20 % and reorders, every copy ends equal to its director's table (seed ${seed})`, () => {
      const clock = new VirtualClock();
      const rand = seeded(seed);
      const { nodes, channel } = cluster(['d1', 'd2', 'd3'], clock, { batchMax: 8, pageMax: 16, keepBatches: 16 }, rand);
      channel.loss = 0.2;
      channel.reorder = true;
      const d1 = nodes.get('d1') as Director;
      const d2 = nodes.get('d2') as Director;
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < 10; i++) {
          const d = rand() < 0.8 ? d1 : d2;
          const n = Math.floor(rand() * 300);
          const existing = d.table.get(entryKey(entry(n)));
          if (existing !== undefined && rand() < 0.2) d.expire(existing);
          else d.upsert(entry(n, { state: rand() < 0.5 ? 'ESTABLISHED' : 'FIN_WAIT' }));
        }
        channel.run(clock, 1, 50);
      }
      channel.loss = 0;
      channel.run(clock, 10, 100);
      for (const [name, d] of nodes) {
        for (const [peer, p] of nodes) if (peer !== name) assert.deepEqual(copyOf(d, peer), tableOf(p), `${name}'s copy of ${peer}`);
      }
      assert.ok(channel.lost > 100);
    });
  }
});
