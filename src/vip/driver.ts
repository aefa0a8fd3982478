// What holding a VIP means on this host, behind one interface. `loopback` (the embedded
// default, no root): the address is in 127.0.0.0/8 and always there, so holding it is
// the data plane listening on it, which the director arranges. `linux` (root): the
// address is added to and removed from an interface with iproute2 and announced with
// gratuitous ARP.
import type { GarpSettings, VirtualAddress } from '../vrrp/config';

/** One instance's addresses and how to announce them. */
export interface VipSet {
  readonly instance: string;
  readonly addresses: readonly VirtualAddress[];
  /** The instance's `interface`: where an address without its own `dev` goes. */
  readonly interface: string | undefined;
  readonly garp: GarpSettings;
}

export interface AddressDriver {
  readonly kind: 'loopback' | 'linux';
  /** Brings the addresses up; resolves with what went wrong, if anything. */
  add(set: VipSet): Promise<string[]>;
  /** Tells the neighbours where the addresses are now, and keeps telling them as configured. */
  announce(set: VipSet): void;
  /** Takes the addresses down (an address already gone is no error). */
  remove(set: VipSet): Promise<string[]>;
}

export const loopbackDriver: AddressDriver = {
  kind: 'loopback',
  add: () => Promise.resolve([]),
  announce: () => undefined,
  remove: () => Promise.resolve([]),
};

/** Whether an address is on the loopback network, where the loopback driver applies. */
export function isLoopbackAddress(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
