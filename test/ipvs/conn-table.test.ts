import assert from 'node:assert/strict';
import { Connection } from '../../src/ipvs/conn/connection';
import { ConnTable, expireLaterMs } from '../../src/ipvs/conn/table';
import { Destination } from '../../src/ipvs/destination';
import { ip, settings } from './service-fixture';

const dest = (): Destination => new Destination(ip('192.168.10.8'), 80, settings());

function conn(d: Destination, client: string, port: number, timeoutMs: number, template = false): Connection {
  return new Connection('tcp', ip(client), port, '172.16.100.1', 80, d, 80, { template, onePacket: false }, 'ESTABLISHED', timeoutMs);
}

describe('connection table', () => {
  it('finds IPv4 and IPv6 clients by the kernel key, and forgets removed ones', () => {
    const table = new ConnTable(0);
    const d = dest();
    const a = conn(d, '10.0.0.1', 1000, 5000);
    const b = new Connection('tcp', ip('2001:db8::1'), 1000, '172.16.100.1', 80, d, 80, { template: false, onePacket: false }, 'NONE', 5000);
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
    const conns = [300, 1200, 1200, 2500, 900_000].map((t, i) => conn(d, `10.0.0.${i + 1}`, 1, t));
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
    const c = conn(dest(), '10.0.0.1', 1, 1000);
    table.add(c, 0);
    c.timeoutMs = 10_000;
    table.rearm(c, 500);
    assert.deepEqual(table.expire(5000), []);
    assert.deepEqual(table.expire(10_500), [c]);
  });

  it('keeps a template that still controls a connection, looking again 60 s later', () => {
    const table = new ConnTable(0);
    const d = dest();
    const template = conn(d, '10.0.0.1', 0, 1000, true);
    const child = conn(d, '10.0.0.1', 5, 100_000);
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
    assert.equal(table.add(conn(d, '10.0.0.1', 1, 1000), 0), true);
    assert.equal(table.add(conn(d, '10.0.0.2', 1, 1000), 0), false);
    assert.equal(d.inactConns, 1);
  });
});
