// Trackers and sync groups on real processes: two directors and a witness on loopback.
// A vrrp_script tracked by a sync group fails on the master: the whole group goes to
// FAULT there and both its instances move to the backup together; the script recovers
// and the group comes back. A track_file lowers one instance's priority below the
// backup's, which then preempts it. notify_fifo carries keepalived's lines throughout.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { directorsAndWitness } from '../support/cluster-config';
import { loopbackNet, waitFor } from '../support/director-process';

const lan = loopbackNet();
const port = 16400 + (process.pid % 50);

function config(dir: string): string {
  return `
global_defs {
@d1 notify_fifo ${dir}/d1.fifo
@d2 notify_fifo ${dir}/d2.fifo
}
${directorsAndWitness({ clusterId: 'trackers', lan, port, heartbeat: '200ms', deadtime: '1s' })}vrrp_script chk {
@d1 script "/usr/bin/test ! -e ${dir}/d1.fail"
@d2 script "/usr/bin/test ! -e ${dir}/d2.fail"
    interval 0.1
    fall 2
    rise 2
}
vrrp_track_file prio {
@d1 file ${dir}/d1.prio
@d2 file ${dir}/d2.prio
    init_file 0 overwrite
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    track_script {
        chk
    }
}
vrrp_instance VI_1 {
    virtual_router_id 51
@d1 priority 150
@d2 priority 100
    advert_int 0.2
    version 3
    virtual_ipaddress {
        ${lan}.100
    }
}
vrrp_instance VI_2 {
    virtual_router_id 52
@d1 priority 150
@d2 priority 100
    advert_int 0.2
    version 3
    virtual_ipaddress {
        ${lan}.101
    }
}
vrrp_instance VI_3 {
    virtual_router_id 53
@d1 priority 150
@d2 priority 100
    advert_int 0.2
    version 3
    track_file {
        prio
    }
    virtual_ipaddress {
        ${lan}.102
    }
}
`;
}

/** What the FIFO holds so far, without blocking. */
function drain(fifo: string): string {
  const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(65536);
    let text = '';
    for (let i = 0; i < 64; i++) {
      let n = 0;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch {
        break;
      }
      if (n <= 0) break;
      text += buf.subarray(0, n).toString();
    }
    return text;
  } finally {
    fs.closeSync(fd);
  }
}

describe('trackers and sync groups on loopback (integration)', function () {
  this.timeout(60_000);
  const lab = new ClusterLab(config('DIR'));
  const file = (name: string) => path.join(lab.dir, name);
  const fifo = { d1: '', d2: '' };
  const states = async (node: string): Promise<string> => {
    const m = await lab.instances(node);
    return m === undefined ? '?' : ['VI_1', 'VI_2', 'VI_3'].map((i) => (m.get(i) ?? '').split(' ')[1] ?? '?').join(' ');
  };
  const until = (what: string, node: string, expected: string) => waitFor(what, async () => ((await states(node)) === expected ? true : undefined), 10_000, 50);

  before(async () => {
    fs.writeFileSync(file('c.conf'), config(lab.dir));
    for (const n of ['d1', 'd2', 'w1']) lab.start(n);
    await until('d1 to hold all three', 'd1', 'master master master');
    await until('d2 to back them up', 'd2', 'backup backup backup');
  });

  after(() => lab.stop());

  it('a failing script of a sync group sends the whole group to FAULT, and both instances to the backup', async () => {
    fifo.d1 += drain(file('d1.fifo'));
    fs.writeFileSync(file('d1.fail'), '');
    await until('the group to move', 'd2', 'master master backup');
    await until('d1 in FAULT for the group', 'd1', 'fault fault master');
    assert.match(lab.log('d1'), /track_script chk: down/);
    assert.match(lab.log('d2'), /VI_[12]: BACKUP -> MASTER: sync group G1: VI_[12] became MASTER|VI_[12]: BACKUP -> MASTER/);
    await waitFor('the FIFO lines', () => {
      fifo.d1 += drain(file('d1.fifo'));
      fifo.d2 += drain(file('d2.fifo'));
      // An instance's line follows its addresses and listeners; the group's may come first.
      const lines = [/GROUP "G1" FAULT 0/.test(fifo.d1), /INSTANCE "VI_1" FAULT 150\n/.test(fifo.d1), /INSTANCE "VI_2" FAULT 150\n/.test(fifo.d1), /GROUP "G1" MASTER 0/.test(fifo.d2), /INSTANCE "VI_1" MASTER 100\n/.test(fifo.d2)];
      return lines.every(Boolean) ? true : undefined;
    });
  });

  it('the script recovers (rise 2) and the group comes back to the higher priority', async () => {
    fs.rmSync(file('d1.fail'));
    await until('d1 to take the group back', 'd1', 'master master master');
    await until('d2 to back it up again', 'd2', 'backup backup backup');
    await waitFor('the FIFO to say so', () => {
      fifo.d1 += drain(file('d1.fifo'));
      return /GROUP "G1" MASTER 0\n/.test(fifo.d1.slice(fifo.d1.lastIndexOf('FAULT'))) ? true : undefined;
    });
  });

  it('a tracked file lowers the master below the backup, which preempts it', async () => {
    fs.writeFileSync(file('d1.prio'), '-60\n');
    await until('d2 to preempt VI_3', 'd2', 'backup backup master');
    const d1 = await lab.instances('d1');
    assert.match(d1?.get('VI_3') ?? '', /^VI_3 backup priority=90 /);
    fs.writeFileSync(file('d1.prio'), '0\n');
    await until('d1 to take VI_3 back', 'd1', 'master master master');
  });
});
