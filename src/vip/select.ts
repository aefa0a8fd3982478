// Which address driver a director uses: `vip_driver` in the cluster block, where `auto`
// means `linux` for a director that may manage addresses (root, or CAP_NET_ADMIN) with a
// VIP off the loopback network, else `loopback`. With no cluster block (keepalived's
// way), a VIP off loopback always means `linux`.
import type { Clock } from '../common/clock';
import type { HadConfig } from '../config/model';
import { isLoopbackAddress, loopbackDriver, type AddressDriver } from './driver';
import { LinuxAddressDriver, processRunner, type CommandRunner } from './linux-driver';

export interface DriverContext {
  /** Whether this process may add and remove addresses (root, or CAP_NET_ADMIN). */
  readonly root: boolean;
  readonly clock: Clock;
  readonly runner?: CommandRunner;
  readonly warn: (message: string) => void;
}

/** Whether some instance's VIP is off 127.0.0.0/8. */
export function anyVipOffLoopback(config: HadConfig): boolean {
  return config.vrrpInstances.some((vi) => [...vi.virtualIpAddresses, ...vi.virtualIpAddressesExcluded].some((v) => !isLoopbackAddress(v.address)));
}

/** The driver, or why none can run. */
export function selectAddressDriver(config: HadConfig, cx: DriverContext): AddressDriver | string {
  const choice = config.cluster?.vipDriver ?? 'auto';
  const offLoopback = anyVipOffLoopback(config);
  const wantsLinux = choice === 'linux' || (choice === 'auto' && offLoopback && (cx.root || config.cluster === undefined));
  if (!wantsLinux) return loopbackDriver;
  if (!cx.root) return 'VIPs off 127.0.0.0/8 are added and removed with iproute2: that needs root or CAP_NET_ADMIN (or use vip_driver loopback with VIPs in 127.0.0.0/8)';
  return new LinuxAddressDriver(cx.clock, cx.runner ?? processRunner, cx.warn);
}
