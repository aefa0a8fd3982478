// Sessions across a failover on the kernel plane (root): two directors in namespaces, a
// cluster pair (two_node, STONITH by taking the dead host's links down) with an LVS-DR
// and an LVS-NAT virtual_server on the kernel plane; the NAT real servers answer through
// a gateway address the master holds beside the VIP. 500 keep-alive connections through
// each are opened and answered; the master is killed with -9, its host switched off, and
// the backup takes the addresses over; each connection asks again. With replication on,
// the master's DR flows and NAT conntrack entries reached the backup through
// hadirector's sync and went into its kernel before the VIP came up: every connection
// goes on with its real server, and each persistent client's next connection goes to its
// server. With replication off, the new master schedules DR
// streams afresh and has no NAT binding for the old connections: they break, and the
// loss is printed beside.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { nftUnavailable } from '../../src/common/nft';
import { controlRequest } from '../../src/director/control-client';
import { ClusterLab } from '../../src/lab/cluster-lab';
import { DataplaneNetns, virtualServerBlock } from '../../src/lab/dataplane-netns';
import { netnsUnavailable } from '../../src/lab/netns';
import { waitFor } from '../support/director-process';

const connections = 500;

function pairConfig(subnet: string, replicate: boolean, namespacePrefix: string): string {
  const vip = `${subnet}.100`;
  return `
global_defs {
    data_plane kernel
    # The real servers' entry for the gateway may refuse the first burst of gratuitous
    # ARPs (the neighbour locktime): the second comes a second later.
    vrrp_garp_master_delay 1
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
    # The killed master's host is switched off (its links down) before the backup takes
    # over, as STONITH does: its kernel would otherwise go on answering for the VIP.
    fencing {
        mode power
        action off
        device cut {
            agent netns
            namespace ${namespacePrefix}-%n
            timeout 5s
        }
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
        ${subnet}.254/24
    }
}
${virtualServerBlock(vip, 80, 'rr', 'DR', [1, 2, 3].map((n) => ({ address: `${subnet}.${10 + n}`, weight: 1 })))}
${virtualServerBlock(vip, 8080, 'rr', 'NAT', [1, 2, 3].map((n) => ({ address: `${subnet}.${10 + n}`, weight: 1 })))}
${virtualServerBlock(vip, 81, 'rr', 'DR', [1, 2, 3].map((n) => ({ address: `${subnet}.${10 + n}`, weight: 1 })), 300)}`;
}

/** Clients of the persistent service, each on an address of its own. */
const persistentClients = (subnet: string): string[] => Array.from({ length: 12 }, (_, i) => `${subnet}.${40 + i}`);

interface Status {
  readonly dataPlane?: string;
  readonly vrrp?: ReadonlyArray<{ readonly state: string }>;
  readonly connectionEntries?: number;
}

interface Outcome {
  readonly before: string[];
  readonly after: string[];
}

interface Failover {
  readonly dr: Outcome;
  readonly nat: Outcome;
  /** Each persistent client's server before, and the server of its new connection after. */
  readonly persistent: Outcome;
  readonly takeoverMs: number;
  readonly replicated: number;
}

/** How many connections answered from the same real server after as before. */
const keptOf = (o: Outcome): number => o.after.filter((a, i) => a === o.before[i] && a !== 'fail').length;

