import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/common/log';
import { loadConfig } from '../../src/config/load';
import { Director } from '../../src/director/director';
import { loopbackNet } from '../support/director-process';
import { repoRoot } from '../support/paths';

describe('a witness node', function () {
  this.timeout(20_000);

  it('votes but runs none of the virtual servers, and may hold no VIP', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-witness-'));
    const lan = loopbackNet();
    fs.copyFileSync(path.join(repoRoot(), 'config', 'cluster.key'), path.join(dir, 'cluster.key'));
    const file = path.join(dir, 'w.conf');
    fs.writeFileSync(
      file,
      `cluster {\n  auth_key_file cluster.key\n  port 16399\n  node d1 {\n    address ${lan}.41\n  }\n  node d2 {\n    address ${lan}.42\n  }\n  node w1 {\n    address ${lan}.43\n    witness\n  }\n}\n` +
        `virtual_server ${lan}.40 18099 {\n  protocol TCP\n  real_server ${lan}.44 80 {\n    weight 1\n  }\n}\n`,
    );
    const loaded = loadConfig(file, { node: 'w1' });
    assert.equal(loaded.errorCount, 0, JSON.stringify(loaded.diagnostics));
    const director = await Director.start({ config: loaded.config, configFile: file, controlPath: path.join(dir, 'w1.sock'), log: silentLogger(), drainMs: 0 });
    try {
      const status = director.status() as { services: unknown[]; vips: string; cluster: { view: { members: string[] } } };
      assert.deepEqual(status.services, []);
      assert.equal(status.vips, 'release');
      assert.deepEqual(status.cluster.view.members, ['w1']);
      assert.equal(director.engine.listServices().length, 0);
    } finally {
      await director.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
