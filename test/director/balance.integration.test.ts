// A director as its own process, real HTTP servers on loopback: traffic lands as IPVS's
// wrr says, a dead server leaves the table within delay_loop + connect_timeout and comes
// back when it recovers, and `hadirector ipvsadm` shows the counts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type http from 'node:http';
import { bin, closeServer, get, loopbackNet, nameServer, startDirector, waitFor, type RunningDirector } from '../support/director-process';

const net = loopbackNet();
const VIP = `${net}.10`;
const A = `${net}.11`;
const B = `${net}.12`;
const vport = 18080;
const rport = 8081;

const config = `
virtual_server ${VIP} ${vport} {
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server ${A} ${rport} {
        weight 3
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server ${B} ${rport} {
        weight 1
        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
            retry 0
        }
    }
}
`;

function tableServers(director: RunningDirector): Promise<string[]> {
  return director.ipvsadm('-L', '-n').then((r) => [...r.stdout.matchAll(/-> (\S+)\s+Masq/g)].map((m) => m[1] as string));
}

describe('a director balancing HTTP on loopback (integration)', function () {
  this.timeout(60_000);
  let director: RunningDirector;
  let serverA: http.Server;
  let serverB: http.Server | undefined;

  before(async () => {
    serverA = await nameServer(A, rport, 'A');
    serverB = await nameServer(B, rport, 'B');
    director = await startDirector(config);
  });

  after(async () => {
    await director?.stop();
    await closeServer(serverA);
    if (serverB !== undefined) await closeServer(serverB);
  });

  it('sends 400 requests exactly as IPVS wrr 3:1 does, and -L -n --stats shows them', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 400; i++) seen.push(await get(VIP, vport));
    // Real servers are added in file order (A at weight 3, then B at 1): wrr's current
    // weight is then 1, so the first round takes both (newest first), then 3:1 cycles.
    const expected = ['B', 'A', ...Array.from({ length: 100 }, () => ['A', 'A', 'B', 'A']).flat()].slice(0, 400);
    assert.deepEqual(seen, expected);
    const stats = await director.ipvsadm('-L', '-n', '--stats');
    assert.equal(stats.code, 0);
    assert.match(stats.stdout, new RegExp(`TCP  ${VIP.replace(/\./g, '\\.')}:${vport} +400 `));
    assert.match(stats.stdout, new RegExp(`-> ${A.replace(/\./g, '\\.')}:${rport} +300 `));
    assert.match(stats.stdout, new RegExp(`-> ${B.replace(/\./g, '\\.')}:${rport} +100 `));
  });

  it('prints the same through the hadirector ipvsadm command, with ipvsadm\'s exit codes', () => {
    const list = spawnSync(bin, ['ipvsadm', '--control', director.control, '-L', '-n'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^IP Virtual Server version 1\.2\.1 \(size=4096\)\nProt LocalAddress:Port Scheduler Flags\n/);
    assert.match(list.stdout, new RegExp(`TCP  ${VIP.replace(/\./g, '\\.')}:${vport} wrr\n`));
    const missing = spawnSync(bin, ['ipvsadm', '--control', director.control, '-D', '-t', `${VIP}:9`], { encoding: 'utf8', timeout: 20_000 });
    assert.deepEqual([missing.status, missing.stderr], [255, 'No such service\n']);
    const bad = spawnSync(bin, ['ipvsadm', '--control', director.control, '-a', '-t', `${VIP}:${vport}`, '-r', `${A}:80`, '-w', '70000'], { encoding: 'utf8', timeout: 20_000 });
    assert.deepEqual([bad.status, bad.stderr], [2, 'illegal weight specified\n']);
  });

  it('takes a dead real server out within delay_loop + connect_timeout, then no request fails; it comes back when it recovers', async () => {
    assert.ok(serverB !== undefined);
    await closeServer(serverB);
    serverB = undefined;
    const killedAt = Date.now();
    await waitFor('B to leave the table', async () => ((await tableServers(director)).includes(`${B}:${rport}`) ? undefined : true), 5000);
    const outAfterMs = Date.now() - killedAt;
    // delay_loop 1 s + connect_timeout 1 s, and the polling above.
    assert.ok(outAfterMs <= 2000 + 250, `out after ${outAfterMs} ms`);
    for (let i = 0; i < 40; i++) assert.equal(await get(VIP, vport), 'A');

    serverB = await nameServer(B, rport, 'B');
    await waitFor('B to come back', async () => ((await tableServers(director)).includes(`${B}:${rport}`) ? true : undefined), 5000);
    const after: string[] = [];
    for (let i = 0; i < 8; i++) after.push(await get(VIP, vport));
    assert.ok(after.includes('B'), after.join(' '));
    assert.ok(!after.some((b) => b.startsWith('error')), after.join(' '));
    const health = (await director.ask({ op: 'health' })) as Array<{ id: string; up: boolean }>;
    assert.deepEqual(health.map((h) => h.up), [true, true]);
  });
});
