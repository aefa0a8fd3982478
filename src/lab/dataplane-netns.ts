// A kernel data plane's world in network namespaces (root): a director, real servers and
// clients on one bridge, set up as LVS wants them. The director holds the VIP on its eth0
// and forwards. Each real server answers HTTP with its own name on port 8080 (reached by
// NAT) and ports 80 and 81 (reached by DR, the VIP on its lo, answering no ARP for it). NAT's
// client reaches the real servers only through the director (their route to it points
// there, LVS-NAT on one network); DR's client is answered by the real servers straight.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { nftBatch } from '../common/nft';
import { NetnsLab } from './netns';

/** A real server's answer: its own name, on every port; an idle keep-alive connection is kept two minutes. */
const nameResponder = `
const http = require('node:http');
for (const port of [80, 81, 8080]) {
  const server = http.createServer((q, s) => s.end(process.argv[1]));
  server.keepAliveTimeout = 120000;
  server.listen(port);
}
`;

/**
 * Long-lived sessions for `node -e`: COUNT keep-alive connections to HOST:PORT from ports
 * FIRST_PORT.., each asking once; prints one JSON line of who answered each, then asks
 * again on every connection at each line read from stdin and prints the answers again
 * (`fail` for a connection that broke or did not answer within 20 s).
 */
const sessionClient = `
const net = require('node:net');
const [host, port, count, firstPort] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const sockets = [];
function ask(i) {
  return new Promise((resolve) => {
    const s = sockets[i];
    if (s === undefined || s.destroyed) return resolve('fail');
    let data = '';
    const done = (answer) => { clearTimeout(timer); s.removeListener('data', onData); s.removeListener('close', onClose); resolve(answer); };
    const onData = (d) => {
      data += d;
      const head = data.indexOf('\\r\\n\\r\\n');
      if (head < 0) return;
      const length = Number((/content-length: *(\\d+)/i.exec(data.slice(0, head)) || [])[1]);
      if (data.length >= head + 4 + length) done(data.slice(head + 4, head + 4 + length));
    };
    const onClose = () => done('fail');
    const timer = setTimeout(() => done('fail'), 20000);
    s.on('data', onData);
    s.on('close', onClose);
    s.write('GET / HTTP/1.1\\r\\nHost: vip\\r\\n\\r\\n');
  });
}
async function round() {
  const answers = [];
  for (let i = 0; i < count; i += 50) answers.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => ask(i + k)))));
  process.stdout.write(JSON.stringify(answers) + '\\n');
}
async function open() {
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => {
      const s = net.connect({ host, port, localPort: firstPort + i });
      s.setEncoding('utf8');
      s.on('error', () => undefined);
      s.once('connect', resolve);
      s.once('close', resolve);
      sockets.push(s);
    });
  }
  await round();
  require('node:readline').createInterface({ input: process.stdin }).on('line', () => void round());
}
open();
`;

/** Long-lived connections through the VIP, asked again on demand. */
export interface Sessions {
  /** Who answered each connection when it opened. */
  readonly first: string[];
  /** Asks on every connection again: who answered each now. */
  again(): Promise<string[]>;
  close(): void;
}

/**
 * A client for `node -e`: COUNT requests to HOST:PORT one after another, each on a new
 * connection from one of the source addresses in turn (from port FIRST_PORT + i when
 * FIRST_PORT is not 0, so no two share a flow); prints a JSON array of what answered
 * (the body, or `fail`).
 */
const sequentialClient = `
const http = require('node:http');
const [host, port, count, sources, firstPort] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), process.argv[4].split(','), Number(process.argv[5])];
const answers = [];
function next(i) {
  if (i >= count) return process.stdout.write(JSON.stringify(answers));
  let body = '';
  const req = http.get({ host, port, path: '/', agent: false, timeout: 2000, localAddress: sources[i % sources.length], ...(firstPort > 0 ? { localPort: firstPort + i } : {}) }, (res) => {
    res.on('data', (d) => (body += d));
    res.on('end', () => { answers.push(body); next(i + 1); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => { answers.push('fail'); next(i + 1); });
}
next(0);
`;

/**
 * A virtual_server block over the world's real servers (rs1.. at .11..), each checked by
 * TCP_CHECK every second: what a keepalived user would write for them.
 */