/** Runs the drill: 500 sessions through DR and NAT each, kill -9 of the master, ask again; what each answered before and after. */
async function failover(subnet: string, replicate: boolean): Promise<Failover> {
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
    world.start({ realServers: 3, vipOnDirector: false, secondDirector: true, natGateway: `${subnet}.254` });
    assert.ok(await world.realServersReady(15_000), 'the real servers answer');
    lab = new ClusterLab(pairConfig(subnet, replicate, world.lab.prefix));
    for (const d of ['director', 'director2']) lab.start(d, ['ip', 'netns', 'exec', world.lab.ns(d)]);
    await waitFor('director master and director2 backup, on the kernel plane', async () => {
      const [a, b] = [await status('director'), await status('director2')];
      return a?.vrrp?.[0]?.state === 'master' && b?.vrrp?.[0]?.state === 'backup' && a.dataPlane === 'kernel' ? true : undefined;
    }, 30_000, 50);
    // One connection first on each, so the master's rr has moved on from where a new
    // master's starts: a stream scheduled afresh lands elsewhere, as it would in life.
    world.requests('drclient', 80, 1, { firstPort: 39000 });
    world.requests('natclient', 8080, 1, { firstPort: 39000 });
    const dr = await world.sessions('drclient', 80, connections, 40000);
    const nat = await world.sessions('natclient', 8080, connections, 40000);
    // The persistent service: one connection first, so a new master's rr, starting afresh, places each client elsewhere.
    const clients = persistentClients(subnet);
    world.addClientAddresses('drclient', clients);
    world.requests('drclient', 81, 1, { firstPort: 38000 });
    const persistentBefore = world.requests('drclient', 81, clients.length, { sources: clients, firstPort: 38100 });
    try {
      // The master's flows and persistent clients reach its table on its tick, and the backup's copy by sync.
      let replicated = 0;
      const expected = 2 * connections + 2 * (clients.length + 1);
      if (replicate) {
        await waitFor('the flows and persistent clients in the backup\'s copy', async () => {
          replicated = ((await lab?.syncStatus('director2'))?.copies ?? []).reduce((n, c) => n + c.entries, 0);
          return replicated >= expected ? true : undefined;
        }, 10_000, 100);
      }
      const killedAt = performance.now();
      await lab.kill9('director');
      await waitFor('director2 to take the VIP', async () => ((await status('director2'))?.vrrp?.[0]?.state === 'master' && world.lab.addresses('director2').includes(`${subnet}.100/24`) ? true : undefined), 20_000, 20);
      const takeoverMs = performance.now() - killedAt;
      const [drAfter, natAfter] = await Promise.all([dr.again(), nat.again()]);
      const persistentAfter = world.requests('drclient', 81, clients.length, { sources: clients, firstPort: 38200 });
      return { dr: { before: dr.first, after: drAfter }, nat: { before: nat.first, after: natAfter }, persistent: { before: persistentBefore, after: persistentAfter }, takeoverMs, replicated };
    } finally {
      dr.close();
      nat.close();
    }
  } finally {
    await lab?.stop();
    world.destroy();
  }
}

describe('sessions across a failover on the kernel plane (integration, network namespaces, root)', function () {
  this.timeout(400_000);

  before(function () {
    const why = netnsUnavailable() ?? nftUnavailable('the kernel plane is nftables rules');
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
  });

  it(`kill -9 of the master with ${connections} established DR and ${connections} NAT connections: with replication each goes on with its real server; without, the loss is shown`, async () => {
    const kept = await failover('10.222.0', true);
    assert.ok(!kept.dr.before.includes('fail') && !kept.nat.before.includes('fail'), 'every connection was answered before');
    const lost = await failover('10.223.0', false);
    console.log(
      `      (with replication: DR ${keptOf(kept.dr)}/${connections}, NAT ${keptOf(kept.nat)}/${connections} kept their real server, persistent clients ${keptOf(kept.persistent)}/${kept.persistent.before.length}; ${kept.replicated} entries in the backup's copy; takeover ${Math.round(kept.takeoverMs)} ms)\n` +
        `      (without: DR ${keptOf(lost.dr)}/${connections}, NAT ${keptOf(lost.nat)}/${connections}, persistent clients ${keptOf(lost.persistent)}/${lost.persistent.before.length}; takeover ${Math.round(lost.takeoverMs)} ms)`,
    );
    assert.equal(keptOf(kept.persistent), kept.persistent.before.length, `every persistent client's new connection goes to its server: ${kept.persistent.before.join(',')} then ${kept.persistent.after.join(',')}`);
    assert.ok(keptOf(lost.persistent) < lost.persistent.before.length, 'without replication the persistent clients move');
    for (const [what, o] of [['DR', kept.dr], ['NAT', kept.nat]] as const) {
      assert.ok(keptOf(o) >= connections - 1, `${what} with replication: ${keptOf(o)}/${connections} kept their server: ${o.after.filter((a, i) => a !== o.before[i]).slice(0, 10).join(',')}`);
    }
    assert.ok(keptOf(lost.dr) < connections - 1 && keptOf(lost.nat) < connections - 1, 'without replication the drill shows a loss');
  });
});
