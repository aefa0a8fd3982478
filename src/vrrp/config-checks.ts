// Cross-block checks of the VRRP keywords.
import type { ParseContext } from '../config/keywords';
import type { HadConfig } from '../config/model';
import { reportDuplicates, uniqueBy } from '../config/uniqueness';
import { vrrpPriorityOwner, type TrackRef, type VrrpInstanceConfig } from './config';

/** VRRPv3's Max Adver Int: 12 bits of centiseconds (RFC 5798 §5.2.7). */
export const advertIntV3MaxMs = 40_950;

export function checkVrrpConfig(config: HadConfig, cx: ParseContext): void {
  const { diags } = cx;
  // A second block of a name never gets here: the parser skips it with a warning, as keepalived does.
  const scripts = byName(config.vrrpScripts);
  for (const script of config.vrrpScripts) {
    if (script.script === undefined) {
      diags.warn('HAD_CFG_MISSING_KEYWORD', `vrrp_script '${script.name}' has no 'script' (on node ${config.node}): it is ignored`, script.where);
    }
  }
  const files = byName(config.vrrpTrackFiles);
  for (const f of config.vrrpTrackFiles) {
    if (f.file === undefined) diags.warn('HAD_CFG_MISSING_KEYWORD', `vrrp_track_file '${f.name}' has no 'file': it is ignored`, f.where);
  }
  const processes = byName(config.vrrpTrackProcesses);
  for (const p of config.vrrpTrackProcesses) {
    if (p.process === undefined) diags.warn('HAD_CFG_MISSING_KEYWORD', `vrrp_track_process '${p.name}' has no 'process': it is ignored`, p.where);
    if (p.quorumMax !== undefined && p.quorumMax < p.quorum) diags.error('HAD_CFG_CONFLICT', `vrrp_track_process '${p.name}': quorum_max ${p.quorumMax} is below quorum ${p.quorum}`, p.where);
  }
  const checkRefs = (holder: { trackScripts: readonly TrackRef[]; trackFiles: readonly TrackRef[]; trackProcesses: readonly TrackRef[] }): void => {
    for (const ref of holder.trackScripts) checkTrackScript(ref, scripts, cx);
    for (const ref of holder.trackFiles) if (!files.has(ref.name)) diags.error('HAD_CFG_UNKNOWN_REFERENCE', `track_file names unknown vrrp_track_file '${ref.name}'`, ref.where);
    for (const ref of holder.trackProcesses) if (!processes.has(ref.name)) diags.error('HAD_CFG_UNKNOWN_REFERENCE', `track_process names unknown vrrp_track_process '${ref.name}'`, ref.where);
  };
  const instances = byName(config.vrrpInstances);
  reportDuplicates(
    diags,
    config.vrrpInstances.filter((i) => i.virtualRouterId !== undefined),
    // IPv4 and IPv6 virtual routers are separate domains (RFC 5798 §1; keepalived compares the family too).
    (i) => `${i.interface ?? ''}/${instanceFamily(i)}/${i.virtualRouterId}`,
    (i) => i.virtualRouterIdWhere ?? i.where,
    (i) => `virtual_router_id ${i.virtualRouterId} on interface ${i.interface ?? '(none)'}${instanceFamily(i) === 6 ? ' (IPv6)' : ''}`,
  );
  for (const instance of config.vrrpInstances) {
    checkInstance(instance, cx);
    checkRefs(instance);
  }
  // keepalived runs an address listed in two instances: each adds it as master and removes it as it lets go.
  const vips = config.vrrpInstances.flatMap((i) => uniqueBy(i.virtualIpAddresses, (v) => v.address).map((vip) => ({ vip, instance: i })));
  reportDuplicates(diags, vips, ({ vip }) => `${vip.address}`, ({ vip }) => vip.where, ({ vip, instance }) => `VIP ${vip.address} (vrrp_instance '${instance.name}')`, 'warning');

  const memberOf = new Map<string, string>();
  for (const group of config.vrrpSyncGroups) {
    if (group.members.length === 0) diags.error('HAD_CFG_MISSING_KEYWORD', `vrrp_sync_group '${group.name}' has no members: group { VI_1 VI_2 }`, group.where);
    if (group.members.length === 1) diags.warn('HAD_CFG_RISKY', `vrrp_sync_group '${group.name}' has only one member: a sync group moves several instances together`, group.where);
    for (const member of group.members) {
      if (!instances.has(member.name)) {
        diags.error('HAD_CFG_UNKNOWN_REFERENCE', `vrrp_sync_group '${group.name}' names unknown vrrp_instance '${member.name}'`, member.where);
        continue;
      }
      const other = memberOf.get(member.name);
      if (other !== undefined && other !== group.name) {
        diags.error('HAD_CFG_CONFLICT', `vrrp_instance '${member.name}' is already in vrrp_sync_group '${other}': an instance belongs to one group`, member.where);
      }
      memberOf.set(member.name, group.name);
      const weighted = trackRefs(instances.get(member.name)).find((r) => r.weight !== undefined && r.weight !== 0);
      if (weighted !== undefined) {
        // Members move together, so one member's priority moving alone would pull the group apart.
        diags.warn('HAD_CFG_CONFLICT', `'${weighted.name}' in sync group member '${member.name}': weights are ignored in a sync group; a failure puts the group in FAULT`, weighted.where);
      }
    }
    checkRefs(group);
  }
}

