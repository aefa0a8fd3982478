import assert from 'node:assert/strict';
import fs from 'node:fs';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { choosePlane, kernelMethod, type HostPlaneFacts } from '../../src/director/plane-choice';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import type { ForwardMethod } from '../../src/ipvs/destination';
import { IpvsEngine } from '../../src/ipvs/engine';
import { KernelPlane, mapElements, type KernelPlaneOptions, type KernelShape } from '../../src/ipvs/dataplane/nftables/kernel-plane';
import type { KernelFeature, KernelOffer } from '../../src/ipvs/dataplane/nftables/probe';
import { noSchedulerFlags } from '../../src/ipvs/schedulers/scheduler';
import type { ServiceKey } from '../../src/ipvs/service';

const ip = (text: string): IpAddr => parseIpAddr(text) as IpAddr;
const offer = (...missing: KernelFeature[]): KernelOffer => ({ missing: new Map(missing.map((f) => [f, `no ${f} here`])) });
const tcp80: ServiceKey = { kind: 'address', protocol: 'tcp', address: ip('192.0.2.10'), port: 80 };
const shape = (key: ServiceKey, ...forwards: ForwardMethod[]) => ({ key, destinations: forwards.map((forward, i) => ({ forward, key: `192.0.2.${20 + i}:80` })) });

describe('choosing the data plane', () => {
  const cases: Array<{ choice: 'kernel' | 'ipvs' | 'userspace' | 'auto'; host: HostPlaneFacts; plane?: 'kernel' | 'ipvs' | 'userspace'; error?: RegExp }> = [
    { choice: 'auto', host: { root: false }, plane: 'userspace' },
    { choice: 'auto', host: { root: true, offer: offer() }, plane: 'ipvs' },
    { choice: 'ipvs', host: { root: true, offer: offer(), ipvsMissing: 'no /proc/net/ip_vs' }, error: /data_plane ipvs: no \/proc\/net\/ip_vs \(HAD_IPVS_PLANE\)/ },
    { choice: 'ipvs', host: { root: false }, error: /needs root/ },
    { choice: 'kernel', host: { root: true, offer: offer() }, plane: 'kernel' },
    { choice: 'auto', host: { root: true, loopbackVips: true }, plane: 'userspace' },
    { choice: 'auto', host: { root: true, offer: offer('tunnel'), ipvsMissing: 'no IPVS' }, plane: 'kernel' },
    { choice: 'auto', host: { root: true, offer: offer('nat'), ipvsMissing: 'no IPVS' }, plane: 'userspace' },
    { choice: 'userspace', host: { root: true, offer: offer() }, plane: 'userspace' },
    { choice: 'kernel', host: { root: true, offer: offer('nat') }, plane: 'kernel' },
    { choice: 'kernel', host: { root: false }, error: /needs root/ },
    { choice: 'kernel', host: { root: true, loopbackVips: true }, error: /loopback/ },
    { choice: 'kernel', host: { root: true, offer: offer('nat', 'dr') }, error: /neither/ },
  ];
  for (const c of cases) {
    it(`data_plane ${c.choice} with ${JSON.stringify({ ...c.host, offer: c.host.offer && [...c.host.offer.missing.keys()] })}: ${c.plane ?? 'refused'}`, () => {
      const d = choosePlane(c.choice, c.host);
      if (c.error !== undefined) assert.match('error' in d ? d.error : '', c.error);
      else assert.equal('plane' in d ? d.plane : d.error, c.plane);
    });
  }

  it('the kernel forwards a service one way: NAT, DR, or refused with the reason and a HAD_ code', () => {
    assert.deepEqual(kernelMethod(shape(tcp80, 'masq', 'masq'), offer()), { method: 'nat' });
    assert.deepEqual(kernelMethod(shape(tcp80, 'route'), offer()), { method: 'dr' });
    const refused = (s: ReturnType<typeof shape>, o: KernelOffer): string => {
      const m = kernelMethod(s, o);
      return 'refused' in m ? m.refused : '';
    };
    assert.match(refused(shape(tcp80, 'tunnel'), offer('tunnel')), /TCP 192\.0\.2\.10:80: tunnelling \(TUN, -i\) cannot run here: no tunnel here \(HAD_KERNEL_TUN\)/);
    assert.match(refused(shape(tcp80, 'masq', 'route'), offer()), /mix NAT and DR;.*HAD_KERNEL_MIXED/);
    assert.match(refused(shape(tcp80, 'route'), offer('dr')), /no dr here \(HAD_KERNEL_DR\)/);
    assert.match(refused(shape({ kind: 'fwmark', mark: 7, family: 4 }, 'route'), offer()), /FWM 7: a fwmark service cannot forward by DR/);
  });
});

