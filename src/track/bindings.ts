// Which trackers act on an instance, and with what weight: the instance's own, its sync
// group's, and the interface its VIPs go on. A weight on the reference overrides the
// tracker's own. In a sync group every weight counts as 0 (a failure is a FAULT of the
// whole group), since one member's priority moving alone would pull the group apart.
import type { HadConfig } from '../config/model';
import { uniqueBy } from '../config/uniqueness';
import type { TrackRef, VrrpInstanceConfig, VrrpScriptConfig, VrrpSyncGroupConfig } from '../vrrp/config';
import type { TrackBinding, TrackKind } from './weights';

interface Tracking {
  readonly trackInterfaces: readonly TrackRef[];
  readonly trackScripts: readonly TrackRef[];
  readonly trackFiles: readonly TrackRef[];
  readonly trackProcesses: readonly TrackRef[];
}

export function syncGroupOf(config: HadConfig, instance: string): VrrpSyncGroupConfig | undefined {
  return config.vrrpSyncGroups.find((g) => g.members.some((m) => m.name === instance));
}

/**
 * `trackVipInterface`: FAULT while the interface the VIPs go on is down (keepalived tracks
 * it unless told not to). `scriptRuns`: false for a vrrp_script keepalived would disable
 * (its program is not on this host), which then moves nothing.
 */
export function instanceBindings(config: HadConfig, vi: VrrpInstanceConfig, trackVipInterface: boolean, scriptRuns: (script: VrrpScriptConfig) => boolean = () => true): TrackBinding[] {
  const group = syncGroupOf(config, vi.name);
  // A group's members share every tracker, so they go to FAULT together.
  const members = group === undefined ? [vi] : config.vrrpInstances.filter((i) => group.members.some((m) => m.name === i.name));
  const out = [...members.flatMap((m) => bindingsOf(config, m, scriptRuns)), ...(group === undefined ? [] : bindingsOf(config, group, scriptRuns))];
  if (trackVipInterface) for (const m of members) if (m.interface !== undefined) out.push({ kind: 'interface', name: m.interface, weight: 0, reverse: false });
  const unique = uniqueBy(out, (b) => `${b.kind}:${b.name}`);
  return group === undefined ? unique : unique.map((b) => ({ ...b, weight: 0, reverse: false }));
}

function bindingsOf(config: HadConfig, t: Tracking, scriptRuns: (script: VrrpScriptConfig) => boolean): TrackBinding[] {
  const own = <C extends { name: string; weight: number; weightReverse: boolean }>(kind: TrackKind, refs: readonly TrackRef[], defs: readonly C[]): TrackBinding[] =>
    refs.flatMap((ref) => {
      const def = defs.find((d) => d.name === ref.name);
      if (def === undefined) return [];
      return [ref.weight !== undefined ? { kind, name: ref.name, weight: ref.weight, reverse: ref.reverse } : { kind, name: ref.name, weight: def.weight, reverse: def.weightReverse }];
    });
  return [
    ...t.trackInterfaces.map((ref): TrackBinding => ({ kind: 'interface', name: ref.name, weight: ref.weight ?? 0, reverse: ref.reverse })),
    ...own('script', t.trackScripts, config.vrrpScripts.filter((s) => s.script !== undefined && scriptRuns(s))),
    ...own('file', t.trackFiles, config.vrrpTrackFiles.filter((f) => f.file !== undefined)),
    ...own('process', t.trackProcesses, config.vrrpTrackProcesses.filter((p) => p.process !== undefined)),
  ];
}
