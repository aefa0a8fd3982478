import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { setTimeouts } from '../../src/ipvs/conn/protocol-states';
import { IpvsEngine, type NewConnection } from '../../src/ipvs/engine';
import type { ServiceKey } from '../../src/ipvs/service';
import { noSchedulerFlags, type SchedulerName } from '../../src/ipvs/schedulers/scheduler';
import type { ForwardMethod } from '../../src/ipvs/destination';
import { ip, settings } from './service-fixture';

const VIP = '172.16.100.1';
const RS1 = '192.168.10.8';
const RS2 = '192.168.10.9';

function setup(options: { scheduler?: SchedulerName; persistenceS?: number; netmask?: string; forward?: ForwardMethod; key?: ServiceKey; entriesMax?: number; expireQuiescentTemplate?: boolean } = {}) {
  const clock = new VirtualClock();
  const engine = new IpvsEngine({ clock, rng: new SeededRng(1), ...(options.entriesMax ? { connEntriesMax: options.entriesMax } : {}), ...(options.expireQuiescentTemplate ? { expireQuiescentTemplate: true } : {}) });
  const key: ServiceKey = options.key ?? { kind: 'address', protocol: 'tcp', address: ip(VIP), port: 80 };
  const svc = engine.addService(key, {
    scheduler: options.scheduler ?? 'rr',
    flags: noSchedulerFlags,
    onePacket: false,
    ...(options.persistenceS !== undefined ? { persistenceS: options.persistenceS } : {}),
    ...(options.netmask !== undefined ? { netmask: ip(options.netmask) } : {}),
  });
  const rs1 = engine.addDestination(svc, ip(RS1), 8080, { ...settings(), forward: options.forward ?? 'masq' });
  const rs2 = engine.addDestination(svc, ip(RS2), 8080, { ...settings(), forward: options.forward ?? 'masq' });
  return { clock, engine, svc, rs1, rs2 };
}

function client(addr: string, port: number, protocol: 'tcp' | 'udp' = 'tcp', vport = 80): NewConnection {
  return { protocol, caddr: ip(addr), cport: port, vaddr: ip(VIP), vport };
}

function open(engine: IpvsEngine, c: NewConnection) {
  const r = engine.connect(c);
  assert.ok(r.ok, `connect ${c.caddr.text}:${c.cport}`);
  return r.conn;
}

