// Connection-table replication on loopback: two directors and a witness as processes,
// 500 clients (each its own address in 127.0.0.0/8) pinned to real servers through a
// persistent TCP service and a UDP service (one flow per client), kill -9 of the master,
// and every client asked again in another order. With sync, every one reaches the same
// real server as before; without it, the new master schedules them afresh.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import { controlRequest } from '../../src/director/control-client';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { directorsAndWitness } from '../support/cluster-config';
import { closeServer, get, loopbackNet, nameServer, waitFor } from '../support/director-process';

const lan = loopbackNet();
const VIP = `${lan}.100`;
const servers = ['rs1', 'rs2', 'rs3'].map((name, i) => ({ name, address: `${lan}.${101 + i}` }));
const tcpPort = 18420;
const udpPort = 18421;
const clientsN = 500;
/** Two /24s of client addresses of this process's own. */
const clientBase = `127.${200 + (process.pid % 50)}`;
const clients = Array.from({ length: clientsN }, (_, i) => `${clientBase}.${((process.pid >> 7) % 200) + Math.floor(i / 250)}.${1 + (i % 250)}`);

function config(port: number, sync: boolean): string {
  const realServers = (p: number) => servers.map((s) => `    real_server ${s.address} ${p} {\n        weight 1\n    }`).join('\n');
  const cluster = directorsAndWitness({ clusterId: `sync${port}`, lan, port, heartbeat: '200ms', deadtime: '1s' });
  return `${sync ? cluster : cluster.replace(/\n}\n$/, '\n    sync {\n        connections off\n    }\n}\n')}vrrp_instance VI_1 {
    interface lo
    virtual_router_id 52
@d1 priority 150
@d2 priority 100
    advert_int 0.2
    virtual_ipaddress {
        ${VIP}/32
    }
}
virtual_server ${VIP} ${tcpPort} {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    persistence_timeout 600
${realServers(8080)}
}
virtual_server ${VIP} ${udpPort} {
    protocol UDP
    lb_algo rr
    lb_kind NAT
${realServers(9090)}
}
`;
}

/** One GET from a client address on a new connection. */
function getFrom(localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: VIP, port: tcpPort, path: '/', agent: false, timeout: 3000, localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve('error'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve('error'));
  });
}

/** A UDP client: one socket (one flow) per client address, asking which server answers. */
class UdpClient {
  private constructor(private readonly socket: dgram.Socket) {}

  static async open(address: string): Promise<UdpClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new UdpClient(socket);
  }

  ask(timeoutMs = 1000): Promise<string> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.off('message', onMessage);
        resolve('timeout');
      }, timeoutMs);
      const onMessage = (msg: Buffer) => {
        clearTimeout(timer);
        this.socket.off('message', onMessage);
        resolve(msg.toString());
      };
      this.socket.on('message', onMessage);
      this.socket.send('who', udpPort, VIP);
    });
  }

  close(): void {
    this.socket.close();
  }
}

async function udpNameServer(address: string, name: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (_msg, from) => socket.send(name, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(9090, address, () => resolve()));
  return socket;
}

/** Runs `task` for every index, `width` at a time. */
async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await task(i);
    }),
  );
  return out;
}

function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

interface Outcome {
  readonly tcpSame: number;
  readonly udpSame: number;
  readonly loadedLine: string;
  /** After d1's restart and return: clients on the same server as at first. */
  readonly failback?: { readonly tcpSame: number; readonly udpSame: number; readonly loadedLine: string };
}

/** Asks every client again, in a shuffled order; how many reached the server they had. */
async function askAgain(udp: readonly UdpClient[], tcpBefore: readonly string[], udpBefore: readonly string[], seed: number): Promise<{ tcpSame: number; udpSame: number }> {
  const order = shuffled(clientsN, seed);
  const tcpAfter = new Array<string>(clientsN);
  const udpAfter = new Array<string>(clientsN);
  await inParallel(clientsN, 25, async (k) => {
    const i = order[k] as number;
    tcpAfter[i] = await getFrom(clients[i] as string);
  });
  await inParallel(clientsN, 25, async (k) => {
    const i = order[k] as number;
    udpAfter[i] = await (udp[i] as UdpClient).ask();
  });
  return { tcpSame: tcpAfter.filter((a, i) => a === tcpBefore[i]).length, udpSame: udpAfter.filter((a, i) => a === udpBefore[i]).length };
}

/** The directors' warnings and errors, for a failure's message. */
function troubles(lab: ClusterLab): string {
  const lines = ['d1', 'd2'].flatMap((n) => lab.log(n).split('\n').filter((l) => / (warn|error) /.test(l)).map((l) => `\n  ${n}: ${l}`));
  return lines.length > 0 ? lines.join('') : '\n  (no warning or error in the directors\' logs)';
}

