// A director on the kernel's own IPVS (the ipvs plane), with the kernel played by the
// ipvsadm emulation: the table it programs equals its engine's, services it does not own
// are left alone (unless lvs_flush), a reload's change reaches the kernel, stop takes its
// services away; and which VRRP instance leads the sync daemon.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/common/log';
import { Director } from '../../src/director/director';
import { syncDaemonFollows } from '../../src/director/sync-daemon-follows';
import { loadText } from '../config/load-text';
import { EmulatedKernel, saveOf } from '../ipvs/emulated-kernel';

const services = (weight: number): string => `
virtual_server 192.0.2.10 80 {
    lb_algo wrr
    lb_kind DR
    persistence_timeout 60
    real_server 192.0.2.21 80 {
        weight ${weight}
    }
    real_server 192.0.2.22 80 {
        weight 1
    }
}
virtual_server fwmark 7 {
    lb_algo sh
    lb_kind TUN
    real_server 192.0.2.31 0 {
        weight 1
    }
}
`;

const foreign = '-A -t 198.51.100.1:443 -s rr';

describe('a director on the IPVS plane (ipvsadm into the emulation)', function () {
  this.timeout(20_000);

  async function start(text: string, kernel: EmulatedKernel): Promise<{ director: Director; dir: string }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-ipvs-'));
    const loaded = loadText(text);
    assert.equal(loaded.errorCount, 0, JSON.stringify(loaded.diagnostics));
    const director = await Director.start({
      config: loaded.config,
      configFile: path.join(dir, 'keepalived.conf'),
      controlPath: path.join(dir, 'd.sock'),
      log: silentLogger(),
      drainMs: 0,
      root: false,
      hostPlane: { root: true, offer: { missing: new Map() } },
      ipvsadm: kernel.run,
    });
    return { director, dir };
  }

  it('programs its services (DR, TUN, fwmark, persistence), leaves others\' alone, follows a reload, and takes its own away at stop', async () => {
    const kernel = new EmulatedKernel();
    kernel.session.run(foreign);
    // A previous run's service under a configured key, with a server no longer configured.
    kernel.session.run('-A -t 192.0.2.10:80 -s rr');
    kernel.session.run('-a -t 192.0.2.10:80 -r 192.0.2.99:80 -g -w 5');
    const { director, dir } = await start(services(2), kernel);
    const ours = (): string => kernel.save().split('\n').filter((l) => !l.includes('198.51.100.1')).join('\n');
    try {
      assert.equal((director.status() as { dataPlane: string }).dataPlane, 'ipvs');
      assert.equal(ours(), saveOf(director.engine), 'the kernel holds the engine\'s table');
      assert.match(ours(), /-a -t 192\.0\.2\.10:80 -r 192\.0\.2\.21:80 -g -w 2/);
      assert.match(ours(), /-A -f 7 -s sh\n-a -f 7 -r 192\.0\.2\.31:0 -i -w 1/);
      assert.doesNotMatch(ours(), /192\.0\.2\.99/, 'the leftover server is gone');
      assert.match(kernel.save(), /-A -t 198\.51\.100\.1:443 -s rr/, 'a service it does not own stays');
      const reloaded = loadText(services(5));
      assert.deepEqual(await director.reload(reloaded.config), []);
      assert.match(kernel.save(), /-a -t 192\.0\.2\.10:80 -r 192\.0\.2\.21:80 -g -w 5/, 'the reload\'s weight is in the kernel');
      assert.equal(ours(), saveOf(director.engine));
    } finally {
      await director.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(kernel.save(), `${foreign}\n`, 'stop leaves only the service it did not own');
  });

  it('lvs_flush clears the whole table at start, as keepalived does', async () => {
    const kernel = new EmulatedKernel();
    kernel.session.run(foreign);
    const { director, dir } = await start(`global_defs {\n    lvs_flush\n}\n${services(1)}`, kernel);
    try {
      assert.doesNotMatch(kernel.save(), /198\.51\.100\.1/);
      assert.equal(kernel.save(), saveOf(director.engine));
    } finally {
      await director.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the sync daemon follows the instance lvs_sync_daemon names, with its VRID as sync id unless id says', () => {
    const instance = (name: string, vrid: number, iface: string, extra = ''): string =>
      `vrrp_instance ${name} {\n    interface ${iface}\n    virtual_router_id ${vrid}\n    priority 100\n${extra}    virtual_ipaddress {\n        192.0.2.${vrid}/24\n    }\n}\n`;
    const follows = (text: string) => {
      const loaded = loadText(text);
      assert.equal(loaded.errorCount, 0, JSON.stringify(loaded.diagnostics));
      const r = syncDaemonFollows(loaded.config);
      return { follows: Object.fromEntries(r.follows), problems: r.problems };
    };
    assert.deepEqual(follows(`global_defs {\n    lvs_sync_daemon eth1 inst VI_2 maxlen 1400 group 224.0.0.82\n}\n${instance('VI_1', 51, 'eth0')}${instance('VI_2', 52, 'eth0')}`), {
      follows: { VI_2: { iface: 'eth1', syncId: 52, options: { maxLen: 1400, group: '224.0.0.82' } } },
      problems: [],
    });
    assert.deepEqual(follows(`global_defs {\n    lvs_sync_daemon eth1 id 9\n}\n${instance('VI_1', 51, 'eth0')}${instance('VI_2', 52, 'eth1')}`).follows, { VI_2: { iface: 'eth1', syncId: 9, options: {} } }, 'without inst: the first instance on its interface');
    assert.deepEqual(follows(instance('VI_1', 51, 'eth0', '    lvs_sync_daemon_interface eth2\n')).follows, { VI_1: { iface: 'eth2', syncId: 51, options: {} } }, 'the old per-instance form');
    assert.match(follows(`global_defs {\n    lvs_sync_daemon eth1 inst VI_9\n}\n${instance('VI_1', 51, 'eth0')}`).problems[0] ?? '', /:2:5: lvs_sync_daemon: no vrrp_instance VI_9 to follow/);
  });
});
