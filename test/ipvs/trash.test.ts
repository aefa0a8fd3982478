import assert from 'node:assert/strict';
import { trashPeriodMs } from '../../src/ipvs/trash';
import { ip } from './service-fixture';
import { IpvsadmSession } from './ipvsadm-session';

const VIP = '10.0.0.100';
const A = '10.0.1.1';
const B = '10.0.1.2';

/** A and B behind VIP:80 with `scheduler`, and one established connection to B. */
function withOneConnectionToB(scheduler: string): IpvsadmSession {
  const s = new IpvsadmSession();
  s.setup(`-A -t ${VIP}:80 -s ${scheduler}`, `-a -t ${VIP}:80 -r ${A}:80 -m`, `-a -t ${VIP}:80 -r ${B}:80 -m`);
  const first = s.engine.connect({ protocol: 'tcp', caddr: ip('198.51.100.1'), cport: 40000, vaddr: ip(VIP), vport: 80 });
  assert.ok(first.ok);
  assert.equal(first.conn.daddr.text, B, 'lc breaks the tie for the newest, B');
  s.engine.packet(first.conn, 'input', 60, { syn: true });
  s.engine.packet(first.conn, 'output', 60, { syn: true, ack: true });
  s.engine.packet(first.conn, 'input', 52, { ack: true });
  assert.equal(first.conn.state, 'ESTABLISHED');
  return s;
}

function nextPick(s: IpvsadmSession, cport: number): string | undefined {
  const r = s.engine.connect({ protocol: 'tcp', caddr: ip('198.51.100.2'), cport, vaddr: ip(VIP), vport: 80 });
  return r.ok ? r.conn.daddr.text : undefined;
}

// The kernel's ip_vs_del_dest() puts a deleted destination in the netns's dest_trash with its
// connections and counters, and ip_vs_add_dest() takes it back from there
// (ip_vs_trash_get_dest()) when the same service adds the same address and port again.
describe('IPVS destination trash', () => {
  it('a deleted and re-added real server keeps its connections: lc sends the next one to A, as the kernel does', () => {
    const s = withOneConnectionToB('lc');
    s.setup(`-d -t ${VIP}:80 -r ${B}:80`, `-a -t ${VIP}:80 -r ${B}:80 -m`);
    assert.equal(nextPick(s, 40001), A);
    const screen = s.out('-L -n');
    assert.match(screen, new RegExp(`-> ${B}:80 +Masq +1 +1 +0`), 'B shows the connection it kept');
  });

  for (const scheduler of ['wlc', 'sed', 'nq']) {
    it(`${scheduler} counts what the re-added server kept`, () => {
      const s = withOneConnectionToB(scheduler);
      s.setup(`-d -t ${VIP}:80 -r ${B}:80`, `-a -t ${VIP}:80 -r ${B}:80 -m`);
      assert.equal(nextPick(s, 40001), A);
    });
  }

  it('keeps its traffic counters, and takes the new settings', () => {
    const s = withOneConnectionToB('lc');
    s.setup(`-d -t ${VIP}:80 -r ${B}:80`, `-a -t ${VIP}:80 -r ${B}:80 -g -w 7`);
    const stats = s.out('-L -n --stats');
    assert.match(stats, new RegExp(`-> ${B}:80 +1 +2 +1 +112 +60`));
    assert.match(s.out('-L -n'), new RegExp(`-> ${B}:80 +Route +7 +1 +0`));
  });

  it('gives the server back to its own service only: another service adding the same address starts from zero', () => {
    const s = withOneConnectionToB('lc');
    s.setup(`-d -t ${VIP}:80 -r ${B}:80`, `-A -t ${VIP}:443 -s lc`, `-a -t ${VIP}:443 -r ${B}:80 -m`);
    assert.match(s.out('-L -n'), new RegExp(`TCP  ${VIP}:443 lc\\n  -> ${B}:80 +Masq +1 +0 +0`));
  });

  it('keeps the servers of a deleted service, for the service added again', () => {
    const s = withOneConnectionToB('lc');
    s.setup(`-D -t ${VIP}:80`, `-A -t ${VIP}:80 -s lc`, `-a -t ${VIP}:80 -r ${B}:80 -m`);
    assert.match(s.out('-L -n'), new RegExp(`-> ${B}:80 +Masq +1 +1 +0`));
  });

  it('keeps a server while a connection refers to it, and drops it a whole period after it went idle', () => {
    const s = withOneConnectionToB('lc');
    s.setup(`-d -t ${VIP}:80 -r ${B}:80`);
    assert.equal(s.engine.trashedDestinations, 1);
    // The connection lives 15 minutes (ESTABLISHED): every run of the trash timer finds B referred to.
    s.clock.advance(14 * 60_000);
    s.engine.tick();
    assert.equal(s.engine.trashedDestinations, 1);
    // It expires at 15 min; the run at 15 min marks B idle, the first run 120 s later drops it.
    s.clock.advance(60_000 + 1000);
    s.engine.tick();
    assert.equal(s.engine.trashedDestinations, 1, 'marked idle, not dropped');
    s.clock.advance(trashPeriodMs - 2000);
    s.engine.tick();
    assert.equal(s.engine.trashedDestinations, 1, 'not yet a whole period idle');
    s.clock.advance(trashPeriodMs / 2);
    s.engine.tick();
    assert.equal(s.engine.trashedDestinations, 0);
    s.setup(`-a -t ${VIP}:80 -r ${B}:80 -m`);
    assert.match(s.out('-L -n --stats'), new RegExp(`-> ${B}:80 +0 +0 +0 +0 +0`), 'added again after the drop, it starts from zero');
  });
});