export function virtualServerBlock(
  vip: string,
  port: number,
  scheduler: string,
  kind: 'NAT' | 'DR',
  servers: ReadonlyArray<{ readonly address: string; readonly weight: number }>,
  persistenceS?: number,
): string {
  const realServers = servers.map((rs) => `    real_server ${rs.address} ${port} {\n        weight ${rs.weight}\n        TCP_CHECK {\n            connect_timeout 1\n        }\n    }`);
  const persistence = persistenceS !== undefined ? `    persistence_timeout ${persistenceS}\n` : '';
  return `virtual_server ${vip} ${port} {\n    delay_loop 1\n    lb_algo ${scheduler}\n    lb_kind ${kind}\n    protocol TCP\n${persistence}${realServers.join('\n')}\n}\n`;
}

export interface DataplaneHosts {
  readonly realServers: number;
  /** The VIP on the director's eth0 from the start (false: a director process brings it up itself). */
  readonly vipOnDirector?: boolean;
  /** A second director, `director2` at .5. */
  readonly secondDirector?: boolean;
  /** Where the real servers send NAT's replies: the director (the default), or a floating gateway address the master holds. */
  readonly natGateway?: string;
  /** false: the real servers run no responder (the caller starts its own, e.g. nginx). */
  readonly responders?: boolean;
}

export class DataplaneNetns {
  readonly lab: NetnsLab;
  readonly vip: string;
  readonly realServerNames: string[] = [];
  private readonly responders = new Map<string, ChildProcess>();
  private natGateway = '';

  constructor(readonly subnet: string) {
    this.lab = new NetnsLab(subnet);
    this.vip = `${subnet}.100`;
  }

  /** director .1, NAT client .2, DR client .3, real servers rs1.. at .11.. */
  start(hosts: DataplaneHosts): void {
    const all: Record<string, number> = { director: 1, natclient: 2, drclient: 3, ...(hosts.secondDirector === true ? { director2: 5 } : {}) };
    for (let i = 1; i <= hosts.realServers; i++) {
      all[`rs${i}`] = 10 + i;
      this.realServerNames.push(`rs${i}`);
    }
    this.lab.create(all);
    this.natGateway = hosts.natGateway ?? this.lab.address('director');
    for (const director of Object.keys(all).filter((h) => h.startsWith('director'))) this.lab.lvsDirector(director);
    if (hosts.vipOnDirector !== false) run('ip', '-n', this.lab.ns('director'), 'addr', 'add', `${this.vip}/32`, 'dev', 'eth0');
    for (const rs of this.realServerNames) {
      this.lab.drRealServer(rs, [this.vip]);
      run('ip', '-n', this.lab.ns(rs), 'route', 'add', `${this.lab.address('natclient')}/32`, 'via', this.natGateway);
      if (hosts.responders !== false) this.startRealServer(rs);
    }
  }

  /** A real server's responder, on ports 80 and 8080. */
  startRealServer(rs: string): void {
    this.responders.set(rs, this.lab.spawn(rs, process.execPath, ['-e', nameResponder, rs]));
  }

