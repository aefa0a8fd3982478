// Which real servers a virtual service should have in the table, from their health, as
// keepalived decides it: a server that is down is removed, or kept at weight 0 with
// inhibit_on_failure; a misc_dynamic weight replaces the configured one; when the live
// weight falls below the service's quorum (less the hysteresis), the live servers give
// way to the sorry server, and they come back once it reaches quorum plus hysteresis.
// Pure: the director applies the difference between two answers to the engine.
import type { DestinationSettings } from '../ipvs/destination';

export interface PoolMember {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly settings: DestinationSettings;
  /** inhibit_on_failure: keep it at weight 0 while down. */
  readonly inhibitOnFailure: boolean;
}

export interface PoolOptions {
  readonly quorum: number;
  readonly hysteresis: number;
  readonly sorry?: PoolMember;
  /** sorry_server_inhibit: keep the sorry server at weight 0 while it is not needed. */
  readonly sorryInhibit: boolean;
}

export interface DesiredDest {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly settings: DestinationSettings;
}

export class ServicePool<M extends PoolMember = PoolMember> {
  private readonly up = new Map<string, boolean>();
  private readonly dynamicWeight = new Map<string, number>();
  private quorumHeld: boolean;

  constructor(
    readonly members: readonly M[],
    readonly options: PoolOptions,
    initialUp: (member: M) => boolean,
  ) {
    for (const m of members) this.up.set(m.id, initialUp(m));
    this.quorumHeld = this.liveWeight() >= options.quorum;
  }

  get hasQuorum(): boolean {
    return this.quorumHeld;
  }

  isUp(id: string): boolean {
    return this.up.get(id) ?? false;
  }

  /** Records a verdict; answers whether the quorum changed with it. */
  setUp(id: string, up: boolean): 'quorum-lost' | 'quorum-gained' | undefined {
    if (!this.up.has(id)) return undefined;
    this.up.set(id, up);
    return this.updateQuorum();
  }

  setWeight(id: string, weight: number): 'quorum-lost' | 'quorum-gained' | undefined {
    if (!this.up.has(id)) return undefined;
    this.dynamicWeight.set(id, weight);
    return this.updateQuorum();
  }

  /** The sum of the weights of the servers that are up. */
  liveWeight(): number {
    return this.members.reduce((sum, m) => sum + (this.up.get(m.id) === true ? this.weightOf(m) : 0), 0);
  }

  desired(): DesiredDest[] {
    const out: DesiredDest[] = [];
    const { sorry } = this.options;
    const sorryActive = sorry !== undefined && !this.quorumHeld;
    for (const m of this.members) {
      const up = this.up.get(m.id) === true;
      if (up && !sorryActive) out.push(this.dest(m, this.weightOf(m)));
      else if (m.inhibitOnFailure) out.push(this.dest(m, 0));
    }
    if (sorry !== undefined && (sorryActive || this.options.sorryInhibit)) out.push(this.dest(sorry, sorryActive ? sorry.settings.weight : 0));
    return out;
  }

  private weightOf(m: PoolMember): number {
    return this.dynamicWeight.get(m.id) ?? m.settings.weight;
  }

  private dest(m: PoolMember, weight: number): DesiredDest {
    return { id: m.id, address: m.address, port: m.port, settings: { ...m.settings, weight } };
  }

  private updateQuorum(): 'quorum-lost' | 'quorum-gained' | undefined {
    const live = this.liveWeight();
    const { quorum, hysteresis } = this.options;
    if (this.quorumHeld && live < quorum - hysteresis) {
      this.quorumHeld = false;
      return 'quorum-lost';
    }
    if (!this.quorumHeld && live >= quorum + hysteresis) {
      this.quorumHeld = true;
      return 'quorum-gained';
    }
    return undefined;
  }
}
