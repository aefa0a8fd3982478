// What a node does with its VIPs given its view and the no_quorum_policy, as pacemaker's
// no-quorum-policy reads: with quorum it may hold them; without, `stop` releases every
// one (the default), `freeze` keeps what it holds but takes nothing new, `ignore` acts as
// if it had quorum. A witness never holds a VIP, whatever the view.
import type { NoQuorumPolicy } from './config';
import type { View } from './membership';

export type VipPermission = 'may-hold' | 'keep-only' | 'release';

export function vipPermission(view: View, policy: NoQuorumPolicy, witness: boolean): VipPermission {
  if (witness) return 'release';
  if (view.quorate || policy === 'ignore') return 'may-hold';
  return policy === 'freeze' ? 'keep-only' : 'release';
}