/** Pins every client, kills the master, asks again in another order. */
async function failover(lab: ClusterLab, sync: boolean): Promise<Outcome> {
  for (const n of ['d1', 'd2', 'w1']) lab.start(n);
  // d2 may be master for a moment if d1 starts slowly: clients are pinned once d1 serves.
  await waitFor('d1 to serve VI_1', () => (/VI_1: BACKUP -> MASTER/.test(lab.log('d1')) ? true : undefined), 20_000, 20);
  await waitFor('the VIP to answer', async () => ((await get(VIP, tcpPort, 300)).startsWith('rs') ? true : undefined), 20_000, 50);
  const udp = await Promise.all(clients.map((c) => UdpClient.open(c)));
  try {
    const tcpBefore = await inParallel(clientsN, 25, (i) => getFrom(clients[i] as string));
    const udpBefore = await inParallel(clientsN, 25, (i) => (udp[i] as UdpClient).ask());
    assert.ok(tcpBefore.every((a) => a.startsWith('rs')), `every TCP client answered before: ${tcpBefore.filter((a) => !a.startsWith('rs')).length} did not${troubles(lab)}`);
    assert.ok(udpBefore.every((a) => a.startsWith('rs')), `every UDP client answered before: ${udpBefore.filter((a) => !a.startsWith('rs')).length} did not${troubles(lab)}`);
    if (sync) {
      await waitFor(
        "d2's copy of d1's table",
        async () => {
          const copy = (await lab.syncStatus('d2'))?.copies.find((c) => c.peer === 'd1');
          return copy?.inSync === true && copy.entries >= 2 * clientsN ? true : undefined;
        },
        10_000,
        50,
      );
      const metrics = await controlRequest(lab.socket('d2'), { op: 'metrics' }, 2000);
      assert.ok(metrics.ok);
      assert.match(String(metrics.result), /hadirector_sync_copy_in_sync\{peer="d1"\} 1/);
      assert.match(String(metrics.result), /hadirector_sync_copy_entries\{peer="d1"\} (1[0-9]{3})/);
    }
    await lab.kill9('d1');
    await waitFor('d2 to take over', () => (/VI_1: BACKUP -> MASTER/.test(lab.log('d2')) ? true : undefined), 10_000, 20);
    await waitFor('the VIP back', async () => ((await get(VIP, tcpPort, 300)).startsWith('rs') ? true : undefined), 10_000, 20);
    const after = await askAgain(udp, tcpBefore, udpBefore, 7);
    const loadedLine = /VI_1: loaded .*/.exec(lab.log('d2'))?.[0] ?? '(no sync)';
    if (!sync) return { ...after, loadedLine };
    // d1 comes back with an empty table and the higher priority: it copies d2's table
    // before it preempts, then serves every client where it was.
    lab.start('d1');
    await waitFor('d1 to take over again', () => (/VI_1: BACKUP -> MASTER/.test(lab.log('d1')) ? true : undefined), 20_000, 20);
    await waitFor('the VIP back', async () => ((await get(VIP, tcpPort, 300)).startsWith('rs') ? true : undefined), 10_000, 20);
    const back = await askAgain(udp, tcpBefore, udpBefore, 11);
    return { ...after, loadedLine, failback: { ...back, loadedLine: /VI_1: loaded .*/.exec(lab.log('d1'))?.[0] ?? '(none)' } };
  } finally {
    for (const c of udp) c.close();
  }
}

describe('connection-table sync keeps clients on their real servers across a failover (integration)', function () {
  this.timeout(120_000);
  const tcpServers: http.Server[] = [];
  const udpServers: dgram.Socket[] = [];
  const port = 16600 + (process.pid % 50);

  before(async () => {
    for (const s of servers) {
      tcpServers.push(await nameServer(s.address, 8080, s.name));
      udpServers.push(await udpNameServer(s.address, s.name));
    }
  });

  after(async () => {
    for (const s of tcpServers) await closeServer(s);
    for (const s of udpServers) s.close();
  });

  it('with sync: after kill -9 of the master, and again after it restarts and preempts, all 500 clients reach the same real server, over TCP (persistence) and UDP (flows)', async () => {
    const lab = new ClusterLab(config(port, true));
    try {
      const r = await failover(lab, true);
      console.log(`      (with sync: TCP ${r.tcpSame}/${clientsN}, UDP ${r.udpSame}/${clientsN} on the same real server; d2: ${r.loadedLine})`);
      console.log(`      (d1 back: TCP ${r.failback?.tcpSame}/${clientsN}, UDP ${r.failback?.udpSame}/${clientsN}; d1: ${r.failback?.loadedLine})`);
      assert.equal(r.tcpSame, clientsN);
      assert.equal(r.udpSame, clientsN);
      assert.match(r.loadedLine, /loaded (\d+) connection entries/);
      assert.equal(r.failback?.tcpSame, clientsN, 'after d1 restarted and preempted, over TCP');
      assert.equal(r.failback?.udpSame, clientsN, 'after d1 restarted and preempted, over UDP');
      const log = lab.log('d1');
      const waited = log.indexOf("waits for a whole copy of d2's connection table");
      console.log(`      (d1 ${waited >= 0 ? 'waited for its copy of d2 before preempting' : 'had its copy of d2 before it could preempt'})`);
      if (waited >= 0) assert.ok(log.indexOf("copy of d2's connection table is whole") < log.indexOf('VI_1: BACKUP -> MASTER'), 'the copy was whole before d1 took over');
    } finally {
      await lab.stop();
    }
  });

  it('without sync (connections off): the new master schedules clients afresh, and most of them move', async () => {
    const lab = new ClusterLab(config(port + 60, false));
    try {
      const r = await failover(lab, false);
      console.log(`      (without sync: TCP ${r.tcpSame}/${clientsN}, UDP ${r.udpSame}/${clientsN} on the same real server)`);
      assert.ok(r.tcpSame < clientsN * 0.6, `TCP ${r.tcpSame}`);
      assert.ok(r.udpSame < clientsN * 0.6, `UDP ${r.udpSame}`);
    } finally {
      await lab.stop();
    }
  });
});
