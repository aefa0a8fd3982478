// Which data plane a director runs, and what each plane refuses. `data_plane` asks for one;
// the host decides what it can have: the kernel's own IPVS needs root, /proc/net/ip_vs and
// ipvsadm, and carries every service IPVS does; the nftables kernel plane needs root and a
// kernel that takes its rules (the probe's word); the userspace relay needs nothing but
// forwards by NAT only. `auto` takes the first of these the host has. A service the chosen
// plane cannot carry is refused with the reason, at the block that declares it.
import type { DataPlaneChoice } from '../config/global-defs';
import type { ForwardMethod } from '../ipvs/destination';
import type { KernelMethod } from '../ipvs/dataplane/nftables/ruleset';
import { probeKernel, type KernelOffer } from '../ipvs/dataplane/nftables/probe';
import type { HadConfig } from '../config/model';
import { isLoopbackAddress } from '../vip/driver';
import { ipvsUnavailable } from '../common/ipvsadm';
import { userspaceRefusal, type ServiceShape } from '../ipvs/dataplane/userspace-plane';
import { serviceDisplayName } from '../ipvs/service';

/** What the host offers: whether the director runs as root, and (when it does) what the kernel takes. */
export interface HostPlaneFacts {
  readonly root: boolean;
  /** Every virtual server's address is a loopback one (the loopback lab): only the relay serves clients on the director itself. */
  readonly loopbackVips?: boolean;
  readonly offer?: KernelOffer;
  /** Why the kernel's IPVS cannot be programmed here; absent when it can. */
  readonly ipvsMissing?: string;
}

export type PlaneDecision =
  | { readonly plane: 'userspace'; readonly why: string }
  | { readonly plane: 'ipvs'; readonly why: string }
  | { readonly plane: 'kernel'; readonly why: string; readonly offer: KernelOffer };

/** Root, and (unless the userspace relay is asked for, or every VIP is a loopback address) what the kernel takes. */
export function hostPlaneFacts(config: HadConfig, root: boolean, probe: () => KernelOffer = probeKernel, ipvs: () => string | undefined = ipvsUnavailable): HostPlaneFacts {
  if (!root || config.global.dataPlane === 'userspace') return { root };
  const addresses = config.virtualServers.flatMap((vs) => (vs.key.kind === 'address' ? [vs.key.address] : []));
  if (addresses.length > 0 && addresses.every(isLoopbackAddress)) return { root, loopbackVips: true };
  const ipvsMissing = ipvs();
  return { root, offer: probe(), ...(ipvsMissing !== undefined ? { ipvsMissing } : {}) };
}

/** The plane for `data_plane CHOICE` on this host, or why the host cannot have what was asked. */
export function choosePlane(choice: DataPlaneChoice, host: HostPlaneFacts): PlaneDecision | { readonly error: string } {
  if (choice === 'userspace') return { plane: 'userspace', why: 'data_plane userspace' };
  const nat = host.offer?.missing.get('nat');
  const dr = host.offer?.missing.get('dr');
  if (choice === 'ipvs') {
    if (!host.root) return { error: 'data_plane ipvs needs root: ipvsadm programs the kernel (HAD_IPVS_PLANE)' };
    if (host.loopbackVips === true) return { error: 'data_plane ipvs: every virtual server is on a loopback address; directors sharing this host would share its one IPVS table (HAD_IPVS_PLANE)' };
    if (host.offer === undefined) return { error: 'data_plane ipvs: the kernel was not asked what it takes (HAD_IPVS_PLANE)' };
    if (host.ipvsMissing !== undefined) return { error: `data_plane ipvs: ${host.ipvsMissing} (HAD_IPVS_PLANE)` };
    return { plane: 'ipvs', why: 'data_plane ipvs' };
  }
  if (choice === 'kernel') {
    if (!host.root) return { error: 'data_plane kernel needs root: the kernel plane writes nftables rules (HAD_KERNEL_PLANE)' };
    if (host.loopbackVips === true) return { error: 'data_plane kernel: every virtual server is on a loopback address, whose clients are on this host; the kernel plane forwards what comes in from the network (HAD_KERNEL_PLANE)' };
    if (host.offer === undefined) return { error: 'data_plane kernel: the kernel was not asked what it takes (HAD_KERNEL_PLANE)' };
    if (nat !== undefined && dr !== undefined) return { error: `data_plane kernel: this kernel takes neither plane's rules: ${nat}; ${dr} (HAD_KERNEL_PLANE)` };
    return { plane: 'kernel', why: 'data_plane kernel', offer: host.offer };
  }
  if (!host.root) return { plane: 'userspace', why: 'data_plane auto, not root' };
  if (host.loopbackVips === true) return { plane: 'userspace', why: 'data_plane auto, loopback VIPs: their clients are on this host' };
  if (host.offer === undefined) return { plane: 'userspace', why: 'data_plane auto, the kernel not asked' };
  if (host.ipvsMissing === undefined) return { plane: 'ipvs', why: 'data_plane auto, root, and the kernel has IPVS' };
  if (nat !== undefined) return { plane: 'userspace', why: `data_plane auto, but ${nat}` };
  return { plane: 'kernel', why: `data_plane auto, root, and the kernel takes nftables NAT${dr === undefined ? ' and DR' : ''}`, offer: host.offer };
}

/** How a service goes through the kernel plane, from its real servers' methods; or why it cannot. */
export function kernelMethod(svc: ServiceShape, offer: KernelOffer): { readonly method: KernelMethod } | { readonly refused: string } {
  const name = serviceDisplayName(svc.key);
  const methods = new Set<ForwardMethod>(svc.destinations.map((d) => d.forward));
  if (methods.has('tunnel')) {
    const ipip = offer.missing.get('tunnel');
    return { refused: `${name}: tunnelling (TUN, -i) ${ipip !== undefined ? `cannot run here: ${ipip}` : 'is not built in the kernel plane yet'} (HAD_KERNEL_TUN)` };
  }
  if (methods.size > 1) return { refused: `${name}: its real servers mix NAT and DR; the kernel plane forwards a service one way (HAD_KERNEL_MIXED)` };
  const method: KernelMethod = methods.has('route') ? 'dr' : 'nat';
  const missing = offer.missing.get(method);
  if (missing !== undefined) return { refused: `${name}: ${missing} (HAD_KERNEL_${method.toUpperCase()})` };
  if (method === 'dr' && svc.key.kind === 'fwmark') return { refused: `${name}: a fwmark service cannot forward by DR in the kernel plane: its ingress hook runs before any firewall marks a packet (HAD_KERNEL_DR)` };
  return { method };
}

/** Why the chosen plane cannot carry a service (or one of its real servers), or undefined. */
export function planeRefusal(decision: PlaneDecision, svc: ServiceShape): string | undefined {
  if (decision.plane === 'userspace') return userspaceRefusal(svc);
  // IPVS carries whatever ipvsadm can say; what it cannot is named at the reconcile.
  if (decision.plane === 'ipvs') return undefined;
  const m = kernelMethod(svc, decision.offer);
  return 'refused' in m ? m.refused : undefined;
}