/** An engine and a kernel plane over it whose batches are recorded, all applied. */
function planeWorld(shape: KernelShape, extra: Pick<KernelPlaneOptions, 'listMap' | 'listCounters' | 'conntrack'> = {}) {
  const engine = new IpvsEngine({ clock: new VirtualClock(), rng: new SeededRng(1) });
  const batches: string[] = [];
  const plane = new KernelPlane({
    engine,
    apply: (batch) => {
      batches.push(batch);
      return Promise.resolve(undefined);
    },
    events: { warn: () => undefined, info: () => undefined },
    hashSeed: 7,
    shapeOf: () => shape,
    ...extra,
  });
  return { engine, plane, batches };
}

describe('the kernel plane', () => {
  function setup(shapeOf: (port: number) => KernelShape, refuse?: string) {
    const engine = new IpvsEngine({ clock: new VirtualClock(), rng: new SeededRng(1) });
    const batches: string[] = [];
    const warnings: string[] = [];
    const plane = new KernelPlane({
      engine,
      apply: (batch) => {
        batches.push(batch);
        return Promise.resolve(refuse !== undefined && batches.length > 1 ? refuse : undefined);
      },
      events: { warn: (m) => warnings.push(m), info: () => undefined },
      hashSeed: 7,
      shapeOf: (svc) => shapeOf(svc.key.kind === 'address' ? svc.key.port : 0),
    });
    const service = (port: number, forward: ForwardMethod) => {
      const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip('192.0.2.10'), port }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
      engine.addDestination(svc, ip('192.0.2.20'), port, { forward, weight: 1, upperThreshold: 0, lowerThreshold: 0 });
      return svc;
    };
    return { engine, plane, batches, warnings, service };
  }

  it('starts by dropping what a previous run left, then renders NAT and DR services; a refused one is named', async () => {
    const { plane, batches, service } = setup((port) => (port === 80 ? { method: 'nat' } : port === 81 ? { method: 'dr', device: 'eth0' } : { refused: 'TUN here' }));
    assert.equal(await plane.start(), undefined);
    assert.match(batches[0] ?? '', /add table netdev hadirector\ndelete table netdev hadirector/);
    service(80, 'masq');
    service(81, 'route');
    service(82, 'tunnel');
    assert.deepEqual(await plane.reconcile(), ['TCP 192.0.2.10:82: TUN here']);
    const batch = batches[1] ?? '';
    assert.match(batch, /add rule ip hadirector prerouting ip daddr 192\.0\.2\.10 tcp dport 80 goto s_v\d+/);
    assert.match(batch, /add rule netdev hadirector in_eth0 ip daddr 192\.0\.2\.10 tcp dport 81 goto d_v\d+/);
    assert.match(batch, /fwd ip to 192\.0\.2\.20 device "eth0"/);
    assert.doesNotMatch(batch, /dport 82/);
  });

  it('keeps a service\'s name, and so its persistence and flow maps, across reconciles; a service gone is deleted', async () => {
    const { engine, plane, batches, service } = setup(() => ({ method: 'dr', device: 'eth0' }));
    const a = service(80, 'route');
    service(81, 'route');
    await plane.reconcile();
    const nameOf = (port: number): string | undefined => new RegExp(`tcp dport ${port} goto (d_v\\d+)`).exec(batches[0] ?? '')?.[1];
    const [gone, kept] = [nameOf(80), nameOf(81)];
    assert.ok(gone !== undefined && kept !== undefined && gone !== kept);
    engine.deleteService(engine.findService(a.key) as typeof a);
    await plane.reconcile();
    const second = batches[1] ?? '';
    assert.match(second, new RegExp(`delete map netdev hadirector ${gone}_f900`), 'the removed service\'s flows go');
    assert.doesNotMatch(second, new RegExp(`delete map netdev hadirector ${kept}_f900`), 'the other\'s stay');
    assert.match(second, new RegExp(`add map netdev hadirector ${kept}_f900`), 'and are declared again, which keeps their entries');
    assert.match(second, new RegExp(`tcp dport 81 goto ${kept}\n`), 'under the same name');
  });

  it('reads the DR flow map into the engine\'s table (for replication), and writes replicated flows back with the time they had left', async () => {
    let listed = '';
    const { engine, plane, batches } = planeWorld({ method: 'dr', device: 'eth0' }, {
      listMap: (_family, _kind, name) => {
        listed = name;
        // As nft prints a flow map.
        return Promise.resolve(
          `table netdev hadirector {\n\tmap ${name} {\n\t\ttype ipv4_addr . inet_service : mark\n\t\tsize 1048576\n\t\tflags dynamic,timeout\n\t\ttimeout 15m\n` +
            `\t\telements = { 198.51.100.7 . 40001 expires 14m59s976ms : 0x00000001,\n\t\t\t     198.51.100.8 . 40002 timeout 1m expires 30s : 0x00000063 }\n\t}\n}\n`,
        );
      },
    });
    const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip('192.0.2.10'), port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    engine.addDestination(svc, ip('192.0.2.20'), 80, { forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    await plane.reconcile();
    assert.equal(await plane.pollSessions(), 1, 'the flow with a mark no destination has is left out');
    assert.match(listed, /^d_v1_f900$/);
    const conn = engine.conns.lookup('tcp', ip('198.51.100.7'), 40001, '192.0.2.10', 80);
    assert.equal(conn?.daddr.text, '192.0.2.20');
    assert.equal(conn?.state, 'ESTABLISHED');
    const restored = await plane.restoreSessions([
      { protocol: 'tcp', caddr: '198.51.100.9', cport: 40003, vaddr: '192.0.2.10', vport: 80, daddr: '192.0.2.20', dport: 80, state: 'ESTABLISHED', template: false, remainingMs: 600_500 },
      { protocol: 'tcp', caddr: '198.51.100.9', cport: 40004, vaddr: '192.0.2.99', vport: 80, daddr: '192.0.2.20', dport: 80, state: 'ESTABLISHED', template: false, remainingMs: 1000 },
    ]);
    assert.deepEqual(restored, []);
    assert.equal(batches.at(-1), 'add element netdev hadirector d_v1_f900 { 198.51.100.9 . 40003 timeout 900s expires 601s : 0x00000001 }\n');
  });

  it('reads nft\'s elements as it prints them: keys, marks, timeouts and what is left', () => {
    const text = `table netdev hadirector {\n\tmap f {\n\t\telements = { 10.0.0.1 . 22 timeout 1m40s expires 1d1h1m1s500ms : 0x00000003,\n\t\t\t     ::ffff:1.2.3.4 . 5 : 0x00000010,\n\t\t\t     bad . x : 0x1 }\n\t}\n}\n`;
    assert.deepEqual([...mapElements(text)], [
      { address: '10.0.0.1', port: 22, mark: 3, expiresS: 90_062 },
      { address: '::ffff:1.2.3.4', port: 5, mark: 16, expiresS: 0 },
    ]);
    assert.deepEqual([...mapElements('table netdev hadirector {\n\tset s {\n\t\telements = { 2001:db8::1 . 80 expires 2s }\n\t}\n}\n', 7)], [{ address: '2001:db8::1', port: 80, mark: 7, expiresS: 2 }]);
    assert.deepEqual([...mapElements('table netdev hadirector {\n\tmap f {\n\t}\n}\n')], [], 'an empty map prints no elements line');
  });

  it('IPv6 DR: one flow set per real server (nft 1.0.6 cannot write an IPv6 flow map), read and written back alike', async () => {
    const listed: string[] = [];
    const { engine, plane, batches } = planeWorld({ method: 'dr', device: 'eth0' }, {
      listMap: (family, kind, name) => {
        listed.push(`${family} ${kind} ${name}`);
        // As nft prints a flow set: one real server's flows, no mark.
        const elements = name.endsWith('_1') ? '\t\telements = { 2001:db8::7 . 40001 expires 14m59s }\n' : '';
        return Promise.resolve(`table netdev hadirector {\n\tset ${name} {\n\t\ttype ipv6_addr . inet_service\n${elements}\t}\n}\n`);
      },
    });
    const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip('2001:db8::10'), port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    engine.addDestination(svc, ip('2001:db8::20'), 80, { forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    engine.addDestination(svc, ip('2001:db8::21'), 80, { forward: 'route', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    await plane.reconcile();
    assert.match(batches[0] ?? '', /add set netdev hadirector d_v1_f900_1 \{ type ipv6_addr \. inet_service; /);
    assert.match(batches[0] ?? '', /add rule netdev hadirector d_v1 ip6 saddr \. tcp sport @d_v1_f900_2 meta mark set 0x00000002\n/);
    assert.equal(await plane.pollSessions(), 1);
    assert.deepEqual(listed, ['netdev set d_v1_f900_1', 'netdev set d_v1_f900_2']);
    assert.equal(engine.conns.lookup('tcp', ip('2001:db8::7'), 40001, '2001:db8::10', 80)?.daddr.text, '2001:db8::21', 'mark 1 is the newest server, listed first');
    assert.deepEqual(
      await plane.restoreSessions([{ protocol: 'tcp', caddr: '2001:db8::9', cport: 40003, vaddr: '2001:db8::10', vport: 80, daddr: '2001:db8::20', dport: 80, state: 'ESTABLISHED', template: false, remainingMs: 600_500 }]),
      [],
    );
    assert.equal(batches.at(-1), 'add element netdev hadirector d_v1_f900_2 { 2001:db8::9 . 40003 timeout 900s expires 601s }\n');
  });

  it('reads the persistence maps into the engine\'s templates, and writes replicated ones back, so a takeover keeps each client on its server', async () => {
    const listed: string[] = [];
    const { engine, plane, batches } = planeWorld({ method: 'nat' }, {
      listMap: (family, _kind, name) => {
        listed.push(`${family} ${name}`);
        // As nft prints a persistence map.
        return Promise.resolve(`table ip hadirector {\n\tmap ${name} {\n\t\ttype ipv4_addr : mark\n\t\telements = { 198.51.100.0 expires 4m10s : 0x00000001, 203.0.113.0 expires 20s : 0x0000004d }\n\t}\n}\n`);
      },
    });
    const svc = engine.addService(
      { kind: 'address', protocol: 'tcp', address: ip('192.0.2.10'), port: 443 },
      { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false, persistenceS: 300, netmask: ip('255.255.255.0') },
    );
    engine.addDestination(svc, ip('192.0.2.20'), 443, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    await plane.reconcile();
    assert.equal(await plane.pollSessions(), 1, 'the client whose mark no server has is left out');
    assert.deepEqual(listed, ['ip s_v1_p300']);
    const template = engine.conns.lookup('tcp', ip('198.51.100.0'), 0, '192.0.2.10', 443);
    assert.ok(template?.template, 'a template, as the engine keeps a persistent client');
    assert.equal(template?.daddr.text, '192.0.2.20');
    const problems = await plane.restoreSessions([
      { protocol: 'tcp', caddr: '198.51.100.0', cport: 0, vaddr: '192.0.2.10', vport: 443, daddr: '192.0.2.20', dport: 443, state: 'NONE', template: true, remainingMs: 119_400 },
      { protocol: 'tcp', caddr: '198.51.101.0', cport: 0, vaddr: '192.0.2.10', vport: 80, daddr: '192.0.2.20', dport: 443, state: 'NONE', template: true, remainingMs: 1000 },
    ]);
    assert.deepEqual(problems, []);
    assert.equal(batches.at(-1), 'add element ip hadirector s_v1_p300 { 198.51.100.0 timeout 300s expires 120s : 0x00000001 }\n');
  });

  it('reads each real server\'s nftables counters into its stats and its service\'s, as growth since the last read', async () => {
    const reads: Array<Record<string, [number, number]>> = [
      { conns_1: [10, 600], in_1: [50, 5000], out_1: [40, 40_000], conns_2: [4, 240], in_2: [20, 2000], out_2: [16, 16_000] },
      { conns_1: [15, 900], in_1: [75, 7500], out_1: [60, 60_000], conns_2: [4, 240], in_2: [20, 2000], out_2: [16, 16_000] },
      // mark 2's counters made anew (its server gone and back): what they hold now is new.
      { conns_1: [15, 900], in_1: [75, 7500], out_1: [60, 60_000], conns_2: [1, 60], in_2: [3, 300], out_2: [2, 2000] },
    ];
    const families: string[] = [];
    const { engine, plane } = planeWorld({ method: 'nat' }, {
      listCounters: (family) => {
        families.push(family);
        const read = reads.shift() ?? {};
        return Promise.resolve({ nftables: [{ metainfo: {} }, ...Object.entries(read).map(([name, [packets, bytes]]) => ({ counter: { family, name, table: 'hadirector', handle: 1, packets, bytes } }))] });
      },
    });
    const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip('192.0.2.10'), port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    const rs1 = engine.addDestination(svc, ip('192.0.2.20'), 8080, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    const rs2 = engine.addDestination(svc, ip('192.0.2.21'), 8080, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    await plane.reconcile();
    for (let i = 0; i < 3; i++) await plane.pollSessions();
    assert.deepEqual(families, ['ip', 'ip', 'ip']);
    const counts = (d: typeof rs1) => [d.stats.conns, d.stats.inPkts, d.stats.inBytes, d.stats.outPkts, d.stats.outBytes];
    // Marks go in the table's order, the newest server first (as ipvsadm lists them): rs2 has mark 1.
    assert.deepEqual(counts(rs2), [15, 75, 7500, 60, 60_000]);
    assert.deepEqual(counts(rs1), [5, 23, 2300, 18, 18_000]);
    assert.deepEqual([svc.stats.conns, svc.stats.inPkts, svc.stats.outBytes], [20, 98, 78_000]);
  });

  it('NAT: reads conntrack\'s DNATed entries of its services into the table, and writes replicated ones back with their binding', async () => {
    const calls: string[] = [];
    let batch = '';
    const listing = [
      'tcp      6 431990 ESTABLISHED src=198.51.100.7 dst=192.0.2.10 sport=40001 dport=80 src=192.0.2.20 dst=198.51.100.7 sport=8080 dport=40001 [ASSURED] mark=1 use=1',
      'tcp      6 100 ESTABLISHED src=198.51.100.7 dst=192.0.2.99 sport=40002 dport=80 src=192.0.2.20 dst=198.51.100.7 sport=8080 dport=40002 [ASSURED] mark=1 use=1',
      'udp      17 25 src=10.0.0.1 dst=10.0.0.2 sport=53 dport=53 src=10.0.0.2 dst=10.0.0.1 sport=53 dport=53 mark=0 use=1',
    ].join('\n');
    const { engine, plane } = planeWorld({ method: 'nat' }, {
      conntrack: (args) => {
        calls.push(args.join(' '));
        if (args[0] === '-R') batch = fs.readFileSync(args[1] as string, 'utf8');
        return Promise.resolve({ code: 0, stdout: args[0] === '-L' ? listing : '', stderr: '' });
      },
    });
    const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: ip('192.0.2.10'), port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
    engine.addDestination(svc, ip('192.0.2.20'), 8080, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    await plane.reconcile();
    assert.equal(await plane.pollSessions(), 1, 'only the entry of a service, DNATed to one of its real servers');
    assert.equal(engine.conns.lookup('tcp', ip('198.51.100.7'), 40001, '192.0.2.10', 80)?.daddr.text, '192.0.2.20');
    const problems = await plane.restoreSessions([
      { protocol: 'tcp', caddr: '198.51.100.7', cport: 40001, vaddr: '192.0.2.10', vport: 80, daddr: '192.0.2.20', dport: 8080, state: 'ESTABLISHED', template: false, remainingMs: 899_200 },
      { protocol: 'tcp', caddr: '198.51.100.8', cport: 40003, vaddr: '192.0.2.10', vport: 80, daddr: '192.0.2.20', dport: 8080, state: 'TIME_WAIT', template: false, remainingMs: 30_000 },
    ]);
    assert.deepEqual(problems, []);
    assert.deepEqual(calls, ['-L', '-L', `-R ${calls[2]?.split(' ')[1]}`]);
    assert.equal(
      batch,
      [
        '-D -p tcp -s 198.51.100.7 -d 192.0.2.10 --sport 40001 --dport 80',
        '-I -p tcp -s 198.51.100.7 -d 192.0.2.10 --sport 40001 --dport 80 --state ESTABLISHED -u SEEN_REPLY,ASSURED -t 900 --mark 1 --dst-nat 192.0.2.20:8080',
        '-I -p tcp -s 198.51.100.8 -d 192.0.2.10 --sport 40003 --dport 80 --state TIME_WAIT -u SEEN_REPLY,ASSURED -t 30 --mark 1 --dst-nat 192.0.2.20:8080',
        '',
      ].join('\n'),
      'a tuple the table already holds is deleted first: one failed line would stop the batch; each carries its server\'s mark here',
    );
    assert.ok(!fs.existsSync(calls[2]?.split(' ')[1] as string), 'the batch file is removed');
    // The real server leaves its service: its connections go with it (expire_nodest_conn).
    const rs2 = engine.addDestination(svc, ip('192.0.2.21'), 8080, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
    await plane.reconcile();
    engine.removeDestination(svc, svc.destinations.find((d) => d !== rs2) as (typeof svc.destinations)[number]);
    svc.editDestination(rs2, { forward: 'masq', weight: 0, upperThreshold: 0, lowerThreshold: 0 });
    await plane.reconcile();
    assert.deepEqual(calls.slice(3), ['-D --mark 1'], 'only the server that left; a quiescent one keeps its connections');
  });

  it('a batch nft refuses leaves the rules that were, and says so', async () => {
    const { plane, service } = setup(() => ({ method: 'nat' }), 'Error: syntax error');
    service(80, 'masq');
    assert.deepEqual(await plane.reconcile(), []);
    service(81, 'masq');
    assert.deepEqual(await plane.reconcile(), ['nftables refused the rules (the previous ones stay): Error: syntax error']);
  });
});
