// The director's health → table path on virtual time: real servers leave and return, the
// sorry server takes over below quorum, the notify scripts run, and omega at shutdown.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualClock } from '../../src/common/clock';
import { silentLogger } from '../../src/common/log';
import { SeededRng } from '../../src/common/rng';
import { loadConfig } from '../../src/config/load';
import { Director } from '../../src/director/director';
import { loopbackNet, waitFor } from '../support/director-process';
import { runVirtual as run } from '../support/virtual-time';


describe('director: health checks drive the table', function () {
  this.timeout(20_000);

  it('removes a failed server, serves the sorry server below quorum, runs the notifiers, and omega at shutdown', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-pool-'));
    const lan = loopbackNet();
    const events = path.join(dir, 'events');
    const note = (what: string) => `"/bin/sh -c 'echo ${what} >> ${events}'"`;
    const file = path.join(dir, 'p.conf');
    fs.writeFileSync(
      file,
      `virtual_server ${lan}.60 18061 {
    protocol TCP
    lb_algo rr
    delay_loop 2
    quorum 2
    omega
    quorum_up ${note('quorum-up')}
    quorum_down ${note('quorum-down')}
    sorry_server ${lan}.69 8080
    real_server ${lan}.61 8080 {
        weight 1
        notify_up ${note('up-a')}
        notify_down ${note('down-a')}
        TCP_CHECK {
            retry 0
        }
    }
    real_server ${lan}.62 8080 {
        weight 1
        notify_up ${note('up-b')}
        notify_down ${note('down-b')}
        TCP_CHECK {
            retry 0
        }
    }
}
`,
    );
    const loaded = loadConfig(file, { node: 'p1' });
    assert.equal(loaded.errorCount, 0, JSON.stringify(loaded.diagnostics));
    const clock = new VirtualClock();
    const healthy = new Map([[`${lan}.61`, true], [`${lan}.62`, true]]);
    const director = await Director.start({
      config: loaded.config,
      configFile: file,
      controlPath: path.join(dir, 'p1.sock'),
      log: silentLogger(),
      clock,
      rng: new SeededRng(1),
      drainMs: 0,
      probeFor: (_checker, target) => () => Promise.resolve(healthy.get(target.address) === true ? { ok: true } : { ok: false, reason: 'refused' }),
    });
    const table = () => director.ipvsadm(['-S', '-n']).stdout.split('\n').filter((l) => l.startsWith('-a')).map((l) => l.split(' ')[4]);
    const lines = () => (fs.existsSync(events) ? fs.readFileSync(events, 'utf8').trim().split('\n') : []);
    try {
      await run(clock, 3000);
      assert.deepEqual(table(), [`${lan}.61:8080`, `${lan}.62:8080`]);
      healthy.set(`${lan}.62`, false);
      await run(clock, 2500);
      assert.deepEqual(table(), [`${lan}.69:8080`], 'one server left is below quorum 2: the sorry server serves');
      await waitFor('down-b and quorum-down', () => (lines().includes('down-b') && lines().includes('quorum-down') ? true : undefined), 5000);
      healthy.set(`${lan}.62`, true);
      await run(clock, 2500);
      assert.deepEqual(table(), [`${lan}.61:8080`, `${lan}.62:8080`]);
      await waitFor('up-b and quorum-up', () => (lines().includes('up-b') && lines().includes('quorum-up') ? true : undefined), 5000);
    } finally {
      await director.stop();
    }
    await waitFor('omega: down-a, down-b and quorum-down again', () => {
      const l = lines();
      return l.filter((x) => x === 'down-b').length === 2 && l.includes('down-a') && l.filter((x) => x === 'quorum-down').length === 2 ? true : undefined;
    }, 5000);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