function trackRefs(i: VrrpInstanceConfig | undefined): TrackRef[] {
  return i === undefined ? [] : [...i.trackInterfaces, ...i.trackScripts, ...i.trackFiles, ...i.trackProcesses];
}

function byName<T extends { readonly name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.name, item]));
}

function checkTrackScript(ref: TrackRef, scripts: ReadonlyMap<string, { script?: unknown }>, cx: ParseContext): void {
  const script = scripts.get(ref.name);
  if (script === undefined) cx.diags.error('HAD_CFG_UNKNOWN_REFERENCE', `track_script names unknown vrrp_script '${ref.name}'`, ref.where);
  else if (script.script === undefined) cx.diags.warn('HAD_CFG_UNKNOWN_REFERENCE', `track_script '${ref.name}' refers to a vrrp_script with no command: not tracked`, ref.where);
}

function checkInstance(i: VrrpInstanceConfig, cx: ParseContext): void {
  const { diags } = cx;
  if (i.virtualRouterId === undefined) diags.error('HAD_CFG_MISSING_KEYWORD', `vrrp_instance '${i.name}' needs a virtual_router_id (1..255)`, i.where);
  if (i.interface === undefined) diags.warn('HAD_CFG_MISSING_KEYWORD', `vrrp_instance '${i.name}' has no interface: VIPs go on each VIP's 'dev', else on lo`, i.where);
  if (i.virtualIpAddresses.length === 0) diags.warn('HAD_CFG_MISSING_KEYWORD', `vrrp_instance '${i.name}' has no virtual_ipaddress`, i.where);
  reportDuplicates(diags, i.virtualIpAddresses, (v) => v.address, (v) => v.where, (v) => `VIP ${v.address} in vrrp_instance '${i.name}'`, 'warning');
  if (i.priority === vrrpPriorityOwner && i.initialState === 'BACKUP') {
    diags.warn('HAD_CFG_CONFLICT', `priority 255 makes '${i.name}' the address owner: it starts as MASTER whatever its state says`, i.priorityWhere ?? i.where);
  }
  if (i.priority === vrrpPriorityOwner) {
    const weighted = trackRefs(i).find((r) => r.weight !== undefined && r.weight !== 0);
    if (weighted !== undefined) diags.warn('HAD_CFG_CONFLICT', `the address owner's priority (255) never moves: the weight of '${weighted.name}' is ignored`, weighted.where);
  }
  if (!i.preempt && i.initialState === 'MASTER') {
    diags.warn('HAD_CFG_CONFLICT', `nopreempt needs state BACKUP: with state MASTER, '${i.name}' still takes over at start`, i.nopreemptWhere ?? i.where);
  }
  if (!i.preempt && i.preemptDelayMs > 0) {
    diags.warn('HAD_CFG_CONFLICT', `preempt_delay has no effect with nopreempt in '${i.name}'`, i.nopreemptWhere ?? i.where);
  }
  const advertAt = i.advertIntWhere ?? i.where;
  if (i.version === 2 && i.advertIntMs % 1000 !== 0) {
    diags.warn('HAD_CFG_CONFLICT', `advert_int ${i.advertIntMs / 1000}: VRRPv2 adverts carry whole seconds; use 'version 3' for sub-second adverts`, advertAt);
  }
  if (i.version === 3 && i.advertIntMs > advertIntV3MaxMs) {
    diags.warn('HAD_CFG_OUT_OF_RANGE', `advert_int ${i.advertIntMs / 1000}: VRRPv3 allows at most 40.95 seconds: 40.95 it is, as keepalived sets it`, advertAt);
    i.advertIntMs = advertIntV3MaxMs;
  }
  if (i.version === 3 && i.advertIntMs % 10 !== 0) {
    diags.warn('HAD_CFG_CONFLICT', `advert_int ${i.advertIntMs / 1000}: VRRPv3 counts centiseconds; it is rounded to ${Math.round(i.advertIntMs / 10) / 100}`, advertAt);
  }
  if (i.authentication !== undefined) {
    if (i.version === 3) diags.warn('HAD_CFG_CONFLICT', `VRRPv3 has no authentication: the block in '${i.name}' is ignored (cluster traffic is authenticated by the cluster key)`, i.authentication.where);
    else if (i.authentication.type === 'PASS' && i.authentication.pass === undefined) {
      diags.error('HAD_CFG_MISSING_KEYWORD', `authentication with auth_type PASS needs auth_pass`, i.authentication.where);
    }
  }
  reportDuplicates(diags, i.unicastPeers, (p) => p.address, (p) => p.where, (p) => `unicast_peer ${p.address}`);
}

/** The family keepalived gives an instance: its first VIP's, else its unicast source's, else IPv4. */
export function instanceFamily(i: VrrpInstanceConfig): 4 | 6 {
  return i.virtualIpAddresses[0]?.family ?? i.unicastSrcIp?.family ?? 4;
}