  /** Kills a real server's responder: its ports refuse from now on. */
  async stopRealServer(rs: string): Promise<void> {
    const child = this.responders.get(rs);
    if (child === undefined || child.exitCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGKILL');
    await gone;
  }

  /**
   * More source addresses on a client's eth0 (for persistence and hashing across clients);
   * the real servers answer NAT's client's through the director.
   */
  addClientAddresses(client: 'natclient' | 'drclient', addresses: readonly string[]): void {
    for (const a of addresses) {
      run('ip', '-n', this.lab.ns(client), 'addr', 'add', `${a}/24`, 'dev', 'eth0');
      if (client !== 'natclient') continue;
      for (const rs of this.realServerNames) run('ip', '-n', this.lab.ns(rs), 'route', 'add', `${a}/32`, 'via', this.natGateway);
    }
  }

  /**
   * IPv6 beside IPv4: every host gets PREFIX::N/64 (N its IPv4 host number, in hex as
   * written), the director forwards and holds VIP6, each real server carries VIP6 on its
   * lo (a host answers neighbour solicitations only for its interface's own addresses, so
   * no ARP sysctl has an IPv6 twin to set) and routes NAT's client through the director.
   */
  enableIpv6(prefix: string): { readonly vip6: string; readonly address6: (host: string) => string } {
    const address6 = (host: string): string => `${prefix}::${this.lab.address(host).split('.')[3]}`;
    const vip6 = `${prefix}::100`;
    for (const host of this.lab.hostNames()) run('ip', '-n', this.lab.ns(host), 'addr', 'add', `${address6(host)}/64`, 'dev', 'eth0', 'nodad');
    const director = this.lab.ns('director');
    this.lab.sysctl('director', 'net.ipv6.conf.all.forwarding', '1');
    run('ip', '-n', director, 'addr', 'add', `${vip6}/128`, 'dev', 'eth0', 'nodad');
    for (const rs of this.realServerNames) {
      const ns = this.lab.ns(rs);
      // IPv6 has no send_redirects to turn off on the director: the real servers ignore its redirects instead.
      for (const dev of ['all', 'eth0']) this.lab.sysctl(rs, `net.ipv6.conf.${dev}.accept_redirects`, '0');
      run('ip', '-n', ns, 'addr', 'add', `${vip6}/128`, 'dev', 'lo', 'nodad');
      run('ip', '-n', ns, 'route', 'add', `${address6('natclient')}/128`, 'via', address6('director'));
    }
    return { vip6, address6 };
  }

  /** One more address on the director's eth0 (a second VIP). */
  addDirectorAddress(address: string): void {
    run('ip', '-n', this.lab.ns('director'), 'addr', 'add', `${address}/32`, 'dev', 'eth0');
  }

  /** Applies an nft batch in the director's namespace; undefined when it applied. */
  apply(batch: string): Promise<string | undefined> {
    return nftBatch(batch, ['ip', 'netns', 'exec', this.lab.ns('director')]);
  }

  /** The director's ruleset, as `nft -j list ruleset` gives it. */
  rulesetJson(): unknown {
    const r = spawnSync('ip', ['netns', 'exec', this.lab.ns('director'), 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' });
    return JSON.parse(r.stdout) as unknown;
  }

  /**
   * COUNT requests from a client to the VIP (or `vip`), each on a new connection, from
   * `sources` in turn, from ports FIRST_PORT onwards when given: who answered each.
   */
  requests(client: 'natclient' | 'drclient', port: number, count: number, options: { sources?: readonly string[]; firstPort?: number; vip?: string } = {}): string[] {
    const sources = options.sources ?? [this.lab.address(client)];
    const argv = [options.vip ?? this.vip, String(port), String(count), sources.join(','), String(options.firstPort ?? 0)];
    const r = spawnSync('ip', ['netns', 'exec', this.lab.ns(client), process.execPath, '-e', sequentialClient, ...argv], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`client in ${client}: exit ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as string[];
  }

  /** COUNT keep-alive connections from the client to the VIP:PORT, from ports FIRST_PORT onwards. */
  async sessions(client: 'natclient' | 'drclient', port: number, count: number, firstPort: number): Promise<Sessions> {
    const child = this.lab.spawn(client, process.execPath, ['-e', sessionClient, this.vip, String(port), String(count), String(firstPort)], { stdin: true });
    const lines: string[] = [];
    const waiting: Array<(line: string) => void> = [];
    let pending = '';
    child.stdout?.on('data', (d: Buffer) => {
      pending += d.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        const w = waiting.shift();
        if (w !== undefined) w(line);
        else lines.push(line);
      }
    });
    const next = (): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sessions in ${client}: no answer within 120 s: ${this.lab.outputOf(child).slice(-500)}`)), 120_000);
        const take = (line: string): void => {
          clearTimeout(timer);
          resolve(JSON.parse(line) as string[]);
        };
        const ready = lines.shift();
        if (ready !== undefined) take(ready);
        else waiting.push(take);
      });
    const first = await next();
    return {
      first,
      again: () => {
        child.stdin?.write('again\n');
        return next();
      },
      close: () => {
        if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      },
    };
  }

  /** Whether every real server answers on both ports (asked from the director), polled until the deadline. */
  async realServersReady(deadlineMs: number): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      const ready = this.realServerNames.every((rs) =>
        [80, 8080].every((port) => spawnSync('ip', ['netns', 'exec', this.lab.ns(rs), process.execPath, '-e', probe, String(port)], { timeout: 2000 }).status === 0),
      );
      if (ready) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  destroy(): void {
    this.lab.destroy();
  }
}

const probe = `require('node:net').connect(Number(process.argv[1]), '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1));`;

function run(program: string, ...args: string[]): void {
  const r = spawnSync(program, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')}: ${r.stderr.trim()}`);
}
