// `drill --no-fencing` switches fencing off in the drill's copy of the configuration:
// mode self_release wherever the block says a mode (or added after its brace), every
// device and level commented out, every other line where it was; the result loads
// without an error and fences no one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { fencingOff, withoutFencing } from '../../src/drill/no-fencing';
import { repoRoot } from '../support/paths';

describe('drill --no-fencing', () => {
  it('the lab file: mode self_release, no device, no level, the same number of lines, no error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-nofence-'));
    try {
      fs.cpSync(path.join(repoRoot(), 'config'), dir, { recursive: true });
      const file = path.join(dir, 'hadirector.conf');
      const before = fs.readFileSync(file, 'utf8');
      assert.equal(withoutFencing(file), undefined);
      const after = fs.readFileSync(file, 'utf8');
      assert.equal(after.split('\n').length, before.split('\n').length);
      for (const node of ['d1', 'd2', 'w1']) {
        const { config, errorCount } = loadConfig(file, { node });
        assert.equal(errorCount, 0);
        assert.equal(config.cluster?.fencing.mode, 'self_release');
        assert.deepEqual([config.cluster?.fencing.devices.length, config.cluster?.fencing.levels.length], [0, 0]);
        assert.equal(config.cluster?.nodes.length, 3, 'the rest of the cluster block is untouched');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a block on one line, a brace on the next line, a block with no mode', () => {
    assert.equal(fencingOff('cluster {\n  fencing { mode power }\n}\n', 2), 'cluster {\n  fencing { mode self_release }\n}\n');
    assert.equal(fencingOff('fencing\n{\n  delay_max 2s # why\n  level d1 1 x\n}\n', 1), 'fencing\n{ mode self_release\n  delay_max 2s # why\n# (drill --no-fencing)   level d1 1 x\n}\n');
    assert.equal(fencingOff('fencing {\n  device x { agent signal }\n  mode power\n}\n', 1), 'fencing { mode self_release\n# (drill --no-fencing)   device x { agent signal }\n  mode self_release\n}\n');
    assert.equal(fencingOff('fencing\n', 1), undefined);
  });

  it('a configuration with no fencing block says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-nofence-'));
    try {
      const file = path.join(dir, 'c.conf');
      fs.writeFileSync(file, 'vrrp_instance V {\n  interface lo\n  virtual_router_id 9\n}\n');
      assert.match(withoutFencing(file) ?? '', /has no fencing block to switch off/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
