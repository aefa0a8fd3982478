import assert from 'node:assert/strict';
import { decodeEnvelope, encodeEnvelope, protocolVersion, type Envelope } from '../../src/heartbeat/envelope';
import type { SyncEntry } from '../../src/sync/entry';
import type { SyncMessage } from '../../src/sync/messages';
import { syncChangesMax, type SyncBody } from '../../src/sync/wire';

const key = Buffer.from('0123456789abcdef0123456789abcdef');

const entry = (over: Partial<SyncEntry> = {}): SyncEntry => ({
  protocol: 'tcp',
  caddr: '203.0.113.7',
  cport: 40000,
  vaddr: '192.0.2.10',
  vport: 80,
  daddr: '10.0.0.2',
  dport: 8080,
  state: 'ESTABLISHED',
  template: false,
  remainingMs: 899_750,
  ...over,
});

function carried(message: SyncMessage, to = ''): Envelope | string {
  const sync: SyncBody = { to, message };
  const envelope: Envelope = { version: protocolVersion, clusterId: 'lab', sender: 'd1', bootEpoch: 1_764_000_000_000, sequence: 9, sentWallUs: 1_764_000_000_000_000, sync };
  return decodeEnvelope(encodeEnvelope(envelope, key), key);
}

const bodyOf = (e: Envelope | string) => (typeof e === 'string' ? e : e.sync);

describe('sync messages on the wire', () => {
  const epoch = 1_764_000_000_123;

  it('carries every kind of message through the authenticated envelope unchanged', () => {
    const messages: SyncMessage[] = [
      {
        kind: 'batch',
        epoch,
        seq: 2 ** 40,
        changes: [
          { kind: 'upsert', entry: entry() },
          { kind: 'upsert', entry: entry({ protocol: 'udp', caddr: '2001:db8::7', vaddr: '2001:db8::10', daddr: '2001:db8::2', state: 'UDP', remainingMs: 0 }) },
          { kind: 'upsert', entry: entry({ protocol: 'ip', cport: 0, vaddr: 'fwmark:7', vport: 0, state: 'NONE', template: true }) },
          { kind: 'expire', key: { protocol: 'tcp', caddr: '203.0.113.8', cport: 1, vaddr: '192.0.2.10', vport: 80 } },
        ],
      },
      { kind: 'request', epoch, copyEpoch: 0, request: { kind: 'snapshot' } },
      { kind: 'request', epoch, copyEpoch: 5, request: { kind: 'resend', afterSeq: 12 } },
      { kind: 'request', epoch, copyEpoch: 5, request: { kind: 'pages', atSeq: 3, pages: [0, 7, 9] } },
      { kind: 'page', epoch, page: { atSeq: 3, index: 1, pages: 4, entries: [entry(), entry({ template: true, cport: 0, state: 'NONE' })], servedSeq: 9 } },
      { kind: 'ack', epoch, copyEpoch: 5, appliedSeq: 41, windowBatches: 12 },
      { kind: 'ack', epoch, copyEpoch: 5, appliedSeq: 42, windowBatches: 0 },
    ];
    for (const message of messages) assert.deepEqual(bodyOf(carried(message, 'd2')), { to: 'd2', message }, message.kind);
  });

  it('drops as malformed a message with anything out of bounds, whatever else it holds', () => {
    const bad: Array<[string, SyncMessage]> = [
      ['a client that is no address', { kind: 'batch', epoch, seq: 1, changes: [{ kind: 'upsert', entry: entry({ caddr: 'example.com' }) }] }],
      ['a real server that is no address', { kind: 'page', epoch, page: { atSeq: 0, index: 0, pages: 1, entries: [entry({ daddr: '10.0.0.300' })], servedSeq: 0 } }],
      ['a port past 65535', { kind: 'batch', epoch, seq: 1, changes: [{ kind: 'upsert', entry: entry({ dport: 70_000 }) }] }],
      ['an unknown state', { kind: 'batch', epoch, seq: 1, changes: [{ kind: 'upsert', entry: entry({ state: 'DANCING' }) }] }],
      ['a firewall mark on a TCP entry', { kind: 'batch', epoch, seq: 1, changes: [{ kind: 'expire', key: { protocol: 'tcp', caddr: '10.1.1.1', cport: 1, vaddr: 'fwmark:1', vport: 0 } }] }],
      ['too many changes', { kind: 'batch', epoch, seq: 1, changes: Array.from({ length: syncChangesMax + 1 }, () => ({ kind: 'expire' as const, key: entry() })) }],
      ['a page past the last', { kind: 'page', epoch, page: { atSeq: 0, index: 4, pages: 4, entries: [], servedSeq: 0 } }],
      ['a window past 65,535 batches', { kind: 'ack', epoch, copyEpoch: 1, appliedSeq: 1, windowBatches: 70_000 }],
      ['too many pages asked', { kind: 'request', epoch, copyEpoch: 1, request: { kind: 'pages', atSeq: 0, pages: Array.from({ length: 65 }, (_, i) => i) } }],
    ];
    for (const [what, message] of bad) assert.equal(carried(message), 'malformed', what);
    assert.equal(carried({ kind: 'ack', epoch, copyEpoch: 1, appliedSeq: 1, windowBatches: 0 }, 'x'.repeat(65)), 'malformed', 'a recipient name too long');
  });
});
