// Failover on loopback: two directors and a witness as `hadirector run` processes, one
// VIP whose virtual service only its master serves, a client probing it every 10 ms.
// kill -9 of the master costs at most Master_Down_Interval + 10 %; a clean stop the skew
// time + 10 %; the old master's return takes the VIP back with a gap under one advert.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { directorsAndWitness, loopbackInstance } from '../support/cluster-config';
import { closeServer, get, loopbackNet, nameServer, waitFor } from '../support/director-process';

const lan = loopbackNet();
const port = 16300 + (process.pid % 50);
const VIP = `${lan}.100`;
const RS = `${lan}.101`;
const vport = 18300;
const advertMs = 1000;

const config = `
${directorsAndWitness({ clusterId: 'failover', lan, port, heartbeat: '500ms', deadtime: '2s' })}${loopbackInstance(51, VIP)}virtual_server ${VIP} ${vport} {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server ${RS} 8080 {
        weight 1
    }
}
`;

/** Probes the VIP every 10 ms; the longest run of failures, in ms, and who answered. */
class Prober {
  private running = true;
  private failingSince: number | undefined;
  longestOutageMs = 0;
  ok = 0;
  failed = 0;
  readonly done: Promise<void>;

  constructor() {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    for (let n = 0; this.running && n < 10_000; n++) {
      const started = Date.now();
      const answer = await get(VIP, vport, 500);
      const now = Date.now();
      if (answer === 'rs') {
        this.ok++;
        if (this.failingSince !== undefined) this.longestOutageMs = Math.max(this.longestOutageMs, now - this.failingSince);
        this.failingSince = undefined;
      } else {
        this.failed++;
        this.failingSince ??= started;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - (Date.now() - started))));
    }
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.done;
    return this.longestOutageMs;
  }
}

describe('VRRP failover on loopback (integration)', function () {
  this.timeout(90_000);
  const lab = new ClusterLab(config);
  let server: http.Server;

  before(async () => {
    server = await nameServer(RS, 8080, 'rs');
    for (const n of ['d1', 'd2', 'w1']) lab.start(n);
    await waitFor('the VIP to answer', async () => ((await get(VIP, vport, 300)) === 'rs' ? true : undefined), 20_000, 50);
  });

  after(async () => {
    await lab.stop();
    await closeServer(server);
  });

  it('kill -9 of the master: the backup serves within Master_Down_Interval + 10 %', async () => {
    const probe = new Prober();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lab.kill9('d1');
    await waitFor('the VIP back', async () => ((await get(VIP, vport, 300)) === 'rs' ? true : undefined), 10_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const outage = await probe.stop();
    const mdi = 3 * advertMs + ((256 - 100) * advertMs) / 256;
    console.log(`      (kill -9: outage ${outage} ms; Master_Down_Interval ${mdi} ms)`);
    assert.ok(outage <= mdi * 1.1, `outage ${outage} ms`);
    assert.match(lab.log('d2'), /VI_1: BACKUP -> MASTER/);
  });

  it('the old master comes back and takes over again, with no gap longer than one advert', async () => {
    const probe = new Prober();
    lab.start('d1');
    await waitFor('d1 to be master again', () => (/VI_1: BACKUP -> MASTER/.test(lab.log('d1')) ? true : undefined), 20_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const gap = await probe.stop();
    console.log(`      (return of d1: longest gap ${gap} ms)`);
    assert.ok(gap <= advertMs, `gap ${gap} ms`);
    assert.match(lab.log('d2'), /VI_1: MASTER -> BACKUP: handing over to d1/);
  });

  it('SIGTERM of the master: the backup serves within the skew time + 10 %', async () => {
    const probe = new Prober();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lab.term('d1');
    await waitFor('the VIP back', async () => ((await get(VIP, vport, 300)) === 'rs' ? true : undefined), 10_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const outage = await probe.stop();
    const skew = ((256 - 100) * advertMs) / 256;
    console.log(`      (SIGTERM: outage ${outage} ms; skew ${skew} ms)`);
    assert.ok(outage <= skew * 1.1, `outage ${outage} ms`);
  });
});
