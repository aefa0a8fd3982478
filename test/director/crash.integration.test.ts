// A broken invariant on a running director (a bug): it logs it with its code, lets its
// VIPs go with priority 0, so the backup takes over at once rather than after deadtime,
// and exits 70. The bug is planted by a module loaded into that director alone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { crashExitCode } from '../../src/cli/run';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { directorsAndWitness, loopbackInstance } from '../support/cluster-config';
import { loopbackNet, waitFor } from '../support/director-process';

const lan = loopbackNet();
const port = 16700 + (process.pid % 50);
const config = `
${directorsAndWitness({ clusterId: 'crash', lan, port, heartbeat: '500ms', deadtime: '2s' })}${loopbackInstance(52, `${lan}.100`)}`;

describe('a director that finds an invariant broken (integration)', function () {
  this.timeout(60_000);

  it('logs HAD_INVARIANT, lets its VIPs go with priority 0 (the backup takes over within its skew time), and exits 70', async () => {
    const lab = new ClusterLab(config);
    const trigger = path.join(lab.dir, 'break');
    const breaker = path.resolve(__dirname, '..', 'support', 'invariant-breaker.js');
    try {
      lab.start('d1', ['env', `NODE_OPTIONS=--require ${breaker}`, `HADIRECTOR_TEST_BREAK_FILE=${trigger}`]);
      lab.start('d2');
      lab.start('w1');
      const state = async (n: string) => (await lab.instances(n))?.get('VI_1')?.split(' ')[1];
      await waitFor('d1 to be master', async () => ((await state('d1')) === 'master' ? true : undefined), 20_000, 50);
      await waitFor('d2 to be backup', async () => ((await state('d2')) === 'backup' ? true : undefined), 10_000, 50);
      const exit = lab.exited('d1');
      const brokenAt = Date.now();
      fs.writeFileSync(trigger, '');
      assert.equal(await exit, crashExitCode);
      await waitFor('d2 to be master', async () => ((await state('d2')) === 'master' ? true : undefined), 10_000, 10);
      const tookMs = Date.now() - brokenAt;
      assert.match(lab.log('d1'), /invariant broken: broken on purpose by the crash test: letting the VIPs go and exiting .*"code":"HAD_INVARIANT"/);
      assert.match(lab.log('d2'), /VI_1: BACKUP -> MASTER: no advert for \d{1,3} ms/, 'the skew time after priority 0, not Master_Down');
      console.log(`      (d2 master ${tookMs} ms after the bug; Master_Down_Interval 3609 ms)`);
    } finally {
      await lab.stop();
    }
  });
});
