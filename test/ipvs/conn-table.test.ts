import assert from 'node:assert/strict';
import { Connection } from '../../src/ipvs/conn/connection';
import { ConnTable, expireLaterMs, rebaseAfterMs } from '../../src/ipvs/conn/table';
import { ipv4FromWord } from '../../src/ipvs/address';
import { SeededRng } from '../../src/common/rng';
import { Destination } from '../../src/ipvs/destination';
import { ip, settings } from './service-fixture';

const dest = (): Destination => new Destination(ip('192.168.10.8'), 80, settings());

function conn(table: ConnTable, d: Destination, client: string, port: number, timeoutMs: number, template = false): Connection {
  return new Connection(table.group('tcp', '172.16.100.1', 80), ip(client), port, d, 80, { template, onePacket: false }, 'ESTABLISHED', timeoutMs);
}

describe('connection table', () => {
  it('finds IPv4 and IPv6 clients by the kernel key, and forgets removed ones', () => {
    const table = new ConnTable(0);
    const d = dest();
    const a = conn(table, d, '10.0.0.1', 1000, 5000);
    const b = new Connection(table.group('tcp', '172.16.100.1', 80), ip('2001:db8::1'), 1000, d, 80, { template: false, onePacket: false }, 'NONE', 5000);
    table.add(a, 0);
    table.add(b, 0);
    assert.equal(table.lookup('tcp', ip('10.0.0.1'), 1000, '172.16.100.1', 80), a);
    assert.equal(table.lookup('tcp', ip('2001:db8::1'), 1000, '172.16.100.1', 80), b);
    assert.equal(table.lookup('udp', ip('10.0.0.1'), 1000, '172.16.100.1', 80), undefined);
    assert.equal(table.lookup('tcp', ip('10.0.0.1'), 1001, '172.16.100.1', 80), undefined);
    table.remove(a);
    assert.equal(table.lookup('tcp', ip('10.0.0.1'), 1000, '172.16.100.1', 80), undefined);
    assert.deepEqual([table.size, [...table.entries()].length, d.inactConns], [1, 1, 1]);
  });

  it('expires what falls due, slot by slot, and nothing early', () => {
    const table = new ConnTable(0);
    const d = dest();
    const conns = [300, 1200, 1200, 2500, 900_000].map((t, i) => conn(table, d, `10.0.0.${i + 1}`, 1, t));
    for (const c of conns) table.add(c, 0);
    assert.deepEqual(table.expire(299), []);
    const names = (list: Connection[]): string[] => list.map((c) => c.caddr.text).sort();
    assert.deepEqual(names(table.expire(1200)), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    assert.deepEqual(table.expire(2499), []);
    assert.deepEqual(table.expire(5000), [conns[3]]);
    assert.equal(table.size, 1);
  });

  it('re-arming moves an entry to its new slot', () => {
    const table = new ConnTable(0);
    const c = conn(table, dest(), '10.0.0.1', 1, 1000);
    table.add(c, 0);
    c.timeoutMs = 10_000;
    table.rearm(c, 500);
    assert.deepEqual(table.expire(5000), []);
    assert.deepEqual(table.expire(10_500), [c]);
  });

  it('keeps a template that still controls a connection, looking again 60 s later', () => {
    const table = new ConnTable(0);
    const d = dest();
    const template = conn(table, d, '10.0.0.1', 0, 1000, true);
    const child = conn(table, d, '10.0.0.1', 5, 100_000);
    table.add(template, 0);
    table.add(child, 0);
    child.control = template;
    template.controlled = 1;
    assert.deepEqual(table.expire(1000), []);
    assert.equal(template.timeoutMs, expireLaterMs);
    // At 61 s the child still lives: the template waits another 60 s.
    assert.deepEqual(table.expire(100_000), [child]);
    assert.equal(template.controlled, 0);
    assert.deepEqual(table.expire(120_999), []);
    assert.deepEqual(table.expire(121_000), [template]);
    assert.deepEqual([d.persistConns, d.inactConns], [0, 0]);
  });

  it('refuses entries past its bound', () => {
    const table = new ConnTable(0, 1);
    const d = dest();
    assert.equal(table.add(conn(table, d, '10.0.0.1', 1, 1000), 0), true);
    assert.equal(table.add(conn(table, d, '10.0.0.2', 1, 1000), 0), false);
    assert.equal(d.inactConns, 1);
  });

  it('finds every client through inserts and removals that share probe runs, as a Map would', () => {
    const table = new ConnTable(0);
    const d = dest();
    const rng = new SeededRng(7);
    const model = new Map<string, Connection>();
    // Few distinct clients, so that runs collide, grow, shrink and shift back.
    for (let step = 0; step < 20_000; step++) {
      const word = 0x0a000000 + Math.floor(rng.next() * 300);
      const port = 1000 + Math.floor(rng.next() * 4);
      const key = `${word}|${port}`;
      const here = model.get(key);
      if (here !== undefined && rng.next() < 0.6) {
        table.remove(here);
        model.delete(key);
      } else if (here === undefined) {
        const c = new Connection(table.group('tcp', '172.16.100.1', 80), ipv4FromWord(word), port, d, 80, { template: false, onePacket: false }, 'ESTABLISHED', 5000);
        table.add(c, 0);
        model.set(key, c);
      }
      if (step % 1000 === 999 || step < 100) {
        for (const [k, c] of model) {
          const [w, p] = k.split('|').map(Number) as [number, number];
          assert.equal(table.lookup('tcp', ipv4FromWord(w), p, '172.16.100.1', 80), c, `step ${step}: ${k}`);
        }
        assert.equal(table.lookup('tcp', ipv4FromWord(0x0a000000 + 999), 1000, '172.16.100.1', 80), undefined);
        assert.equal(table.size, model.size);
      }
    }
    // Clients above 128.0.0.0 are negative words inside the table, found all the same.
    const high = new Connection(table.group('tcp', '172.16.100.1', 80), ip('200.1.2.3'), 5, d, 80, { template: false, onePacket: false }, 'ESTABLISHED', 5000);
    table.add(high, 0);
    assert.equal(table.lookup('tcp', ip('200.1.2.3'), 5, '172.16.100.1', 80), high);
    assert.equal(high.caddr.text, '200.1.2.3');
  });

  it('moves its origin up every 12 days: times read the same, entries expire on time', () => {
    const start = 5_000_000_000_000.5;
    const table = new ConnTable(start);
    const d = dest();
    const long = conn(table, d, '10.0.0.1', 1, 3 * 86_400_000);
    const short = conn(table, d, '10.0.0.2', 1, 1500);
    table.add(long, start);
    let now = start;
    for (let day = 1; day <= 30; day++) {
      now = start + day * 86_400_000;
      table.expire(now);
      table.rearm(long, now);
      assert.equal(long.expiresAtMs, Math.ceil(now + long.timeoutMs));
      assert.ok(long.expiry >= 0 && long.expiry < 2 ** 31, `day ${day}: expiry ${long.expiry} counts from the origin`);
    }
    assert.ok(now - start > 2 * rebaseAfterMs);
    table.add(short, now);
    assert.deepEqual(table.expire(now + 1499), []);
    assert.deepEqual(table.expire(now + 1500.5), [short]);
    assert.equal(table.lookup('tcp', ip('10.0.0.1'), 1, '172.16.100.1', 80), long);
    assert.deepEqual(table.expire(long.expiresAtMs), [long]);
  });
});
