// The systemd unit that ships in packaging/: what it promises (reload by SIGHUP, restart on
// failure, the capabilities a director needs and no more), flags `run` knows, and a unit
// systemd accepts (systemd-analyze verify, where systemd is installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/paths';

const unitPath = path.join(repoRoot(), 'packaging', 'systemd', 'hadirector.service');
const unit = fs.readFileSync(unitPath, 'utf8');
const setting = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];

describe('the systemd unit (packaging/systemd/hadirector.service)', () => {
  it('reloads with SIGHUP, restarts on failure, and is bounded to the capabilities a director uses', () => {
    assert.equal(setting('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(setting('Restart'), 'on-failure');
    assert.match(setting('Type') ?? '', /^(exec|notify)$/);
    const caps = (setting('CapabilityBoundingSet') ?? '').split(/\s+/);
    for (const needed of ['CAP_NET_ADMIN', 'CAP_NET_RAW']) assert.ok(caps.includes(needed), needed);
    assert.ok(!caps.includes('CAP_SYS_ADMIN'), 'not full root');
  });

  it('starts `hadirector run` with flags run knows', () => {
    const start = (setting('ExecStart') ?? '').split(/\s+/);
    assert.equal(start[1], 'run');
    const help = spawnSync(path.join(repoRoot(), 'bin', 'hadirector'), ['run', '--help'], { encoding: 'utf8' }).stdout;
    for (const flag of start.filter((w) => w.startsWith('-'))) assert.ok(help.includes(flag), `run --help lists ${flag}`);
  });

  it('is accepted by systemd-analyze verify', function () {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) {
      console.log('      (skipped: needs systemd-analyze)');
      this.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-unit-'));
    try {
      const copy = path.join(dir, 'hadirector.service');
      fs.writeFileSync(copy, unit.replace('/usr/local/bin/hadirector', path.join(repoRoot(), 'bin', 'hadirector')));
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
