// `ipvsadm -S` fed to `ipvsadm -R` rebuilds the same table, over random tables.
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/common/rng';
import type { IpvsEngine } from '../../src/ipvs/engine';
import { serviceKeyText } from '../../src/ipvs/service';
import { IpvsadmSession } from './ipvsadm-session';

const schedulers = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;

/** Everything the table holds that -S should carry, in an order-free form. */
function snapshot(engine: IpvsEngine): unknown[] {
  return engine
    .listServices()
    .map((svc) => ({
      key: serviceKeyText(svc.key),
      scheduler: svc.settings.scheduler,
      flags: svc.settings.flags,
      onePacket: svc.settings.onePacket,
      persistence: svc.settings.persistenceS ?? null,
      netmask: svc.settings.netmask?.text ?? null,
      dests: svc.destinations
        .map((d) => ({ key: d.key, forward: d.forward, weight: d.weight, upper: d.upperThreshold, lower: d.lowerThreshold, tunnel: d.forward === 'tunnel' ? d.tunnel : null }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** ipvsadm commands that build a random table, each one ipvsadm accepts. */
function randomTable(rng: SeededRng): string[] {
  const pick = <T>(items: readonly T[]): T => items[rng.below(items.length)] as T;
  const lines: string[] = [];
  const services = 1 + rng.below(6);
  const used = new Set<string>();
  for (let i = 0; i < services; i++) {
    const kind = pick(['tcp', 'udp', 'fwmark', 'tcp6'] as const);
    const v6 = kind === 'tcp6' || (kind === 'fwmark' && rng.below(2) === 0);
    const port = 1 + rng.below(65535);
    const svc =
      kind === 'fwmark' ? `-f ${1 + rng.below(1000)}${v6 ? ' -6' : ''}` : kind === 'tcp6' ? `-t [2001:db8::${(i + 1).toString(16)}]:${port}` : `-${kind[0]} 10.1.${i}.${1 + rng.below(254)}:${port}`;
    if (used.has(svc)) continue;
    used.add(svc);
    const sched = pick(schedulers);
    let add = `-A ${svc} -s ${sched}`;
    if (rng.below(3) === 0) add += ` -p ${1 + rng.below(3600)}${!v6 && rng.below(2) === 0 ? ` -M 255.255.${pick([0, 128, 240, 255])}.0` : ''}`;
    if (kind === 'udp' && rng.below(3) === 0) add += ' -o';
    if (sched === 'sh' || sched === 'mh') add += rng.below(2) === 0 ? ` -b ${sched}-port` : ` -b ${sched}-fallback,${sched}-port`;
    lines.push(add);
    const dests = rng.below(6);
    for (let j = 0; j < dests; j++) {
      const forward = pick(['-m', '-g', '-i'] as const);
      const addr = v6 ? `2001:db8:1::${(j + 1).toString(16)}` : `192.168.${i}.${j + 1}`;
      const destPort = forward === '-m' || kind === 'fwmark' ? `:${1 + rng.below(65535)}` : '';
      const real = v6 ? (destPort === '' ? addr : `[${addr}]${destPort}`) : `${addr}${destPort}`;
      let line = `-a ${svc} -r ${real} ${forward} -w ${pick([0, 1, 3, 100, 65535])}`;
      if (rng.below(3) === 0) {
        const upper = 1 + rng.below(10_000);
        line += ` -x ${upper} -y ${rng.below(upper + 1)}`;
      }
      if (forward === '-i') line += pick(['', ' --tun-type ipip', ` --tun-type gue --tun-port ${1 + rng.below(65535)} --tun-csum`, ' --tun-type gre --tun-nocsum']);
      lines.push(line);
    }
  }
  return lines;
}

describe('ipvsadm -S then -R', () => {
  it('rebuilds an identical table, over 300 random tables, with -n and with names', () => {
    const rng = new SeededRng(20261201);
    for (let round = 0; round < 300; round++) {
      const original = new IpvsadmSession();
      original.setup(...randomTable(rng));
      for (const save of ['-S -n', '-S']) {
        const rules = original.out(save);
        const restored = new IpvsadmSession();
        const r = restored.run('-R', rules);
        assert.deepEqual([r.code, r.stderr], [0, ''], `round ${round} ${save}:\n${rules}`);
        assert.deepEqual(snapshot(restored.engine), snapshot(original.engine), `round ${round} ${save}:\n${rules}`);
        assert.equal(restored.out(save), rules);
      }
    }
  });

  it('keeps thresholds, which ipvsadm 1.31 itself leaves out of -S', () => {
    const s = new IpvsadmSession();
    s.setup('-A -t 10.0.0.1:80 -s wlc', '-a -t 10.0.0.1:80 -r 10.0.0.2 -g -w 2 -x 100 -y 60', '-a -t 10.0.0.1:80 -r 10.0.0.3 -g');
    assert.equal(s.out('-S -n'), '-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 2 -x 100 -y 60\n-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1\n');
  });

  it('goes on past a line the kernel refuses, and stops at one ipvsadm cannot parse', () => {
    const s = new IpvsadmSession();
    const r = s.run('-R', '-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2\n-a -t 10.0.0.1:80 -r 10.0.0.3 -w 70000\n-a -t 10.0.0.1:80 -r 10.0.0.4\n');
    assert.equal(r.stderr, 'Service already exists\nillegal weight specified\n');
    assert.equal(r.code, 2);
    assert.deepEqual(
      s.engine.listServices()[0]?.destinations.map((d) => d.address.text),
      ['10.0.0.2'],
    );
  });
});
