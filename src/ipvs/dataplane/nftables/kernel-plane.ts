// The kernel data plane: the engine's services as nftables rules (ruleset.ts), applied as
// one atomic `nft -f` batch on every change. The rules stand on every director, master or
// backup: only the VIP's holder receives the VIP's traffic, so a new master forwards from
// its first packet, with no rules to write at takeover. The engine stays the model (its
// schedulers, weights, persistence); the kernel carries the packets.
import type { Connection } from '../../conn/connection';
import type { IpvsEngine } from '../../engine';
import { serviceDisplayName, serviceKeyText, type VirtualService } from '../../service';
import { zeroPlaneCounters, type DataPlane, type PlaneCounters, type PlaneEvents } from '../plane';
import { DestinationMarks } from './marks';
import { renderRuleset, tableName, type KernelMethod, type KernelService, type RenderedObjects } from './ruleset';

/** Applies a batch: undefined when it applied, else nft's complaint. */
export type NftApply = (batch: string) => Promise<string | undefined>;

/** How a service goes through the kernel: its method and (DR) device, or why it cannot. */
export type KernelShape = { readonly method: KernelMethod; readonly device?: string } | { readonly refused: string };

export interface KernelPlaneOptions {
  readonly engine: IpvsEngine;
  readonly apply: NftApply;
  readonly events: PlaneEvents;
  /** jhash's seed: the same on every director of the cluster. */
  readonly hashSeed: number;
  readonly shapeOf: (svc: VirtualService) => KernelShape;
}

const families = ['ip', 'ip6', 'netdev'] as const;

export class KernelPlane implements DataPlane {
  readonly kind = 'kernel';
  readonly counters: PlaneCounters = zeroPlaneCounters();
  private applied: RenderedObjects = new Set();
  private readonly marks = new DestinationMarks();
  private readonly names = new Map<string, string>();
  private nextName = 1;
  private reconciling: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: KernelPlaneOptions) {}

  /** Removes what a previous run left (its tables), so the first render starts from nothing. */
  async start(): Promise<string | undefined> {
    return this.o.apply(dropTables());
  }

  reconcile(): Promise<string[]> {
    const next = this.reconciling.then(() => this.reconcileNow());
    this.reconciling = next.catch(() => undefined);
    return next;
  }

  /** The rules stand on every director; only the VIP's holder receives its traffic. */
  setHeldAddresses(_holds: (address: string) => boolean): void {}

  /** The kernel expires its own connections. */
  expired(_conns: readonly Connection[]): void {}

  async close(_drainMs: number): Promise<void> {
    await this.reconciling;
    this.closed = true;
    const problem = await this.o.apply(dropTables());
    if (problem !== undefined) this.o.events.warn(`nftables: the ${tableName} tables could not be removed: ${problem}`, { code: 'HAD_KERNEL_PLANE' });
    this.applied = new Set();
  }

  private async reconcileNow(): Promise<string[]> {
    if (this.closed) return [];
    const problems: string[] = [];
    const services: KernelService[] = [];
    const seen = new Set<string>();
    for (const svc of this.o.engine.listServices()) {
      const shape = this.o.shapeOf(svc);
      if ('refused' in shape) {
        problems.push(`${serviceDisplayName(svc.key)}: ${shape.refused}`);
        continue;
      }
      const key = serviceKeyText(svc.key);
      seen.add(key);
      services.push({ svc, method: shape.method, name: this.nameOf(key), ...(shape.device !== undefined ? { device: shape.device } : {}) });
    }
    for (const key of this.names.keys()) if (!seen.has(key)) this.names.delete(key);
    const timeouts = this.o.engine.timeouts;
    const rendered = renderRuleset(
      {
        services,
        markOf: (d) => this.marks.of(d),
        hashSeed: this.o.hashSeed,
        flowTimeoutS: { tcp: timeouts.tcpMs.ESTABLISHED / 1000, udp: timeouts.udpMs / 1000, sctp: timeouts.tcpMs.ESTABLISHED / 1000 },
      },
      this.applied,
    );
    const refused = await this.o.apply(rendered.batch);
    if (refused !== undefined) return [...problems, `nftables refused the rules (the previous ones stay): ${refused}`];
    this.applied = rendered.objects;
    return problems;
  }

  /** A short name for a service, kept while it lives so its maps (persistence, flows) survive a reconcile. */
  private nameOf(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = `v${this.nextName++}`;
      this.names.set(key, name);
    }
    return name;
  }
}

/** Deletes the plane's tables, whether they exist or not (an `add` first makes the `delete` safe). */
function dropTables(): string {
  return families.map((f) => `add table ${f} ${tableName}\ndelete table ${f} ${tableName}\n`).join('');
}
