import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ntpPacketBytes, parseSntpAnswer, querySntp } from '../../src/time/sntp';

const ntpEpochOffsetS = 2_208_988_800;

function ntpTime(buf: Buffer, at: number, unixMs: number): void {
  buf.writeUInt32BE(Math.floor(unixMs / 1000) + ntpEpochOffsetS, at);
  buf.writeUInt32BE(Math.floor(((unixMs % 1000) / 1000) * 2 ** 32), at + 4);
}

/** A request sent at `sentMs`, and a server answer to it. */
function exchange(sentMs: number, serverReceiveMs: number, serverTransmitMs: number, over: (answer: Buffer) => void = () => undefined) {
  const request = Buffer.alloc(ntpPacketBytes);
  request[0] = 0x23;
  ntpTime(request, 40, sentMs);
  const answer = Buffer.alloc(ntpPacketBytes);
  answer[0] = 0x24; // version 4, mode 4
  answer[1] = 2;
  request.copy(answer, 24, 40, 48);
  ntpTime(answer, 32, serverReceiveMs);
  ntpTime(answer, 40, serverTransmitMs);
  over(answer);
  return { request, answer };
}

describe('SNTP client (RFC 4330)', () => {
  it('reads the offset and delay from an answer', () => {
    // The server is 2 s ahead; 10 ms each way; it answers 1 ms after receiving.
    const { request, answer } = exchange(1_000_000, 1_002_010, 1_002_011);
    const r = parseSntpAnswer(answer, 1_000_000, request, 1_000_021);
    assert.ok(typeof r !== 'string');
    assert.ok(Math.abs(r.offsetMs - 2000) < 0.01, String(r.offsetMs));
    assert.ok(Math.abs(r.delayMs - 20) < 0.01, String(r.delayMs));
    assert.equal(r.stratum, 2);
  });

  it('believes no answer that fails the checks', () => {
    const sent = 1_000_000;
    const check = (over: (a: Buffer) => void, length = ntpPacketBytes) => {
      const { request, answer } = exchange(sent, sent + 5, sent + 6, over);
      return parseSntpAnswer(answer.subarray(0, length), sent, request, sent + 10);
    };
    assert.match(check(() => undefined, 47) as string, /47 bytes/);
    assert.match(check((a) => (a[0] = 0x23)) as string, /mode 3/);
    assert.match(check((a) => {
      a[1] = 0;
      a.write('RATE', 12, 'latin1');
    }) as string, /kiss-o'-death: RATE/);
    assert.match(check((a) => a.writeUInt32BE(1, 24)) as string, /does not echo/);
    assert.match(check((a) => a.fill(0, 40, 48)) as string, /no transmit time/);
  });

  describe('against chrony on a high port of loopback', function () {
    this.timeout(20_000);
    let chronyd: ChildProcess | undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-chrony-'));
    const port = 11100 + (process.pid % 100);

    before(async function () {
      if (!fs.existsSync('/usr/sbin/chronyd') || process.getuid?.() !== 0) {
        console.log('      (skipped: needs chronyd, from apt-get install chrony, and root)');
        this.skip();
      }
      fs.writeFileSync(
        path.join(dir, 'chrony.conf'),
        `port ${port}\nbindaddress 127.0.0.1\nlocal stratum 8\nallow 127.0.0.1\ncmdport 0\ndriftfile ${dir}/drift\npidfile ${dir}/chronyd.pid\n`,
      );
      chronyd = spawn('/usr/sbin/chronyd', ['-d', '-x', '-u', 'root', '-f', path.join(dir, 'chrony.conf')], { stdio: 'ignore' });
      // Bounded: chrony answers once it has bound its port.
      for (let i = 0; i < 100; i++) {
        const r = await querySntp('127.0.0.1', port, 100);
        if (!('error' in r)) return;
      }
      throw new Error('chronyd did not answer');
    });

    after(() => {
      chronyd?.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('finds this host within a few ms of the server that shares its clock', async () => {
      const r = await querySntp('127.0.0.1', port, 2000);
      assert.ok(!('error' in r), JSON.stringify(r));
      assert.ok(Math.abs(r.offsetMs) < 50, `offset ${r.offsetMs}`);
      assert.equal(r.stratum, 8);
    });

    it('finds a clock 2 s behind as 2 s behind', async () => {
      const r = await querySntp('127.0.0.1', port, 2000, () => Date.now() - 2000);
      assert.ok(!('error' in r), JSON.stringify(r));
      assert.ok(Math.abs(r.offsetMs - 2000) < 50, `offset ${r.offsetMs}`);
    });

    it('reports a server that does not answer', async () => {
      const r = await querySntp('127.0.0.1', port + 1, 300);
      assert.ok('error' in r);
    });
  });
});