describe('IPVS engine: connections, states and persistence', () => {
  it('walks a NAT TCP connection through the kernel states, counting it active only while ESTABLISHED', () => {
    const { engine, rs1, rs2 } = setup();
    const conn = open(engine, client('10.0.0.1', 40000));
    assert.equal(conn.dest, rs2, 'rr starts at the newest destination');
    assert.deepEqual([conn.state, conn.timeoutMs, conn.dport, conn.daddr.text], ['NONE', 3000, 8080, RS2]);
    assert.deepEqual([rs2.activeConns, rs2.inactConns], [0, 1]);
    const steps: Array<[Parameters<IpvsEngine['packet']>[1], Parameters<IpvsEngine['packet']>[3], string]> = [
      ['input', { syn: true }, 'SYN_RECV'],
      ['output', { syn: true, ack: true }, 'SYN_RECV'],
      ['input', { ack: true }, 'ESTABLISHED'],
      ['input', { fin: true, ack: true }, 'CLOSE_WAIT'],
      ['output', { fin: true, ack: true }, 'TIME_WAIT'],
    ];
    const seen: string[] = [];
    for (const [dir, flags] of steps) {
      engine.packet(conn, dir, 60, flags);
      seen.push(conn.state);
      if (conn.state === 'ESTABLISHED') assert.deepEqual([rs2.activeConns, rs2.inactConns, conn.timeoutMs], [1, 0, 900_000]);
    }
    assert.deepEqual(seen, steps.map((s) => s[2]));
    assert.deepEqual([rs2.activeConns, rs2.inactConns, conn.timeoutMs], [0, 1, 120_000]);
    assert.deepEqual([rs1.activeConns, rs1.inactConns], [0, 0]);
  });

  it('uses the input-only table for DR, where replies bypass the director', () => {
    const { engine } = setup({ forward: 'route' });
    const conn = open(engine, client('10.0.0.1', 40000));
    engine.packet(conn, 'input', 60, { syn: true });
    engine.packet(conn, 'input', 60, { ack: true });
    assert.equal(conn.state, 'ESTABLISHED');
    engine.packet(conn, 'input', 60, { fin: true, ack: true });
    assert.equal(conn.state, 'FIN_WAIT', 'input-only FIN leads to FIN_WAIT, not CLOSE_WAIT');
  });

  it('expires an entry after its state timeout, releasing its destination counters', () => {
    const { clock, engine, rs2 } = setup();
    const conn = open(engine, client('10.0.0.1', 40000));
    engine.packet(conn, 'input', 60, { syn: true });
    engine.packet(conn, 'input', 60, { ack: true });
    clock.advance(900_000 - 1);
    assert.deepEqual(engine.tick(), []);
    clock.advance(1);
    assert.deepEqual(engine.tick(), [conn]);
    assert.deepEqual([rs2.activeConns, rs2.inactConns, engine.conns.size], [0, 0, 0]);
  });

  it('expires only what falls due, and a packet restarts the timer', () => {
    const { clock, engine } = setup();
    const a = open(engine, client('10.0.0.1', 1));
    const b = open(engine, client('10.0.0.2', 2));
    clock.advance(2000);
    engine.packet(b, 'input', 60, { syn: true });
    clock.advance(1000);
    assert.deepEqual(engine.tick(), [a]);
    assert.equal(engine.conns.size, 1);
  });

  it('applies --set tcp tcpfin udp to the states it names', () => {
    const { engine } = setup();
    engine.timeouts = setTimeouts(engine.timeouts, 60, 30, 10);
    const conn = open(engine, client('10.0.0.1', 1));
    engine.packet(conn, 'input', 60, { syn: true });
    assert.equal(conn.timeoutMs, 60_000, 'SYN_RECV keeps its own timeout');
    engine.packet(conn, 'input', 60, { ack: true });
    assert.equal(conn.timeoutMs, 60_000);
    const dr = setTimeouts(engine.timeouts, 0, 0, 0);
    assert.deepEqual([dr.tcpMs.ESTABLISHED, dr.tcpMs.FIN_WAIT, dr.udpMs], [60_000, 30_000, 10_000], 'zero leaves a timeout as it is');
  });

  it('keeps UDP flows in the single UDP state, timed by the udp timeout from the first packet', () => {
    const { clock, engine } = setup({ key: { kind: 'address', protocol: 'udp', address: ip(VIP), port: 53 } });
    const conn = open(engine, client('10.0.0.1', 5000, 'udp', 53));
    assert.deepEqual([conn.state, conn.timeoutMs], ['UDP', 300_000]);
    clock.advance(299_000);
    engine.packet(conn, 'output', 100);
    clock.advance(299_000);
    assert.deepEqual(engine.tick(), []);
  });

  it('counts connections, packets and bytes per service and per destination', () => {
    const { engine, svc, rs2 } = setup();
    const conn = open(engine, client('10.0.0.1', 1));
    engine.packet(conn, 'input', 100, { syn: true });
    engine.packet(conn, 'output', 60, { syn: true, ack: true });
    for (const { conns, inPkts, outPkts, inBytes, outBytes } of [svc.stats, rs2.stats]) {
      assert.deepEqual({ conns, inPkts, outPkts, inBytes, outBytes }, { conns: 1, inPkts: 1, outPkts: 1, inBytes: 100, outBytes: 60 });
    }
  });

  it('returns the existing entry for a packet of a known connection', () => {
    const { engine } = setup();
    const first = engine.connect(client('10.0.0.1', 1));
    const again = engine.connect(client('10.0.0.1', 1));
    assert.ok(first.ok && again.ok);
    assert.equal(again.conn, first.conn);
    assert.equal(again.created, false);
  });

  it('refuses a connection to no service, one with no usable destination, and one past the table bound', () => {
    const { engine, svc, rs1, rs2 } = setup({ entriesMax: 1 });
    assert.deepEqual(engine.connect({ ...client('10.0.0.1', 1), vport: 81 }), { ok: false, reason: 'no-service' });
    assert.ok(engine.connect(client('10.0.0.1', 1)).ok);
    assert.deepEqual(engine.connect(client('10.0.0.2', 1)), { ok: false, reason: 'table-full' });
    svc.editDestination(rs1, settings({ weight: 0 }));
    svc.editDestination(rs2, settings({ weight: 0 }));
    assert.deepEqual(engine.connect(client('10.0.0.3', 1)), { ok: false, reason: 'no-destination' });
  });

  describe('persistence', () => {
    it('sends every connection of a client to its first real server while the template lives', () => {
      const { clock, engine } = setup({ persistenceS: 300 });
      const first = open(engine, client('10.0.0.1', 1));
      const dests = [first.dest?.address.text];
      for (let port = 2; port < 6; port++) {
        clock.advance(100);
        dests.push(open(engine, client('10.0.0.1', port)).dest?.address.text);
      }
      assert.deepEqual(dests, [RS2, RS2, RS2, RS2, RS2]);
      assert.equal(open(engine, client('10.0.0.2', 1)).dest?.address.text, RS1, 'another client is scheduled');
      assert.equal(first.control?.template, true);
      assert.equal(first.control?.controlled, 5);
    });

    it('restarts the template timer with each new connection; a template still in use waits 60 s more', () => {
      const { clock, engine, rs2 } = setup({ persistenceS: 10 });
      const conn = open(engine, client('10.0.0.1', 1));
      const template = conn.control;
      assert.ok(template !== null);
      engine.packet(conn, 'input', 60, { syn: true });
      engine.packet(conn, 'input', 60, { ack: true });
      clock.advance(10_000);
      assert.deepEqual(engine.tick(), [], 'the connection still lives: the template is re-armed');
      assert.equal(template.timeoutMs, 60_000);
      assert.equal(rs2.persistConns, 1);
      // The template is looked at every 60 s from its due time (70 s, 130 s, ...); the
      // connection expires at 900 s, so the look at 910 s finds it free and drops it.
      clock.advance(900_000);
      assert.deepEqual(engine.tick(), [conn, template]);
      assert.equal(rs2.persistConns, 0);
    });

    it('groups clients by the persistence netmask', () => {
      const { engine } = setup({ persistenceS: 300, netmask: '255.255.255.0' });
      const a = open(engine, client('10.0.0.1', 1)).dest;
      assert.equal(open(engine, client('10.0.0.200', 1)).dest, a);
      assert.notEqual(open(engine, client('10.0.1.1', 1)).dest, a);
    });

    it('keeps sending a client to a quiesced server, unless expire_quiescent_template is set', () => {
      for (const expire of [false, true]) {
        const { engine, svc, rs2 } = setup({ persistenceS: 300, expireQuiescentTemplate: expire });
        assert.equal(open(engine, client('10.0.0.1', 1)).dest, rs2);
        svc.editDestination(rs2, settings({ weight: 0 }));
        const next = open(engine, client('10.0.0.1', 2)).dest;
        assert.equal(next === rs2, !expire, `expire_quiescent_template ${expire}`);
      }
    });

    it('reschedules a client whose server was deleted', () => {
      const { engine, svc, rs1, rs2 } = setup({ persistenceS: 300 });
      assert.equal(open(engine, client('10.0.0.1', 1)).dest, rs2);
      svc.removeDestination(rs2);
      assert.equal(open(engine, client('10.0.0.1', 2)).dest, rs1);
    });

    it('a fwmark service keeps one template per client across ports', () => {
      const { engine } = setup({ persistenceS: 300, key: { kind: 'fwmark', mark: 7, family: 4 } });
      const a = open(engine, { ...client('10.0.0.1', 1), fwmark: 7 });
      const b = open(engine, { ...client('10.0.0.1', 2, 'tcp', 443), fwmark: 7 });
      assert.equal(b.dest, a.dest);
      assert.equal(a.control, b.control);
      assert.deepEqual([a.control?.protocol, a.control?.vaddr, a.control?.vport], ['ip', 'fwmark:7', 0]);
      assert.equal(b.dport, 443, 'the real server port follows the packet for fwmark services');
    });
  });

  it('maps to the real server port whenever it has one, without persistence (ip_vs_schedule)', () => {
    const { engine } = setup({ key: { kind: 'fwmark', mark: 7, family: 4 } });
    const conn = open(engine, { ...client('10.0.0.1', 1, 'tcp', 443), fwmark: 7 });
    assert.equal(conn.dport, 8080);
  });
});

