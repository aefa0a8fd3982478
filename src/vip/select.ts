// Which address driver a director uses: `vip_driver` in the cluster block, where `auto`
// means `linux` for a root director with a VIP off the loopback network, else `loopback`.
import type { Clock } from '../common/clock';
import type { HadConfig } from '../config/model';
import { isLoopbackAddress, loopbackDriver, type AddressDriver } from './driver';
import { LinuxAddressDriver, processRunner, type CommandRunner } from './linux-driver';

export interface DriverContext {
  readonly root: boolean;
  readonly clock: Clock;
  readonly runner?: CommandRunner;
  readonly warn: (message: string) => void;
}

/** The driver, or why none can run. */
export function selectAddressDriver(config: HadConfig, cx: DriverContext): AddressDriver | string {
  const choice = config.cluster?.vipDriver ?? 'auto';
  const vips = config.vrrpInstances.flatMap((vi) => [...vi.virtualIpAddresses, ...vi.virtualIpAddressesExcluded]);
  const wantsLinux = choice === 'linux' || (choice === 'auto' && cx.root && vips.some((v) => !isLoopbackAddress(v.address)));
  if (!wantsLinux) return loopbackDriver;
  if (!cx.root) return 'vip_driver linux adds and removes addresses with iproute2: it needs root (or use vip_driver loopback with VIPs in 127.0.0.0/8)';
  return new LinuxAddressDriver(cx.clock, cx.runner ?? processRunner, cx.warn);
}
