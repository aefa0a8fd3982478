import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { entryKey, type SyncEntry } from '../../src/sync/entry';
import { SyncReceiver } from '../../src/sync/receiver';
import { snapshotPages, SyncSender, type SyncBatch } from '../../src/sync/sender';
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

function pair(o: { batchMax?: number; keepBatches?: number; entriesMax?: number } = {}) {
  const clock = new VirtualClock();
  const sender = new SyncSender({ epoch: 7, batchMax: o.batchMax ?? 3, keepBatches: o.keepBatches ?? 4 });
  const shadow = new ShadowTable(clock, o.entriesMax ?? 1000);
  const receiver = new SyncReceiver(shadow);
  return { clock, sender, shadow, receiver };
}

describe('connection-table replication (pure)', () => {
  it('coalesces changes to one entry, numbers batches of bounded size, and a backup applies them in order', () => {
    const { sender, shadow, receiver } = pair();
    for (let n = 0; n < 5; n++) sender.upsert(entry(n, { state: 'SYN_RECV', remainingMs: 60_000 }));
    sender.upsert(entry(0));
    sender.expire(entryKey(entry(4)));
    const batches = sender.flush();
    assert.deepEqual(batches.map((b) => [b.seq, b.changes.length]), [[1, 3], [2, 2]]);
    assert.equal(sender.coalesced, 2);
    receiver.page(7, 0, 0, 1, []);
    for (const b of batches) assert.equal(receiver.batch(b), undefined);
    assert.equal(shadow.size, 4);
    assert.equal(shadow.get(entryKey(entry(0)))?.state, 'ESTABLISHED');
    assert.equal(receiver.inSync, true);
  });

  it('a joining backup takes a snapshot in pages, then follows the stream from where it was taken', () => {
    const { sender, shadow, receiver } = pair();
    const table = [entry(1), entry(2), entry(3), entry(4), entry(5)];
    sender.upsert(entry(6));
    const [live] = sender.flush();
    assert.deepEqual(receiver.batch(live as SyncBatch), { kind: 'snapshot' });
    const pages = snapshotPages(table, 2);
    assert.equal(pages.length, 3);
    pages.forEach((p, i) => receiver.page(7, 0, i, pages.length, p));
    assert.equal(shadow.size, 6, 'the five of the snapshot and the batch held meanwhile');
    assert.equal(receiver.applied, 1);
    assert.equal(receiver.inSync, true);
  });

  it('asks for what it missed, holds what came ahead, and ignores duplicates', () => {
    const { sender, shadow, receiver } = pair({ batchMax: 1 });
    receiver.page(7, 0, 0, 1, []);
    for (let n = 0; n < 5; n++) sender.upsert(entry(n));
    const b = sender.flush();
    assert.equal(receiver.batch(b[0] as SyncBatch), undefined);
    assert.deepEqual(receiver.batch(b[3] as SyncBatch), { kind: 'resend', afterSeq: 1 });
    assert.deepEqual(receiver.batch(b[4] as SyncBatch), { kind: 'resend', afterSeq: 1 });
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

  it('a backup too far behind for the kept batches is told to take a snapshot', () => {
    const { sender } = pair({ batchMax: 1, keepBatches: 2 });
    for (let n = 0; n < 5; n++) sender.upsert(entry(n));
    sender.flush();
    assert.deepEqual(sender.resend(1), { kind: 'snapshot' });
    assert.equal(sender.resend(3).kind, 'batches');
    assert.deepEqual(sender.resend(5), { kind: 'batches', batches: [] });
  });

  it('a new epoch (the master restarted, or another took over) starts over with a snapshot', () => {
    const { shadow, receiver } = pair();
    receiver.page(7, 0, 0, 1, [entry(1)]);
    const other = new SyncSender({ epoch: 8, batchMax: 10, keepBatches: 4 });
    other.upsert(entry(2));
    assert.deepEqual(receiver.batch(other.flush()[0] as SyncBatch), { kind: 'snapshot' });
    receiver.page(8, 0, 0, 1, [entry(3)]);
    assert.deepEqual(
      shadow.live().map((e) => e.caddr).sort(),
      [entry(2).caddr, entry(3).caddr].sort(),
      'the old epoch\'s entries are gone; the new snapshot and the batch held meanwhile remain',
    );
  });

  it('carries remaining time, not clock values: entries expire on the backup\'s own clock, and promotion hands over what is left', () => {
    const { clock, shadow, receiver } = pair();
    receiver.page(7, 0, 0, 1, [entry(1, { remainingMs: 5000 }), entry(2, { remainingMs: 120_000, template: true, state: 'NONE' })]);
    clock.advance(3000);
    assert.deepEqual(shadow.live().map((e) => e.remainingMs).sort((a, b) => a - b), [2000, 117_000]);
    clock.advance(2500);
    assert.equal(shadow.sweep(), 1);
    assert.deepEqual(shadow.live().map((e) => [e.caddr, e.template]), [[entry(2).caddr, true]]);
  });

  it('keeps the shadow table within its bound and counts what it refused', () => {
    const { shadow, receiver } = pair({ entriesMax: 3 });
    receiver.page(7, 0, 0, 1, [entry(1), entry(2), entry(3), entry(4)]);
    assert.equal(shadow.size, 3);
    assert.equal(shadow.refused, 1);
  });

  it('over a lossy, reordering channel, the backup ends with exactly the master\'s table', () => {
    const { sender, receiver, shadow } = pair({ batchMax: 8, keepBatches: 64 });
    const master = new Map<string, SyncEntry>();
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    receiver.page(7, 0, 0, 1, []);
    let inFlight: SyncBatch[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 10; i++) {
        const n = Math.floor(rand() * 300);
        if (rand() < 0.2 && master.has(entryKey(entry(n)))) {
          master.delete(entryKey(entry(n)));
          sender.expire(entryKey(entry(n)));
        } else {
          const e = entry(n, { state: rand() < 0.5 ? 'ESTABLISHED' : 'FIN_WAIT' });
          master.set(entryKey(e), e);
          sender.upsert(e);
        }
      }
      inFlight.push(...sender.flush().filter(() => rand() > 0.2));
      inFlight = inFlight.sort(() => rand() - 0.5);
      for (const b of inFlight.splice(0)) {
        const ask = receiver.batch(b);
        if (ask?.kind === 'resend') {
          const answer = sender.resend(ask.afterSeq);
          if (answer.kind === 'batches') inFlight.push(...answer.batches);
          else receiver.page(7, sender.lastSeq, 0, 1, [...master.values()]);
        }
      }
    }
    const answer = sender.resend(receiver.applied);
    if (answer.kind === 'batches') for (const b of answer.batches) receiver.batch(b);
    else receiver.page(7, sender.lastSeq, 0, 1, [...master.values()]);
    assert.equal(receiver.applied, sender.lastSeq);
    assert.deepEqual(shadow.live().map((e) => `${entryKey(e)} ${e.state}`).sort(), [...master.values()].map((e) => `${entryKey(e)} ${e.state}`).sort());
  });
});
