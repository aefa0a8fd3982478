// The kernel plane's rules at work in network namespaces (root): the engine's services
// rendered to nftables and applied in a director's namespace, real clients connecting
// through the VIP. NAT and DR each place 400 new connections in the engine's order (rr,
// wrr); persistence keeps each client on one server for its timeout; sh and mh through
// jhash land every client where the engine's table, hashed as nft hashes, says; DR's
// replies never pass the director; IPv6 and fwmark services are carried alike; a
// reconcile keeps a DR flow's server.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { VirtualClock } from '../../src/common/clock';
import { nftJson, nftUnavailable } from '../../src/common/nft';
import { SeededRng } from '../../src/common/rng';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import type { Destination, ForwardMethod } from '../../src/ipvs/destination';
import { IpvsEngine } from '../../src/ipvs/engine';
import { DestinationMarks } from '../../src/ipvs/dataplane/nftables/marks';
import { renderRuleset, type KernelService, type RenderedObjects } from '../../src/ipvs/dataplane/nftables/ruleset';
import { hashedPick, scheduleMap } from '../../src/ipvs/dataplane/nftables/schedule-map';
import { noSchedulerFlags, type SchedulerName } from '../../src/ipvs/schedulers/scheduler';
import type { VirtualService } from '../../src/ipvs/service';
import { DataplaneNetns } from '../../src/lab/dataplane-netns';
import { netnsUnavailable } from '../../src/lab/netns';
import { waitFor } from '../support/director-process';

const subnet = '10.219.0';
const hashSeed = 0x5eed;
const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;

/** The engine's sequence for a numgen-drawn map, one period, as real server names. */
function sequenceOf(svc: VirtualService, nameOf: (d: Destination) => string): string[] {
  const map = scheduleMap(svc);
  assert.ok(map !== undefined && map.draw.kind === 'sequence', 'a sequence map');
  const order: string[] = [];
  for (const slot of map.slots) for (let i = slot.from; i <= slot.to; i++) order[i] = nameOf(slot.dest);
  return order;
}

