// The daemon's lifecycle on loopback: SIGHUP reloads under load without dropping an
// established connection, a broken file changes nothing, garbage on the control socket
// is answered and survived, UDP replies come back from the VIP, and SIGTERM drains.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { loopbackNet, startDirector, waitFor, type RunningDirector } from '../support/director-process';

const lan = loopbackNet();
const VIP = `${lan}.20`;
const RS = [`${lan}.21`, `${lan}.22`, `${lan}.23`];
const vport = 18090;
const rport = 9090;

/** A TCP echo server that prefixes its name, so a client knows where it landed. */
async function echoServer(host: string, port: number): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: false }, (socket) => {
    socket.on('data', (d) => socket.write(`${host}:${d.toString()}`));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  return server;
}

function closeAll(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** A client that holds its connection open and answers whether it still echoes. */
class Held {
  private received = '';
  readonly socket: net.Socket;
  closed = false;
  constructor(host: string, port: number) {
    this.socket = net.connect({ host, port });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => (this.received += d));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }
  async echo(text: string): Promise<string> {
    this.received = '';
    this.socket.write(text);
    return waitFor(`an echo of ${text}`, () => (this.received.endsWith(text) ? this.received : this.closed ? `closed` : undefined), 3000);
  }
}

const tcpConfig = (weights: number[], scheduler = 'rr') => `
virtual_server ${VIP} ${vport} {
    delay_loop 1
    lb_algo ${scheduler}
    lb_kind NAT
    protocol TCP
${weights.map((w, i) => `    real_server ${RS[i]} ${rport} {\n        weight ${w}\n    }`).join('\n')}
}
`;

