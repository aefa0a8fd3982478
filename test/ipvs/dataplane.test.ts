// The userspace data plane's TCP relay, in both its implementations (Node's TCP handles,
// and net.Socket streams): bytes both ways intact under back-pressure, half-close from
// either side, many short connections, a refusing real server, and the IPVS states the
// engine ends up with.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { RealClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import { ConnectDeadlines } from '../../src/ipvs/dataplane/raw-tcp';
import { UserspacePlane } from '../../src/ipvs/dataplane/userspace-plane';
import { IpvsEngine } from '../../src/ipvs/engine';
import { noSchedulerFlags } from '../../src/ipvs/schedulers/scheduler';
import { loopbackNet, waitFor } from '../support/director-process';

const lan = loopbackNet();

async function listen(server: net.Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return (server.address() as AddressInfo).port;
}

function connectAndCollect(host: string, port: number, send: Buffer, halfClose: boolean): Promise<{ received: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port, allowHalfOpen: true });
    socket.on('connect', () => {
      socket.write(send);
      if (halfClose) socket.end();
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      if (!halfClose) socket.end();
    });
    socket.on('close', () => resolve({ received: Buffer.concat(chunks) }));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ received: Buffer.concat(chunks), error: err.code ?? err.message }));
  });
}

for (const implementation of ['handles', 'streams'] as const) {
  describe(`userspace data plane, TCP relay on ${implementation}`, function () {
    this.timeout(20_000);
    const vip = `${lan}.70`;
    const rs = `${lan}.71`;
    let engine: IpvsEngine;
    let plane: UserspacePlane;
    let backend: net.Server;
    let vport = 0;
    const heardAfterServerEnd: string[] = [];

    before(async () => {
      // The real server answers after the client's end of stream: it needs half-close.
      backend = net.createServer({ allowHalfOpen: true }, (socket) => {
        const hash = crypto.createHash('sha256');
        let length = 0;
        let serverFirst = false;
        socket.on('data', (d: Buffer) => {
          // A stream opening with 'S' is answered and half-closed at once, as an HTTP
          // server does with Connection: close; the client may still send after that.
          if (length === 0 && d[0] === 0x53) {
            serverFirst = true;
            socket.end('bye\n');
          }
          hash.update(d);
          length += d.length;
        });
        socket.on('end', () => {
          if (serverFirst) {
            heardAfterServerEnd.push(`${length} ${hash.digest('hex')}`);
            socket.destroy();
            return;
          }
          // Echo back a large body to push back-pressure the other way.
          socket.end(Buffer.concat([Buffer.from(`${length} ${hash.digest('hex')}\n`), Buffer.alloc(8 * 1024 * 1024, 7)]));
        });
        socket.on('error', () => socket.destroy());
      });
      const rport = await listen(backend, rs);
      const probe = net.createServer();
      vport = await listen(probe, vip);
      await new Promise((resolve) => probe.close(resolve));
      engine = new IpvsEngine({ clock: new RealClock(), rng: new SeededRng(1) });
      const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: parseIpAddr(vip) as IpAddr, port: vport }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
      engine.addDestination(svc, parseIpAddr(rs) as IpAddr, rport, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
      plane = new UserspacePlane(engine, { warn: () => undefined, info: () => undefined }, 2000, implementation);
      assert.deepEqual(await plane.reconcile(), []);
      assert.equal(plane.tcpRelay, implementation);
    });

    after(async () => {
      await plane.close(0);
      await new Promise((resolve) => backend.close(resolve));
    });

    it('carries 16 MiB up and 8 MiB down intact, with half-close, and counts the bytes', async () => {
      const payload = crypto.randomBytes(16 * 1024 * 1024);
      const { received, error } = await connectAndCollect(vip, vport, payload, true);
      assert.equal(error, undefined);
      const header = received.subarray(0, received.indexOf(10) + 1).toString();
      assert.equal(header, `${payload.length} ${crypto.createHash('sha256').update(payload).digest('hex')}\n`);
      assert.equal(received.length - header.length, 8 * 1024 * 1024);
      const svc = engine.listServices()[0];
      assert.equal(svc?.stats.inBytes, payload.length);
      assert.equal(svc?.stats.outBytes, received.length);
      await waitFor('the relay to close', () => (plane.liveRelays === 0 ? true : undefined), 5000);
      const states = [...engine.conns.entries()].map((c) => c.state);
      assert.deepEqual(states, ['TIME_WAIT'], 'both ends closed in order: TIME_WAIT, inactive');
      assert.deepEqual([svc?.destinations[0]?.activeConns, svc?.destinations[0]?.inactConns], [0, 1]);
    });

    it('relays the real server\'s half-close first, then what the client still sends', async () => {
      const tail = crypto.randomBytes(4 * 1024 * 1024);
      const result = await new Promise<{ reply: string; error?: string }>((resolve) => {
        const socket = net.connect({ host: vip, port: vport, allowHalfOpen: true });
        let reply = '';
        socket.on('connect', () => socket.write('S'));
        socket.on('data', (d: Buffer) => (reply += d.toString()));
        // The server's FIN has come through: the client's direction is still open.
        socket.on('end', () => socket.end(tail));
        socket.on('close', () => resolve({ reply }));
        socket.on('error', (err: NodeJS.ErrnoException) => resolve({ reply, error: err.code ?? err.message }));
      });
      assert.deepEqual(result, { reply: 'bye\n' });
      const sent = Buffer.concat([Buffer.from('S'), tail]);
      await waitFor('the real server to hear the end', () => heardAfterServerEnd.at(-1), 5000);
      assert.equal(heardAfterServerEnd.at(-1), `${sent.length} ${crypto.createHash('sha256').update(sent).digest('hex')}`);
    });

    it('closes 200 short exchanges where the server ends first, each whole, none left open', async () => {
      const before = engine.conns.size;
      const replies = await Promise.all(
        Array.from({ length: 200 }, () =>
          new Promise<string>((resolve) => {
            const socket = net.connect({ host: vip, port: vport });
            let reply = '';
            socket.on('connect', () => socket.write('S?'));
            socket.on('data', (d: Buffer) => (reply += d.toString()));
            socket.on('close', () => resolve(reply));
            socket.on('error', (err) => resolve(`error ${err.message}`));
          }),
        ),
      );
      assert.deepEqual(new Set(replies), new Set(['bye\n']));
      await waitFor('every relay to close', () => (plane.liveRelays === 0 ? true : undefined), 5000);
      const states = new Set([...engine.conns.entries()].map((c) => c.state));
      assert.deepEqual(states, new Set(['TIME_WAIT']));
      assert.equal(engine.conns.size, before + 200);
    });

    it('resets the client and counts the refusal when the real server refuses', async () => {
      const svc = engine.listServices()[0];
      assert.ok(svc !== undefined);
      const dest = svc.destinations[0];
      assert.ok(dest !== undefined);
      engine.removeDestination(svc, dest);
      const closed = net.createServer();
      const deadPort = await listen(closed, rs);
      await new Promise((resolve) => closed.close(resolve));
      engine.addDestination(svc, parseIpAddr(rs) as IpAddr, deadPort, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
      const before = plane.counters.upstreamRefused;
      const r = await connectAndCollect(vip, vport, Buffer.from('hello'), false);
      assert.equal(r.received.length, 0);
      assert.ok(r.error === 'ECONNRESET' || r.error === undefined, String(r.error));
      assert.equal(plane.counters.upstreamRefused, before + 1);
    });
  });
}

describe('connect deadlines', () => {
  it('times out what is still pending at its deadline, once, and nothing removed', async () => {
    const deadlines = new ConnectDeadlines();
    const fired: string[] = [];
    const relay = (name: string) => ({ timedOut: () => fired.push(name) });
    const a = relay('a');
    const b = relay('b');
    const c = relay('c');
    deadlines.add(a, performance.now() + 100);
    deadlines.add(b, performance.now() + 100);
    deadlines.add(c, performance.now() + 5000);
    deadlines.remove(b);
    await waitFor('a to time out', () => (fired.length > 0 ? true : undefined), 2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(fired, ['a']);
    deadlines.remove(c);
  });
});

describe('userspace data plane, a listener the previous holder still has', () => {
  it('is reported once, tried again while held, and serves as soon as the address is free', async () => {
    const vip = `${lan}.71`;
    const rs = `${lan}.72`;
    const server = dgram.createSocket('udp4');
    server.on('message', (_m, from) => server.send('rs', from.port, from.address));
    await new Promise<void>((resolve) => server.bind(0, rs, () => resolve()));
    const previousHolder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => previousHolder.bind(0, vip, () => resolve()));
    const vport = previousHolder.address().port;
    const engine = new IpvsEngine({ clock: new RealClock(), rng: new SeededRng(1) });
    const svc = engine.addService({ kind: 'address', protocol: 'udp', address: parseIpAddr(vip) as IpAddr, port: vport }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    engine.addDestination(svc, parseIpAddr(rs) as IpAddr, server.address().port, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    const heard: string[] = [];
    const plane = new UserspacePlane(engine, { warn: (m) => heard.push(`warn ${m}`), info: (m) => heard.push(`info ${m}`) });
    const client = dgram.createSocket('udp4');
    try {
      const first = await plane.reconcile();
      assert.equal(first.length, 1);
      assert.match(first[0] as string, /cannot listen on .*EADDRINUSE.*retrying every 250 ms while held/);
      assert.deepEqual(await Promise.all([plane.reconcile(), plane.reconcile()]), [[], []], 'a failure is reported once, and calls at once do not bind twice');
      await new Promise<void>((resolve) => previousHolder.close(() => resolve()));
      await new Promise<void>((resolve) => client.bind(0, `${lan}.73`, () => resolve()));
      const answer = await waitFor(
        'the plane to answer on the freed address',
        () =>
          new Promise<string | undefined>((resolve) => {
            const timer = setTimeout(() => resolve(undefined), 100);
            client.once('message', (m) => {
              clearTimeout(timer);
              resolve(m.toString());
            });
            client.send('who', vport, vip);
          }),
        5000,
        10,
      );
      assert.equal(answer, 'rs');
      assert.deepEqual(heard.map((h) => h.replace(/after \d+ ms/, 'after N ms')), [`info listening on UDP ${vip}:${vport} after N ms of retries`]);
    } finally {
      client.close();
      server.close();
      await plane.close(0);
    }
  });
});