describe('IPVS engine: what replication sees and loads', () => {
  function observed(engine: IpvsEngine) {
    const seen: string[] = [];
    engine.conns.observer = {
      changed: (c) => seen.push(`changed ${c.template ? 'template' : c.state} ${c.caddrText}:${c.cport}`),
      removed: (c) => seen.push(`removed ${c.template ? 'template' : c.state} ${c.caddrText}:${c.cport}`),
    };
    return seen;
  }

  it('hears of new entries, state changes, refreshes after a quarter of the timeout, and expiries', () => {
    const { clock, engine } = setup({ persistenceS: 360 });
    const seen = observed(engine);
    const conn = open(engine, client('10.0.0.1', 40000));
    assert.deepEqual(seen.splice(0), ['changed template 10.0.0.1:0', 'changed NONE 10.0.0.1:40000']);
    engine.setState(conn, 'ESTABLISHED');
    assert.deepEqual(seen.splice(0), ['changed ESTABLISHED 10.0.0.1:40000']);
    clock.advance(200_000); // under a quarter of ESTABLISHED's 900 s
    engine.packet(conn, 'input', 100, { ack: true });
    assert.deepEqual(seen.splice(0), []);
    clock.advance(30_000); // the timer has now moved by 230 s, past 225 s
    engine.packet(conn, 'input', 100, { ack: true });
    assert.deepEqual(seen.splice(0), ['changed ESTABLISHED 10.0.0.1:40000']);
    engine.drop(conn);
    assert.deepEqual(seen.splice(0), ['removed ESTABLISHED 10.0.0.1:40000']);
    clock.advance(360_000);
    engine.tick();
    assert.deepEqual(seen.splice(0), ['removed template 10.0.0.1:0']);
  });

  it('an invalidated template is removed for replication at once, not when its timer runs out', () => {
    const { engine, svc, rs1, rs2 } = setup({ persistenceS: 360 });
    const seen = observed(engine);
    const conn = open(engine, client('10.0.0.1', 40000));
    engine.drop(conn);
    engine.removeDestination(svc, conn.dest);
    seen.splice(0);
    const again = open(engine, client('10.0.0.1', 40001));
    assert.equal(again.dest, conn.dest === rs1 ? rs2 : rs1);
    assert.deepEqual(seen.slice(0, 2), ['removed template 10.0.0.1:0', 'changed template 10.0.0.1:0']);
  });

  it('adopts a peer\'s template and connection with the time they had left; a new connection of the client follows the template', () => {
    const { clock, engine, rs1 } = setup({ persistenceS: 360 });
    const base = { protocol: 'tcp' as const, caddr: '10.0.0.7', vaddr: VIP, vport: 80, daddr: RS1, dport: 8080 };
    assert.equal(engine.adopt({ ...base, cport: 0, state: 'NONE', template: true, remainingMs: 100_000 }), 'loaded');
    assert.equal(engine.adopt({ ...base, cport: 40000, state: 'ESTABLISHED', template: false, remainingMs: 50_000 }), 'loaded');
    assert.equal(engine.adopt({ ...base, cport: 40000, state: 'ESTABLISHED', template: false, remainingMs: 50_000 }), 'present');
    assert.equal(rs1.activeConns, 1);
    const fresh = open(engine, client('10.0.0.7', 40001));
    assert.equal(fresh.dest, rs1, 'scheduled by the adopted template');
    const adopted = engine.conns.lookup('tcp', ip('10.0.0.7'), 40000, VIP, 80);
    assert.equal(adopted?.expiresAtMs, clock.nowMs() + 50_000);
    assert.equal(adopted?.control?.template, true, 'linked to its template');
    clock.advance(50_000);
    engine.tick();
    assert.equal(engine.conns.lookup('tcp', ip('10.0.0.7'), 40000, VIP, 80), undefined, 'expired on time');
  });

  it('refuses what it cannot serve: no such service, a real server it does not have', () => {
    const { engine } = setup();
    const base = { protocol: 'tcp' as const, caddr: '10.0.0.7', cport: 1, vport: 80, dport: 8080, state: 'ESTABLISHED', template: false, remainingMs: 1000 };
    assert.equal(engine.adopt({ ...base, vaddr: '172.16.100.99', daddr: RS1 }), 'no-service');
    assert.equal(engine.adopt({ ...base, vaddr: VIP, daddr: '192.168.10.77' }), 'no-destination');
  });

  it('replaces a stale template of its own with a copy that may be fresher (refreshes travel a quarter timeout late); its connections keep their server', () => {
    const { engine, rs1 } = setup({ persistenceS: 360 });
    const conn = open(engine, client('10.0.0.1', 40000));
    const other = conn.dest === rs1 ? RS2 : RS1;
    const copied = { protocol: 'tcp' as const, caddr: '10.0.0.1', cport: 0, vaddr: VIP, vport: 80, daddr: other, dport: 8080, state: 'NONE', template: true, remainingMs: 260_000 };
    assert.equal(engine.adopt(copied), 'present', 'its own has more time left than the copy could lag (a quarter of 360 s): the copy is older');
    // 300 s left on the copy: its master may have refreshed it since, up to 90 s, without sending.
    assert.equal(engine.adopt({ ...copied, remainingMs: 300_000 }), 'loaded');
    assert.equal(open(engine, client('10.0.0.1', 40001)).dest.address.text, other);
    assert.notEqual(conn.dest.address.text, other, 'the running connection keeps its server');
  });
});