describe('the nftables kernel plane in network namespaces (integration, root)', function () {
  this.timeout(180_000);
  const world = new DataplaneNetns(subnet);
  const engine = new IpvsEngine({ clock: new VirtualClock(), rng: new SeededRng(1) });
  const marks = new DestinationMarks();
  let applied: RenderedObjects = new Set();
  const services: KernelService[] = [];
  // rs1 is SUBNET.11 (and PREFIX::11 in IPv6).
  const nameOf = (d: Destination): string => `rs${Number(d.address.text.split(/[.:]/).at(-1)) - 10}`;

  const service = (port: number, scheduler: SchedulerName, method: 'nat' | 'dr', weights: readonly number[], persistenceS?: number): VirtualService => {
    const svc = engine.addService(
      { kind: 'address', protocol: 'tcp', address: ip(world.vip), port },
      { scheduler, flags: noSchedulerFlags, onePacket: false, ...(persistenceS !== undefined ? { persistenceS } : {}) },
    );
    const forward: ForwardMethod = method === 'nat' ? 'masq' : 'route';
    weights.forEach((weight, i) => engine.addDestination(svc, ip(`${subnet}.${11 + i}`), method === 'nat' ? 8080 : 80, { forward, weight, upperThreshold: 0, lowerThreshold: 0 }));
    services.push({ svc, method, name: `t${port}`, ...(method === 'dr' ? { device: 'eth0' } : {}) });
    return svc;
  };

  const apply = async (): Promise<void> => {
    const rendered = renderRuleset({ services, markOf: (d) => marks.of(d), hashSeed, flowTimeoutS: { tcp: 900, udp: 300, sctp: 900 } }, applied);
    const problem = await world.apply(rendered.batch);
    assert.equal(problem, undefined, `nft refused the batch:\n${rendered.batch}`);
    applied = rendered.objects;
  };

  before(async function () {
    const why = netnsUnavailable() ?? nftUnavailable('the kernel plane is nftables rules');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    world.start({ realServers: 3 });
    assert.ok(await world.realServersReady(15_000), 'the real servers answer');
  });

  after(() => world.destroy());

  it('NAT: 400 new connections go in the engine\'s wrr order, weights 3:2:1', async () => {
    const svc = service(8080, 'wrr', 'nat', [3, 2, 1]);
    await apply();
    const expected = sequenceOf(svc, nameOf);
    assert.equal(expected.length, 6);
    const answers = world.requests('natclient', 8080, 400, { firstPort: 20000 });
    assert.deepEqual(answers, Array.from({ length: 400 }, (_, i) => expected[i % expected.length]));
    // Each server's counters: its connections, and its packets both ways through the director.
    const named = await namedCounters(world, 'ip');
    svc.destinations.forEach((d, i) => {
      const m = marks.of(d);
      const served = answers.filter((name) => name === nameOf(d)).length;
      assert.equal(named.get(`conns_${m}`)?.packets, served, `${nameOf(d)}'s connections (${i})`);
      assert.ok((named.get(`in_${m}`)?.packets ?? 0) >= 3 * served, `${nameOf(d)}'s packets in`);
      assert.ok((named.get(`out_${m}`)?.bytes ?? 0) > 0, `${nameOf(d)}'s replies came back through the director`);
    });
  });

  it('DR: 400 new connections go in rr order, and no reply passes the director', async () => {
    const svc = service(80, 'rr', 'dr', [1, 1, 1]);
    await apply();
    // Replies from the VIP seen on the director's eth0 would mean they came back through it.
    assert.equal(await world.apply('table netdev observe {\n chain replies {\n  type filter hook ingress device "eth0" priority -10; policy accept;\n  ip saddr ' + world.vip + ' tcp sport 80 counter\n }\n}\n'), undefined);
    const expected = sequenceOf(svc, nameOf);
    const answers = world.requests('drclient', 80, 400, { firstPort: 20000 });
    assert.deepEqual(answers, Array.from({ length: 400 }, (_, i) => expected[i % expected.length]));
    const counters = counterPackets(world.rulesetJson());
    assert.equal(counters.get('observe replies'), 0, 'no reply from the VIP came in on the director');
    // The plane's own counters: a flow per connection, and every packet from the clients.
    const named = await namedCounters(world);
    const serverMarks = svc.destinations.map((d) => marks.of(d));
    const flows = serverMarks.reduce((n, m) => n + (named.get(`conns_${m}`)?.packets ?? 0), 0);
    const forwarded = serverMarks.reduce((n, m) => n + (named.get(`in_${m}`)?.packets ?? 0), 0);
    assert.equal(flows, 400, 'one flow per connection');
    assert.ok(forwarded >= 400 * 3, `the director forwarded the clients' packets (${forwarded})`);
  });

  it('persistence keeps each client on one real server; new clients follow the rr order', async () => {
    const svc = service(8081, 'rr', 'nat', [1, 1, 1], 300);
    await apply();
    const clients = ['21', '22', '23', '24'].map((n) => `${subnet}.${n}`);
    world.addClientAddresses('natclient', clients);
    const expected = sequenceOf(svc, nameOf);
    const answers = world.requests('natclient', 8081, 40, { sources: clients, firstPort: 21000 });
    clients.forEach((_, c) => {
      const own = answers.filter((_, i) => i % clients.length === c);
      assert.deepEqual(new Set(own), new Set([expected[c % expected.length]]), `client ${clients[c]}: ${own.join(',')}`);
    });
  });

  it('sh through jhash: every client lands where the engine\'s table, hashed as nft hashes, says', async () => {
    const svc = service(8082, 'sh', 'nat', [1, 2, 1]);
    await apply();
    const map = scheduleMap(svc);
    assert.ok(map !== undefined);
    const clients = Array.from({ length: 16 }, (_, i) => `${subnet}.${40 + i}`);
    world.addClientAddresses('natclient', clients);
    const answers = world.requests('natclient', 8082, 32, { sources: clients, firstPort: 22000 });
    const expected = answers.map((_, i) => nameOf(hashedPick(map, hashSeed, ip(clients[i % clients.length] as string)) as Destination));
    assert.deepEqual(answers, expected);
    assert.ok(new Set(answers).size > 1, 'the clients spread over more than one server');
  });

  it('DR wrr 1:2:3 and NAT mh (its Maglev table over jhash): each as the engine says', async () => {
    const wrr = service(81, 'wrr', 'dr', [1, 2, 3]);
    const mh = service(8083, 'mh', 'nat', [1, 1, 2]);
    await apply();
    const expected = sequenceOf(wrr, nameOf);
    const answers = world.requests('drclient', 81, 120, { firstPort: 24000 });
    assert.deepEqual(answers, Array.from({ length: 120 }, (_, i) => expected[i % expected.length]));
    const map = scheduleMap(mh);
    assert.ok(map !== undefined && map.modulus === 4093);
    const clients = Array.from({ length: 16 }, (_, i) => `${subnet}.${40 + i}`);
    const picks = world.requests('natclient', 8083, 16, { sources: clients, firstPort: 24200 });
    assert.deepEqual(picks, clients.map((c) => nameOf(hashedPick(map, hashSeed, ip(c)) as Destination)));
  });

  it('persistence lasts its timeout: a client idle longer is scheduled afresh', async () => {
    const svc = service(8084, 'rr', 'nat', [1, 1, 1], 2);
    await apply();
    const expected = sequenceOf(svc, nameOf);
    const client = [`${subnet}.21`];
    const first = world.requests('natclient', 8084, 3, { sources: client, firstPort: 25000 });
    assert.deepEqual(first, [expected[0], expected[0], expected[0]], 'held while it comes back within 2 s');
    // Watched without a connection (one would refresh it): the client's entry goes after its 2 s.
    const startedMs = performance.now();
    const entries = async (): Promise<number> => {
      const json = await nftJson(['list', 'map', 'ip', 'hadirector', 's_t8084_p2'], ['ip', 'netns', 'exec', world.lab.ns('director')]);
      return ((json as { nftables?: Array<{ map?: { elem?: unknown[] } }> } | undefined)?.nftables ?? []).reduce((n, i) => n + (i.map?.elem?.length ?? 0), 0);
    };
    assert.equal(await entries(), 1);
    await waitFor('the client\'s persistence entry to expire', async () => ((await entries()) === 0 ? true : undefined), 5000, 100);
    assert.ok(performance.now() - startedMs >= 1000, 'it was kept about its timeout');
    // The next connection takes the next server in the rr sequence.
    assert.deepEqual(world.requests('natclient', 8084, 1, { sources: client, firstPort: 25100 }), [expected[1]]);
  });

  it('IPv6: NAT and DR each go in rr order, DR\'s replies straight to the client', async () => {
    const { vip6, address6 } = world.enableIpv6('fd00:219');
    const v6 = (port: number, method: 'nat' | 'dr'): VirtualService => {
      const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip(vip6), port }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
      for (const rs of ['rs1', 'rs2', 'rs3']) engine.addDestination(svc, ip(address6(rs)), port, { forward: method === 'nat' ? 'masq' : 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
      services.push({ svc, method, name: `six${port}`, ...(method === 'dr' ? { device: 'eth0' } : {}) });
      return svc;
    };
    const nat = v6(8080, 'nat');
    const dr = v6(80, 'dr');
    await apply();
    for (const [svc, client, port] of [[nat, 'natclient', 8080], [dr, 'drclient', 80]] as const) {
      const expected = sequenceOf(svc, nameOf);
      const answers = world.requests(client, port, 30, { vip: vip6, sources: [address6(client)], firstPort: 26000 });
      assert.deepEqual(answers, Array.from({ length: 30 }, (_, i) => expected[i % expected.length]), `${client} over IPv6`);
    }
    const counters = counterPackets(world.rulesetJson());
    assert.equal(counters.get('observe replies'), 0, 'no reply from the IPv4 VIP came back through the director either');
  });

  it('fwmark: a NAT service takes what a firewall rule marks, over two ports, in one rr order', async () => {
    const vip2 = `${subnet}.101`;
    world.addDirectorAddress(vip2);
    const marking = `table ip mark7 {\n chain pre {\n  type filter hook prerouting priority mangle; policy accept;\n  ip daddr ${vip2} tcp dport { 80, 8080 } meta mark set 7\n }\n}\n`;
    assert.equal(await world.apply(marking), undefined);
    const svc = engine.addService({ kind: 'fwmark', mark: 7, family: 4 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    for (let i = 0; i < 3; i++) engine.addDestination(svc, ip(`${subnet}.${11 + i}`), 0, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    services.push({ svc, method: 'nat', name: 'f7' });
    await apply();
    const expected = sequenceOf(svc, nameOf);
    const answers = [...world.requests('natclient', 80, 6, { vip: vip2, firstPort: 27000 }), ...world.requests('natclient', 8080, 6, { vip: vip2, firstPort: 27100 })];
    assert.deepEqual(answers, Array.from({ length: 12 }, (_, i) => expected[i % expected.length]));
  });

  it('a reconcile that removes a real server keeps DR flows on the servers that stay', async () => {
    const svc = services.find((s) => s.name === 't80')?.svc as VirtualService;
    // A flow kept open across the change: its server must not move.
    const before = world.requests('drclient', 80, 3, { firstPort: 23000 });
    engine.removeDestination(svc, svc.destinations.find((d) => nameOf(d) === 'rs3') as Destination);
    await apply();
    const again = world.requests('drclient', 80, 3, { firstPort: 23000 });
    for (let i = 0; i < 3; i++) {
      if (before[i] !== 'rs3') assert.equal(again[i], before[i], `flow from port ${23000 + i} kept ${before[i]}`);
      else assert.notEqual(again[i], 'rs3', 'a flow of the removed server is scheduled afresh');
    }
  });
});

/** The named counters of one of the plane's tables: packets and bytes by name. */
async function namedCounters(world: DataplaneNetns, family: 'ip' | 'netdev' = 'netdev'): Promise<Map<string, { packets: number; bytes: number }>> {
  const json = await nftJson(['list', 'counters', 'table', family, 'hadirector'], ['ip', 'netns', 'exec', world.lab.ns('director')]);
  const out = new Map<string, { packets: number; bytes: number }>();
  for (const item of (json as { nftables?: Array<{ counter?: { name: string; packets: number; bytes: number } }> } | undefined)?.nftables ?? []) {
    if (item.counter !== undefined) out.set(item.counter.name, item.counter);
  }
  return out;
}

/** Each anonymous counter's packets in `nft -j list ruleset`, by `TABLE CHAIN`. */
function counterPackets(json: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const items = (json as { nftables?: Array<{ rule?: { table: string; chain: string; expr: unknown[] } }> }).nftables ?? [];
  for (const item of items) {
    const rule = item.rule;
    if (rule === undefined) continue;
    const exprs = rule.expr.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
    const counter = exprs.find((e) => 'counter' in e)?.counter as { packets: number } | string | undefined;
    if (counter === undefined || typeof counter === 'string') continue;
    const key = `${rule.table} ${rule.chain}`;
    out.set(key, (out.get(key) ?? 0) + counter.packets);
  }
  return out;
}
