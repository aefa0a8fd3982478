import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { bin } from '../support/director-process';

describe('hadirector lab (the loopback cluster of config/hadirector.conf)', function () {
  this.timeout(60_000);

  it('runs every node and the real servers, elects a master for the VIP, serves it, and stops cleanly', () => {
    const r = spawnSync(bin, ['lab', '--duration', '8'], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    const last = r.stdout.split('--- ').at(-1) ?? '';
    assert.match(last, /^d1: view \d+ \[d1,d2,w1\] quorate, DC d1 \| VI_WEB MASTER/m);
    assert.match(last, /^d2: view \d+ \[d1,d2,w1\] quorate, DC d1 \| VI_WEB BACKUP/m);
    assert.match(last, /^w1: view \d+ \[d1,d2,w1\] quorate, DC d1 \|/m);
    assert.match(last, /^VIP 127\.0\.0\.100:8080: real server 127\.0\.0\.2[12]:808[12] \(\d+ ms\)$/m);
    assert.match(r.stdout, /lab: stopped\n$/);
  });
});