describe('the director daemon\'s lifecycle (integration)', function () {
  this.timeout(60_000);
  const servers: net.Server[] = [];
  let director: RunningDirector;

  before(async () => {
    for (const host of RS) servers.push(await echoServer(host, rport));
    director = await startDirector(tcpConfig([1, 1]));
  });

  after(async () => {
    await director?.stop();
    for (const s of servers) await closeAll(s);
  });

  it('reloads on SIGHUP under load without dropping an established connection', async () => {
    const held = Array.from({ length: 50 }, () => new Held(VIP, vport));
    for (const [i, h] of held.entries()) assert.match(await h.echo(`before${i}`), new RegExp(`^${lan.replace(/\./g, '\\.')}\\.2[12]:before${i}$`));
    fs.writeFileSync(director.configFile, tcpConfig([2, 0, 1], 'wrr'));
    director.process.kill('SIGHUP');
    await waitFor('the reloaded table', async () => ((await director.ipvsadm('-S', '-n')).stdout.includes(`${RS[2]}:${rport} -m -w 1`) ? true : undefined), 5000);
    assert.equal(
      (await director.ipvsadm('-S', '-n')).stdout,
      `-A -t ${VIP}:${vport} -s wrr\n-a -t ${VIP}:${vport} -r ${RS[0]}:${rport} -m -w 2\n-a -t ${VIP}:${vport} -r ${RS[1]}:${rport} -m -w 0\n-a -t ${VIP}:${vport} -r ${RS[2]}:${rport} -m -w 1\n`,
    );
    for (const [i, h] of held.entries()) assert.match(await h.echo(`after${i}`), new RegExp(`after${i}$`), `connection ${i} survived the reload`);
    assert.ok(held.every((h) => !h.closed));
    // New connections follow the new weights: none to the quiesced server.
    const fresh = Array.from({ length: 6 }, () => new Held(VIP, vport));
    const landed = await Promise.all(fresh.map((h, i) => h.echo(`new${i}`)));
    assert.ok(landed.every((l) => !l.startsWith(`${RS[1]}:`)), landed.join(' '));
    for (const h of [...held, ...fresh]) h.socket.destroy();
  });

  it('keeps the running configuration when the new file is broken, and logs where', async () => {
    const before = (await director.ipvsadm('-S', '-n')).stdout;
    fs.writeFileSync(director.configFile, `${tcpConfig([5, 5])}\nvirtual_server ${VIP} {\n`);
    director.process.kill('SIGHUP');
    await waitFor('the reload error in the log', () => (/running configuration is kept/.test(director.log()) ? true : undefined), 5000);
    assert.match(director.log(), /hadirector\.conf:\d+:\d+: error: /);
    assert.equal((await director.ipvsadm('-S', '-n')).stdout, before);
  });

  it('answers garbage on the control socket with errors, and stays up', async () => {
    const raw = net.connect(director.control);
    let answers = '';
    raw.setEncoding('utf8');
    raw.on('data', (d: string) => (answers += d));
    raw.write('garbage\n{"op":"shutdown"}\n\u0000\u00ff\n{"op":"ipvsadm","args":["-A","-t","nonsense"]}\n{"op":"status"}\n');
    await waitFor('five answers', () => (answers.split('\n').length > 5 ? true : undefined), 5000);
    const lines = answers.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: string; result?: { stderr?: string; code?: number } });
    assert.deepEqual(lines.map((l) => l.ok), [false, false, false, true, true]);
    assert.match(lines[0]?.error ?? '', /^not JSON/);
    assert.match(lines[1]?.error ?? '', /'op' must be one of/);
    assert.deepEqual([lines[3]?.result?.code, lines[3]?.result?.stderr], [2, 'illegal virtual server address[:port] specified\n']);
    raw.destroy();
    const huge = net.connect(director.control);
    huge.on('error', () => undefined);
    // Read what comes back: a socket whose reading is paused never sees the director's end
    // of the connection once all it wrote has been taken.
    let refusal = '';
    huge.setEncoding('utf8');
    huge.on('data', (d: string) => (refusal += d));
    huge.write('x'.repeat(9 * 1024 * 1024));
    await waitFor('the director to end the over-long request', () => (huge.closed ? true : undefined), 15_000);
    assert.ok(refusal === '' || /request longer than \d+ bytes/.test(refusal), refusal);
    assert.equal(((await director.ask({ op: 'status' })) as { node: string }).node, 'it');
  });

  it('carries UDP and sends the replies from the VIP', async () => {
    const udpServer = dgram.createSocket('udp4');
    udpServer.on('message', (msg, from) => udpServer.send(Buffer.from(`pong:${msg.toString()}`), from.port, from.address));
    await new Promise<void>((resolve) => udpServer.bind(5353, RS[0], () => resolve()));
    const add = await director.ipvsadm('-A', '-u', `${VIP}:5300`, '-s', 'rr');
    const real = await director.ipvsadm('-a', '-u', `${VIP}:5300`, '-r', `${RS[0]}:5353`, '-m');
    assert.deepEqual([add.code, real.code], [0, 0]);
    const client = dgram.createSocket('udp4');
    const replies: Array<{ text: string; from: string }> = [];
    client.on('message', (msg, from) => replies.push({ text: msg.toString(), from: `${from.address}:${from.port}` }));
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
    for (let i = 0; i < 3; i++) client.send(`ping${i}`, 5300, VIP);
    await waitFor('three replies', () => (replies.length >= 3 ? true : undefined), 5000);
    assert.deepEqual(replies.map((r) => r.from), [`${VIP}:5300`, `${VIP}:5300`, `${VIP}:5300`]);
    assert.deepEqual(replies.map((r) => r.text).sort(), ['pong:ping0', 'pong:ping1', 'pong:ping2']);
    const conns = (await director.ipvsadm('-L', '-n', '-c')).stdout;
    assert.match(conns, new RegExp(`UDP 0[45]:\\d\\d  UDP +127\\.0\\.0\\.1:\\d+ +${VIP.replace(/\./g, '\\.')}:5300 +${RS[0]?.replace(/\./g, '\\.')}:5353`));
    client.close();
    udpServer.close();
  });

  it('on SIGTERM stops accepting, lets an established connection finish its drain time, then exits 0', async () => {
    const held = new Held(VIP, vport);
    await held.echo('hello');
    director.process.kill('SIGTERM');
    await waitFor('the listener to close', () => new Promise<true | undefined>((resolve) => {
      const probe = net.connect({ host: VIP, port: vport });
      probe.once('connect', () => { probe.destroy(); resolve(undefined); });
      probe.once('error', () => resolve(true));
    }), 5000);
    assert.match(await held.echo('still'), /still$/, 'the established connection still works while draining');
    const code = await director.stop();
    assert.equal(code, 0);
    assert.ok(held.closed, 'cut at the end of the drain');
  });
});
