// A virtual service as the kernel keeps it: its key, scheduler and flags, and its
// destinations in kernel order (a new one goes to the head of the list, which is the
// order `ipvsadm -L --nosort` prints). Every change to the list goes through here, so
// positions stay right and the scheduler hears of it in the kernel's order of events.
import type { IpAddr } from './address';
import { Destination, destinationKey, type DestinationSettings } from './destination';
import { createScheduler, type SchedulerDeps } from './schedulers/create';
import type { PacketFacts, ScheduledService, Scheduler, SchedulerFlags, SchedulerName } from './schedulers/scheduler';
import { Counters } from './stats';

export type ServiceProtocol = 'tcp' | 'udp' | 'sctp';

export type ServiceKey =
  | { readonly kind: 'address'; readonly protocol: ServiceProtocol; readonly address: IpAddr; readonly port: number }
  | { readonly kind: 'fwmark'; readonly mark: number; readonly family: 4 | 6 };

export function serviceKeyText(key: ServiceKey): string {
  return key.kind === 'fwmark' ? `fwmark|${key.family}|${key.mark}` : `${key.protocol}|${key.address.text}|${key.port}`;
}

/** The service as ipvsadm -L -n names it: `TCP 10.0.0.1:80`, `UDP [2001:db8::1]:53`, `FWM 7`. */
export function serviceDisplayName(key: ServiceKey): string {
  if (key.kind === 'fwmark') return key.family === 6 ? `FWM ${key.mark} IPv6` : `FWM ${key.mark}`;
  const host = key.address.family === 6 ? `[${key.address.text}]` : key.address.text;
  return `${key.protocol.toUpperCase()} ${host}:${key.port}`;
}

export interface ServiceSettings {
  readonly scheduler: SchedulerName;
  readonly flags: SchedulerFlags;
  /** Persistence timeout in seconds; absent when not persistent. */
  readonly persistenceS?: number;
  /** Persistence granularity netmask; all ones by default. */
  readonly netmask?: IpAddr;
  readonly onePacket: boolean;
}

export class VirtualService implements ScheduledService {
  private readonly list: Destination[] = [];
  private readonly byKey = new Map<string, Destination>();
  private sched: Scheduler;
  settings: ServiceSettings;
  readonly stats = new Counters();

  constructor(
    readonly key: ServiceKey,
    settings: ServiceSettings,
    private readonly deps: SchedulerDeps,
  ) {
    this.settings = settings;
    this.sched = createScheduler(settings.scheduler, this, deps);
  }

  get destinations(): readonly Destination[] {
    return this.list;
  }

  get flags(): SchedulerFlags {
    return this.settings.flags;
  }

  get scheduler(): Scheduler {
    return this.sched;
  }

  /** `ipvsadm -E`: a new scheduler starts from scratch, as the kernel rebinds it. */
  edit(settings: ServiceSettings): void {
    const rebind = settings.scheduler !== this.settings.scheduler;
    this.settings = settings;
    if (rebind) this.sched = createScheduler(settings.scheduler, this, this.deps);
  }

  findDestination(address: IpAddr, port: number): Destination | undefined {
    return this.byKey.get(destinationKey(address, port));
  }

  /** `ipvsadm -a`; the caller has checked that it is new. */
  addDestination(address: IpAddr, port: number, settings: DestinationSettings): Destination {
    return this.link(new Destination(address, port, settings));
  }

  /** `ipvsadm -a` of a destination this service had, taken back from the trash with what it kept. */
  restoreDestination(dest: Destination, settings: DestinationSettings): Destination {
    dest.update(settings);
    dest.available = true;
    return this.link(dest);
  }

  /** `ipvsadm -e`. */
  editDestination(dest: Destination, settings: DestinationSettings): void {
    dest.update(settings);
    this.sched.destUpdated(this, dest);
  }

  /** `ipvsadm -d`: unlinked and no longer available; its connections keep a reference. */
  removeDestination(dest: Destination): void {
    const position = this.list.indexOf(dest);
    if (position === -1) return;
    this.list.splice(position, 1);
    this.byKey.delete(dest.key);
    dest.available = false;
    this.renumber();
    this.sched.destRemoved(this, dest, position);
  }

  schedule(packet: PacketFacts): Destination | null {
    return this.sched.schedule(this, packet);
  }

  private link(dest: Destination): Destination {
    this.list.unshift(dest);
    this.byKey.set(dest.key, dest);
    this.renumber();
    this.sched.destAdded(this, dest);
    return dest;
  }

  private renumber(): void {
    for (let i = 0; i < this.list.length; i++) (this.list[i] as Destination).position = i;
  }
}
