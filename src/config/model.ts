// The typed configuration: what the parser yields and every subsystem reads. Each part
// keeps the place it was written (`where`), so later errors can point back to the file.
import type { ClusterConfig } from '../cluster/config';
import type { VirtualServerConfig, VirtualServerGroupConfig } from '../ipvs/config';
import type { VrrpInstanceConfig, VrrpScriptConfig, VrrpSyncGroupConfig, VrrpTrackFileConfig, VrrpTrackProcessConfig } from '../vrrp/config';
import type { GlobalDefs } from './global-defs';

export interface HadConfig {
  /** The node the file was read for (decides `@name` lines). */
  readonly node: string;
  /** Every file read, the main one first. */
  readonly files: string[];
  readonly global: GlobalDefs;
  readonly vrrpScripts: VrrpScriptConfig[];
  readonly vrrpTrackFiles: VrrpTrackFileConfig[];
  readonly vrrpTrackProcesses: VrrpTrackProcessConfig[];
  readonly vrrpInstances: VrrpInstanceConfig[];
  readonly vrrpSyncGroups: VrrpSyncGroupConfig[];
  readonly virtualServerGroups: VirtualServerGroupConfig[];
  readonly virtualServers: VirtualServerConfig[];
  cluster?: ClusterConfig;
}

/** Whether the node the file was read for is its cluster's witness: it votes and runs no instance or service. */
export function isWitness(config: HadConfig): boolean {
  return config.cluster?.nodes.find((n) => n.name === config.node)?.witness === true;
}
