import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { controlRequest } from '../../src/director/control-client';
import { hostMark } from '../../src/lab/lab';
import { bin, waitFor } from '../support/director-process';

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
    assert.match(last, /^VIP 127\.0\.0\.100:5300 UDP: real server 127\.0\.0\.2[12]:530[12] \(\d+ ms\)$/m);
    // The probes' connections on d1, copied by d2.
    const d1Entries = /^d1: .* \| (\d+) connection entries/m.exec(last)?.[1];
    assert.ok(Number(d1Entries) > 0, last);
    assert.match(last, new RegExp(`^d2: .* \\| copy of d1: ${d1Entries} entries, in sync$`, 'm'));
    const dir = /lab: stopped; the nodes' logs stay in (\S+)\n$/.exec(r.stdout)?.[1];
    assert.ok(dir !== undefined && fs.existsSync(`${dir}/d1.log`), r.stdout.slice(-200));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const signal of ['SIGSTOP', 'SIGKILL'] as const) {
    it(`${signal === 'SIGSTOP' ? 'a frozen master (kill -STOP)' : 'a killed master (kill -9)'} is fenced by the signal agent before the backup takes the VIP`, async () => {
      const lab = spawn(bin, ['lab', '--duration', '25'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      lab.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => lab.once('exit', resolve));
      try {
        await waitFor('d1 to be master', () => (/^d1: .*VI_WEB MASTER/m.test(out.split('--- ').at(-1) ?? '') ? true : undefined), 20_000, 100);
        const pid = Number(fs.readFileSync('/tmp/hadirector-lab/d1.pid', 'utf8'));
        process.kill(pid, signal);
        await waitFor('d2 to serve, d1 fenced', () => {
          const last = out.split('--- ').at(-1) ?? '';
          return /^d2: .*DC d2 \| VI_WEB MASTER \| d1 fenced/m.test(last) && /^d1: not answering$/m.test(last) ? true : undefined;
        }, 20_000, 100);
        assert.throws(() => process.kill(pid, 0), /ESRCH/, 'd1 is gone');
        assert.match(out.split('--- ').at(-1) ?? '', /^VIP 127\.0\.0\.100:8080: real server /m);
      } finally {
        lab.kill('SIGINT');
        await exited;
        const dir = /logs and control sockets in (\S+);/.exec(out)?.[1];
        if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('SIGTERM of the master: the backup takes the VIP, no one fences it, and no log has an error', async () => {
    const lab = spawn(bin, ['lab', '--duration', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    lab.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => lab.once('exit', resolve));
    let dir: string | undefined;
    try {
      await waitFor('d1 to be master', () => (/^d1: .*VI_WEB MASTER/m.test(out.split('--- ').at(-1) ?? '') ? true : undefined), 20_000, 100);
      dir = /logs and control sockets in (\S+);/.exec(out)?.[1];
      const pid = Number(fs.readFileSync('/tmp/hadirector-lab/d1.pid', 'utf8'));
      process.kill(pid, 'SIGTERM');
      await waitFor('d2 to serve, d1 gone', () => {
        const last = out.split('--- ').at(-1) ?? '';
        return /^d2: .*VI_WEB MASTER/m.test(last) && /^d1: not answering$/m.test(last) ? true : undefined;
      }, 20_000, 100);
      // Past deadtime and the longest race delay of the lab's config: a fence would have started by now.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      const history = await controlRequest(`${dir ?? ''}/d2.sock`, { op: 'fence', action: 'history' }, 2000);
      assert.deepEqual(history, { ok: true, result: [] }, 'no entry in the fence history');
      assert.doesNotMatch(out.split('--- ').at(-1) ?? '', /fenced|fencing/);
      assert.match(out.split('--- ').at(-1) ?? '', /^VIP 127\.0\.0\.100:8080: real server /m);
    } finally {
      lab.kill('SIGINT');
      await exited;
    }
    assert.ok(dir !== undefined, out.slice(0, 400));
    const logs: string = dir;
    for (const node of ['d1', 'd2', 'w1']) {
      const lines: string[] = fs.readFileSync(`${logs}/${node}.log`, 'utf8').split('\n');
      assert.deepEqual(lines.filter((line) => / error /.test(line.slice(0, 40))), [], `${node}.log`);
    }
    fs.rmSync(logs, { recursive: true, force: true });
  });
});

describe("the lab's mark for a node's host", () => {
  it('says nothing of a green host; names the colour, the facts off green and a hold still running', () => {
    assert.equal(hostMark(undefined), '');
    assert.equal(hostMark({ colour: 'green', fault: false, reasons: [], facts: [{ fact: 'memory', colour: 'green', value: 40 }] }), '');
    assert.equal(hostMark({ colour: 'red', fault: true, reasons: ['memory red 95'], facts: [{ fact: 'memory', colour: 'red', value: 95.4 }, { fact: 'cpu', value: 3 }] }), ' | host RED (memory red 95)');
    assert.equal(hostMark({ colour: 'green', fault: true, reasons: [], heldUntil: '2026-12-07T21:50:10.000Z', facts: [] }), ' | host GREEN, held until 21:50:10');
  });
});
