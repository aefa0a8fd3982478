// DR sessions across a failover on the kernel plane (root): two directors in namespaces, a
// cluster pair (two_node) with an LVS-DR virtual_server on the kernel plane. 500 keep-alive
// connections are opened through the VIP and answered; the master is killed with -9; the
// backup takes the VIP over, and each connection asks again. With replication on, the
// master's DR flows reached the backup through hadirector's sync and went into its flow
// map before the VIP came up: every connection goes on with its real server. With
// replication off, the new master schedules the streams afresh and most break: the loss
// is printed beside.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { nftUnavailable } from '../../src/common/nft';
import { controlRequest } from '../../src/director/control-client';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { DataplaneNetns, virtualServerBlock } from '../../src/lab/dataplane-netns';
import { netnsUnavailable } from '../../src/lab/netns';
import { waitFor } from '../support/director-process';

const connections = 500;

function pairConfig(subnet: string, replicate: boolean): string {
  const vip = `${subnet}.100`;
  return `
global_defs {
    data_plane kernel
}
cluster {
    cluster_id drflows
    auth_key_file cluster.key
    heartbeat_interval 100ms
    deadtime 500ms
    vip_driver linux
    quorum {
        two_node
    }
    fencing {
        mode self_release
    }
    sync {
        connections ${replicate ? 'on' : 'off'}
    }
    node director {
        address ${subnet}.1
        priority 150
    }
    node director2 {
        address ${subnet}.5
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 62
    version 3
@director priority 150
@director2 priority 100
    advert_int 0.1
    virtual_ipaddress {
        ${vip}/24
    }
}
${virtualServerBlock(vip, 80, 'rr', 'DR', [1, 2, 3].map((n) => ({ address: `${subnet}.${10 + n}`, weight: 1 })))}`;
}

interface Status {
  readonly dataPlane?: string;
  readonly vrrp?: ReadonlyArray<{ readonly state: string }>;
  readonly connectionEntries?: number;
}

/** Runs the drill: 500 sessions, kill -9 of the master, ask again; what each connection answered before and after. */
async function failover(subnet: string, replicate: boolean): Promise<{ before: string[]; after: string[]; takeoverMs: number; replicated: number }> {
  const world = new DataplaneNetns(subnet);
  let lab: ClusterLab | undefined;
  const status = async (node: string): Promise<Status | undefined> => {
    try {
      const r = await controlRequest((lab as ClusterLab).socket(node), { op: 'status' }, 1000);
      return r.ok ? (r.result as Status) : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    world.start({ realServers: 3, vipOnDirector: false, secondDirector: true });
    assert.ok(await world.realServersReady(15_000), 'the real servers answer');
    lab = new ClusterLab(pairConfig(subnet, replicate));
    for (const d of ['director', 'director2']) lab.start(d, ['ip', 'netns', 'exec', world.lab.ns(d)]);
    await waitFor('director master and director2 backup, on the kernel plane', async () => {
      const [a, b] = [await status('director'), await status('director2')];
      return a?.vrrp?.[0]?.state === 'master' && b?.vrrp?.[0]?.state === 'backup' && a.dataPlane === 'kernel' ? true : undefined;
    }, 30_000, 50);
    const sessions = await world.sessions('drclient', 80, connections, 40000);
    try {
      // The master's flows reach its table on its tick, and the backup's copy by sync.
      let replicated = 0;
      if (replicate) {
        await waitFor('the flows in the backup\'s copy', async () => {
          replicated = ((await lab?.syncStatus('director2'))?.copies ?? []).reduce((n, c) => n + c.entries, 0);
          return replicated >= connections ? true : undefined;
        }, 10_000, 100);
      }
      const killedAt = performance.now();
      await lab.kill9('director');
      await waitFor('director2 to take the VIP', async () => ((await status('director2'))?.vrrp?.[0]?.state === 'master' && world.lab.addresses('director2').includes(`${subnet}.100/24`) ? true : undefined), 20_000, 20);
      const takeoverMs = performance.now() - killedAt;
      const after = await sessions.again();
      return { before: sessions.first, after, takeoverMs, replicated };
    } finally {
      sessions.close();
    }
  } finally {
    await lab?.stop();
    world.destroy();
  }
}

describe('DR sessions across a failover on the kernel plane (integration, network namespaces, root)', function () {
  this.timeout(180_000);

  before(function () {
    const why = netnsUnavailable() ?? nftUnavailable('the kernel plane is nftables rules');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
  });

  it(`kill -9 of the master with ${connections} established DR connections: with replication every one goes on with its real server; without, the loss is shown`, async () => {
    const kept = await failover('10.222.0', true);
    assert.ok(!kept.before.includes('fail'), 'every connection was answered before');
    const same = kept.after.filter((a, i) => a === kept.before[i]).length;
    const lost = await failover('10.223.0', false);
    const sameWithout = lost.after.filter((a, i) => a === lost.before[i]).length;
    console.log(
      `      (with replication: ${same}/${connections} connections kept their real server, ${kept.replicated} flows in the backup's copy, takeover ${Math.round(kept.takeoverMs)} ms; ` +
        `without: ${sameWithout}/${connections}, takeover ${Math.round(lost.takeoverMs)} ms)`,
    );
    assert.ok(same >= connections - 1, `with replication ${same}/${connections} kept their server: ${kept.after.filter((a, i) => a !== kept.before[i]).slice(0, 10).join(',')}`);
    assert.ok(sameWithout < connections - 1, `without replication ${sameWithout}/${connections} kept theirs: the drill shows nothing`);
  });
});
