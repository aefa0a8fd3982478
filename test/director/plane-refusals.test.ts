// A director whose plane cannot carry every virtual server runs the rest: without root
// (the userspace relay) a DR service and a fwmark service are left out, each said once at
// its place with the reason, and the NAT service is served.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/common/log';
import { loadConfig } from '../../src/config/load';
import { Director } from '../../src/director/director';
import { serviceDisplayName } from '../../src/ipvs/service';
import { loopbackNet } from '../support/director-process';

describe('a director leaves out what its plane cannot carry, and runs the rest', function () {
  this.timeout(20_000);

  it('without root: the NAT service runs; the DR and fwmark services are named at their place and left out', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-refusals-'));
    const lan = loopbackNet();
    const file = path.join(dir, 'keepalived.conf');
    fs.writeFileSync(
      file,
      [
        `virtual_server ${lan}.60 18131 {`,
        '    protocol TCP',
        '    lb_kind NAT',
        `    real_server ${lan}.61 80 {`,
        '        weight 1',
        '    }',
        '}',
        `virtual_server ${lan}.60 18132 {`,
        '    protocol TCP',
        '    lb_kind DR',
        `    real_server ${lan}.61 18132 {`,
        '        weight 1',
        '    }',
        '}',
        'virtual_server fwmark 7 {',
        '    lb_kind NAT',
        `    real_server ${lan}.61 80 {`,
        '        weight 1',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
    const loaded = loadConfig(file, { node: 'd' });
    assert.equal(loaded.errorCount, 0, JSON.stringify(loaded.diagnostics));
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter((l) => l !== '')));
    const log = createLogger({ level: 'info', format: 'json', stream });
    const director = await Director.start({ config: loaded.config, configFile: file, controlPath: path.join(dir, 'd.sock'), log, drainMs: 0, root: false, hostPlane: { root: false } });
    try {
      assert.deepEqual(director.engine.listServices().map((s) => serviceDisplayName(s.key)), [`TCP ${lan}.60:18131`]);
      const refused = lines.map((l) => JSON.parse(l) as { code?: string; message: string }).filter((l) => l.code === 'HAD_PLANE_REFUSED').map((l) => l.message);
      assert.equal(refused.length, 2, lines.join('\n'));
      assert.match(refused[0] ?? '', new RegExp(`keepalived\\.conf:11:5: real server ${lan.replace(/\./g, '\\.')}\\.61:18132 of TCP .* uses direct routing \\(DR, -g\\), which needs the kernel data plane.*: not run on the userspace plane$`));
      assert.match(refused[1] ?? '', /keepalived\.conf:15:1: fwmark service 7 needs the kernel data plane.*: not run on the userspace plane$/);
    } finally {
      await director.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
