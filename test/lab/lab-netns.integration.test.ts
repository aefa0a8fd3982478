// `hadirector lab --netns` (root): the sample configuration in network namespaces on the
// kernel plane, run as the operator runs it, for a few seconds. Both directors come up
// on the kernel plane, d1 master; the web service by LVS-NAT (its persistent clients
// each from an address of their own), the UDP service by NAT and the DR twin the lab
// adds are each answered by both real servers; and once it exits, no namespace of its
// prefix is left.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { nftUnavailable } from '../../src/common/nft';
import { netnsUnavailable } from '../../src/lab/netns';
import { bin } from '../support/director-process';

const durationS = 16;
const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.length > 0);

/** The real servers that answered a service in any round. */
function answeredBy(out: string, service: string): Set<string> {
  const line = new RegExp(`^VIP ${service.replace(/\./g, '\\.')}: real server (\\S+) \\(\\d+ ms\\)`, 'gm');
  return new Set([...out.matchAll(line)].map((m) => m[1] as string));
}

describe('hadirector lab --netns (integration, network namespaces, root)', function () {
  this.timeout(60_000);

  before(function () {
    const why = netnsUnavailable() ?? nftUnavailable('the kernel plane is nftables rules');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
  });

  it('runs the sample on the kernel plane: NAT, UDP and the DR twin each answered by both real servers, and leaves no namespace', () => {
    const started = performance.now();
    const r = spawnSync(bin, ['lab', '--netns', '--duration', String(durationS)], { encoding: 'utf8', timeout: 50_000 });
    const tookMs = performance.now() - started;
    const dir = /rewritten configuration in (\S+);/.exec(r.stdout)?.[1];
    try {
      assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr}`);
      const [first = ''] = r.stdout.split('\n');
      assert.match(first, /data plane kernel \(nftables\); the lab adds an LVS-DR twin of 10\.227\.0\.100:8080 on port 8081 and the NAT real servers' gateway 10\.227\.0\.254 to VI_WEB;/);
      const prefix = /in network namespaces (hd\d+)-\* on 10\.227\.0\.0\/24/.exec(first)?.[1];
      assert.ok(prefix !== undefined, first);

      const last = r.stdout.split('--- ').at(-1) ?? '';
      assert.match(last, /^d1: view \d+ \[d1,d2,w1\] quorate, DC d1 \| VI_WEB MASTER \| kernel plane \| \d+ connection entries/m);
      assert.match(last, /^d2: view \d+ \[d1,d2,w1\] quorate, DC d1 \| VI_WEB BACKUP .*\| kernel plane \| /m);
      assert.doesNotMatch(last, /^VIP .*DOWN/m, 'every service answers in the last round');

      const nat = answeredBy(r.stdout, '10.227.0.100:8080 NAT');
      const udp = answeredBy(r.stdout, '10.227.0.100:5300 UDP NAT');
      const dr = answeredBy(r.stdout, '10.227.0.100:8081 DR');
      assert.deepEqual([...nat].sort(), ['10.227.0.21:8081', '10.227.0.22:8082'], 'NAT: both real servers');
      assert.deepEqual([...udp].sort(), ['10.227.0.21:5301', '10.227.0.22:5302'], 'UDP by NAT: both real servers');
      assert.deepEqual([...dr].sort(), ['10.227.0.21:8081', '10.227.0.22:8081'], 'DR: both real servers');

      assert.match(r.stdout, /lab: stopped, its namespaces removed; /);
      assert.deepEqual(namespaces().filter((n) => n.startsWith(`${prefix}-`)), [], 'no namespace of the lab left');
      const rounds = r.stdout.split('--- ').length - 1;
      console.log(`      (${rounds} rounds in ${Math.round(tookMs)} ms; NAT ${[...nat].join(', ')}; DR ${[...dr].join(', ')})`);
    } finally {
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
