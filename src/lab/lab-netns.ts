// `hadirector lab --netns` (root): the cluster of the lab's configuration in network
// namespaces of its own (NetnsCluster, the one the namespaced drill runs), forwarded by
// the kernel plane (nftables): each director, real server and the client a host of its
// own on one bridge, the VIP on the master's eth0. The file is rewritten for the
// namespaces with `data_plane kernel`, the NAT real servers route the client's replies
// through a gateway address the master holds beside the VIP, and the lab adds an LVS-DR
// twin of the web service (netns-config.ts). Every second, as the loopback lab does: a
// line per node (with its data plane) and per virtual service, asked from the client's
// namespace. Ctrl-C, SIGTERM or --duration stops the nodes and removes every namespace.
import path from 'node:path';
import { nftUnavailable } from '../common/nft';
import { statusRounds, type LabOptions } from './lab';
import { NetnsCluster, type Service } from './netns-cluster';
import { netnsUnavailable } from './netns';
import { ProbeAgent, vipProbeScript } from './vip-probe';

/** The lab's /24 inside its namespaces: no test's but its own. */
export const labSubnet = '10.227.0';

export async function runNetnsLab(o: LabOptions): Promise<number> {
  const why = netnsUnavailable() ?? nftUnavailable('the kernel plane is nftables rules');
  if (why !== undefined) {
    o.out(`hadirector lab --netns: ${why}\n`);
    return 2;
  }
  const cluster = NetnsCluster.of(path.resolve(o.cwd, o.file), { subnet: labSubnet, plane: 'kernel', user: 'lab', udp: true });
  if (!(cluster instanceof NetnsCluster)) {
    o.out(`hadirector lab --netns: ${cluster.problem}\n`);
    return cluster.exitCode;
  }
  try {
    await cluster.start();
    const probe = new ProbeAgent(cluster.spawnInClient(process.execPath, [vipProbeScript], { stdin: true }));
    o.out(`${banner(cluster)}\n`);
    const sources = cluster.natSources;
    let round = 0;
    const vipLines = (): Promise<string[]> => {
      const natSource = sources[round++ % sources.length] ?? cluster.clientAddress;
      return Promise.all(
        [...cluster.services].map(async ([name, s]) => {
          const from = s.method === 'NAT' ? natSource : cluster.clientAddress;
          return `VIP ${name} ${label(s)}: ${await probe.ask(s.host, s.port, s.udp === true, from)} from ${from}`;
        }),
      );
    };
    await statusRounds(o, { nodes: cluster.nodes, socket: (n) => cluster.socket(n), plane: true, vipLines });
    return 0;
  } finally {
    await cluster.stop();
    o.out(`lab: stopped, its namespaces removed; the nodes' logs stay in ${cluster.dir}\n`);
  }
}

const label = (s: Service): string => `${s.udp === true ? 'UDP ' : ''}${s.method}`;

/** The first line: what runs where, and what the lab added to the file. */
function banner(cluster: NetnsCluster): string {
  const k = cluster.kernel;
  const added = k === undefined ? '' : `; the lab adds an LVS-DR twin of ${k.web.host}:${k.web.port} on port ${k.drPort} and the NAT real servers' gateway ${k.gateway} to ${k.instance}`;
  const sources = cluster.natSources;
  return (
    `lab --netns: ${cluster.nodes.length} nodes (${cluster.nodes.join(', ')}), real servers ${cluster.realServerHosts.join(', ')}, ${cluster.services.size} virtual services, ` +
    `in network namespaces ${cluster.namespacePrefix}-* on ${labSubnet}.0/24, data plane kernel (nftables)${added}; ` +
    `the client asks NAT services from ${sources[0]}..${sources.at(-1)} in turn, DR ones from ${cluster.clientAddress}; ` +
    `logs, control sockets and the rewritten configuration in ${cluster.dir}; Ctrl-C stops`
  );
}
