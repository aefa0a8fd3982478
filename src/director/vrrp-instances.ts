// The director's VRRP instances, around the agents the control plane runs: the services
// on an instance's addresses listen on its master only, and the address driver brings
// the addresses up and down around that. What an instance does on a change runs in
// order, one change after the other: on taking over, addresses, listeners, gratuitous
// ARP, then notify scripts; on letting go, listeners, addresses, then notify scripts.
// Trackers move priorities and raise FAULT, and so does host health, as one more tracker;
// a sync group's members follow one another, and the group has its own notify scripts.
// notify_fifo gets a line for every change of an instance or group, and of the host.
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import type { NodeConfig } from '../cluster/config';
import type { HadConfig } from '../config/model';
import type { Command } from '../config/values';
import type { DataPlane } from '../ipvs/dataplane/plane';
import { instanceBindings, syncGroupOf } from '../track/bindings';
import { hostProbes, type TrackProbes } from '../track/probes';
import { Trackers } from '../track/trackers';
import { noExtraWeight, trackedPriority, type ExtraWeight, type TrackBinding } from '../track/weights';
import type { NotifyScripts, VrrpInstanceConfig, VrrpScriptConfig, VrrpSyncGroupConfig } from '../vrrp/config';
import { commandFound } from '../config/script-security';
import { nodeConfigFs } from '../config/config-fs';
import type { VrrpState } from '../vrrp/instance';
import type { AddressDriver, VipSet } from '../vip/driver';
import { placeOnVmac, planVmacs, type VmacDevice } from '../vip/vmac';
import type { InstanceSettings } from './control-plane';
import { NotifyFifo } from './notify-fifo';

/** What runs the instances (the control plane of a cluster, or VRRP on the wire): the trackers' word and the group's go to it. */
export interface InstanceDriver {
  tracked(instance: string, priority: number, faults: readonly string[]): void;
  followGroup(instance: string, to: 'master' | 'backup', reason: string): void;
}

const isProgram = (p: string): boolean => nodeConfigFs.isProgram?.(p) ?? true;

export class VrrpInstances {
  /** Each instance's state, as the control plane last said. */
  private readonly states = new Map<string, VrrpState>();
  /** VIP address → the instance it belongs to. */
  private readonly vipOwners = new Map<string, string>();
  /** Per instance, the end of its queue of changes. */
  private readonly changes = new Map<string, Promise<void>>();
  private readonly bindings = new Map<string, TrackBinding[]>();
  private readonly groupStates = new Map<string, VrrpState>();
  private trackers: Trackers | undefined;
  /** What host health adds to every instance: a weight, and FAULT reasons. */
  private host: ExtraWeight = noExtraWeight;
  private fifo: NotifyFifo | undefined;
  private plane: InstanceDriver | undefined;
  /** Runs first when an instance takes over, before its addresses come up (connection sync loads its entries). */
  beforeTakeover: ((instance: string, addresses: readonly string[]) => void | Promise<void>) | undefined;
  /** Runs on every state an instance enters (the IPVS plane's sync daemon follows one). */
  stateEntered: ((instance: string, to: VrrpState) => void) | undefined;
  /** The VMACs of use_vmac, by instance: where their VIPs go. Real addresses only. */
  readonly vmacs: ReadonlyMap<string, VmacDevice>;

  constructor(
    private readonly config: HadConfig,
    private readonly dataPlane: DataPlane,
    private readonly driver: AddressDriver,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly notify: (command: Command | undefined, subject: string) => void,
    private readonly probes: TrackProbes = hostProbes,
  ) {
    this.vmacs = driver.kind === 'linux' && this.runsInstances() ? planVmacs(config) : new Map();
  }

  /** Whether the VIPs are real addresses (the linux driver) or the lab's loopback ones. */
  get addressKind(): AddressDriver['kind'] {
    return this.driver.kind;
  }

  /**
   * What the control plane runs for each vrrp_instance on a director (none on a witness).
   * An instance on the wire too breaks priority ties by its advert's source, as a
   * keepalived peer does.
   */
  settings(wireSources: ReadonlyMap<string, string> = new Map()): InstanceSettings[] {
    const me = this.director();
    const nodes = this.config.cluster?.nodes ?? [];
    if (me === undefined) return [];
    return this.config.vrrpInstances.map((vi) => ({
      name: vi.name,
      version: vi.version,
      priority: vi.priority,
      advertIntervalMs: vi.advertIntMs,
      preempt: vi.preempt,
      preemptDelayMs: vi.preemptDelayMs,
      startAsMaster: vi.initialState === 'MASTER',
      primaryAddress: wireSources.get(vi.name) ?? vi.unicastSrcIp?.address ?? me.addresses[0]?.address ?? me.name,
      ...this.advertTargets(vi, nodes, wireSources.has(vi.name)),
    }));
  }

  /** Removes the VIPs an earlier run may have left behind when it was killed. */
  async removeLeftovers(): Promise<void> {
    if (!this.runsInstances() || this.driver.kind === 'loopback') return;
    for (const vi of this.config.vrrpInstances) this.reportProblems(await this.driver.remove(this.vipSet(vi)));
  }

  /** Resolves once every queued change (addresses, listeners, scripts) has run. */
  async settled(): Promise<void> {
    await Promise.all(this.changes.values());
  }

  /** Must run before the plane first listens, so a backup never serves a VIP. */
  claimVipListeners(): void {
    if (!this.runsInstances()) return;
    for (const vi of this.config.vrrpInstances) for (const vip of this.vipSet(vi).addresses) this.vipOwners.set(vip.address, vi.name);
    if (this.vipOwners.size === 0) return;
    this.dataPlane.setHeldAddresses((address) => {
      const owner = this.vipOwners.get(address);
      return owner === undefined || this.states.get(owner) === 'master';
    });
  }

  /** Starts the trackers and gives the instances' driver their first readings, before its instances start. */
  startTrackers(plane: InstanceDriver): void {
    this.plane = plane;
    if (!this.runsInstances()) return;
    this.openFifo();
    const scriptRuns = (script: VrrpScriptConfig) => script.script !== undefined && commandFound(script.script, isProgram);
    for (const vi of this.config.vrrpInstances) this.bindings.set(vi.name, instanceBindings(this.config, vi, this.driver.kind === 'linux', scriptRuns));
    this.trackers = new Trackers(this.config, [...this.bindings.values()].flat(), this.clock, this.probes, {
      changed: (kind, name, reading) => {
        this.log.info(`track_${kind} ${name}: ${'up' in reading ? (reading.up ? 'up' : 'down') : `reads ${reading.value}`}`, { component: 'vrrp' });
        this.applyTracking();
      },
    });
    // First readings before the first state, so a failed tracker starts the instance in FAULT.
    this.trackers.start();
    this.applyTracking();
  }

  /** notify_fifo, before the first line (the host's first sample may write one before the instances start). */
  openFifo(): void {
    const fifoPath = this.config.global.notifyFifo?.argv[0];
    if (fifoPath === undefined || this.fifo !== undefined || !this.runsInstances()) return;
    this.fifo = new NotifyFifo(fifoPath, (m) => this.log.warn(m, { component: 'vrrp' }));
    this.fifo.open();
  }

  /** Host health's word: every instance takes it as one more tracker's (before its start too). */
  hostChanged(host: ExtraWeight): void {
    this.host = host;
    this.applyTracking();
  }

  /** The host changed colour: `HOST "NODE" COLOUR` and its causes, on notify_fifo. */
  hostColour(node: string, colour: string, causes: readonly string[]): void {
    this.fifo?.write(`HOST "${node}" ${colour.toUpperCase()}${causes.length > 0 ? ` ${causes.join('; ')}` : ''}`);
  }

  /** An instance changed state (the control plane's word): addresses, listeners, scripts, the group. */
  instanceChanged(name: string, from: VrrpState, to: VrrpState, priority: number): void {
    const vi = this.config.vrrpInstances.find((i) => i.name === name);
    if (vi === undefined) return;
    this.states.set(name, to);
    if (to === 'master') this.takeOver(vi);
    if (from === 'master') this.letGo(vi);
    this.queue(name, () => this.notifyState(vi.notify, 'INSTANCE', name, to, priority));
    this.stateEntered?.(name, to);
    this.followGroup(name, from, to);
  }

  /** After a bug: every address this node holds goes, whatever the machines say. */
  dropAll(): void {
    for (const vi of this.config.vrrpInstances) {
      if (this.states.get(vi.name) !== 'master') continue;
      this.states.set(vi.name, 'init');
      this.letGo(vi);
    }
  }

  /** Stops the trackers; the FIFO closes once the last changes have run. */
  stop(): void {
    this.trackers?.stop();
    void this.settled().then(() => this.fifo?.close());
  }

  private takeOver(vi: VrrpInstanceConfig): void {
    const askedMs = this.clock.nowMs();
    this.queue(vi.name, async () => {
      const set = this.vipSet(vi);
      await this.beforeTakeover?.(vi.name, set.addresses.map((a) => a.address));
      const startedMs = this.clock.nowMs();
      this.reportProblems(await this.driver.add(set));
      const addedMs = this.clock.nowMs();
      this.reportProblems(await this.dataPlane.reconcile());
      this.driver.announce(set);
      const ms = (t: number) => `${Math.round(t)} ms`;
      this.log.info(`${vi.name}: VIPs up: queued ${ms(startedMs - askedMs)}, addresses ${ms(addedMs - startedMs)}, listeners ${ms(this.clock.nowMs() - addedMs)}`, { component: 'vip' });
    });
  }

  private letGo(vi: VrrpInstanceConfig): void {
    this.queue(vi.name, async () => {
      this.reportProblems(await this.dataPlane.reconcile());
      this.reportProblems(await this.driver.remove(this.vipSet(vi)));
    });
  }

  private applyTracking(): void {
    const plane = this.plane;
    if (plane === undefined || !this.runsInstances()) return;
    for (const vi of this.config.vrrpInstances) {
      const outcome = trackedPriority(vi.priority, this.bindings.get(vi.name) ?? [], (b) => this.trackers?.reading(b.kind, b.name), this.host);
      plane.tracked(vi.name, outcome.priority, outcome.faults);
    }
  }

  /** A member that took over or let go pulls its siblings along; the group's own state is notified. */
  private followGroup(member: string, from: VrrpState, to: VrrpState): void {
    const group = syncGroupOf(this.config, member);
    if (group === undefined) return;
    for (const sibling of group.members) {
      if (sibling.name === member) continue;
      if (to === 'master' && from === 'backup') this.plane?.followGroup(sibling.name, 'master', `sync group ${group.name}: ${member} became MASTER`);
      if (from === 'master' && to === 'backup') this.plane?.followGroup(sibling.name, 'backup', `sync group ${group.name}: ${member} left MASTER`);
    }
    const state = this.groupState(group);
    if (state === this.groupStates.get(group.name)) return;
    this.groupStates.set(group.name, state);
    this.log.info(`sync group ${group.name}: ${state.toUpperCase()}`, { component: 'vrrp' });
    this.queue(`group ${group.name}`, () => this.notifyState(group.notify, 'GROUP', group.name, state, 0));
  }

  /** FAULT if a member is; MASTER when all are; STOP when all stopped; else BACKUP. */
  private groupState(group: VrrpSyncGroupConfig): VrrpState {
    const states = group.members.map((m) => this.states.get(m.name) ?? 'init');
    if (states.includes('fault')) return 'fault';
    if (states.every((s) => s === 'master')) return 'master';
    if (states.every((s) => s === 'init')) return 'init';
    return 'backup';
  }

  private queue(instance: string, change: () => Promise<void> | void): void {
    const next = (this.changes.get(instance) ?? Promise.resolve()).then(change).catch((err: unknown) => {
      this.log.error(`${instance}: ${(err as Error).message}`, { component: 'vrrp' });
    });
    this.changes.set(instance, next);
  }

  private reportProblems(problems: readonly string[]): void {
    for (const p of problems) this.log.error(p, { component: 'vip', code: 'HAD_VIP' });
  }

  /** The device a VIP is on (its own `dev`, else its instance's interface), when an instance carries it. */
  deviceOf(address: string): string | undefined {
    for (const vi of this.config.vrrpInstances) {
      const set = this.vipSet(vi);
      const vip = set.addresses.find((a) => a.address === address);
      if (vip !== undefined) return vip.dev ?? set.interface;
    }
    return undefined;
  }

  private vipSet(vi: VrrpInstanceConfig): VipSet {
    const addresses = [...vi.virtualIpAddresses, ...vi.virtualIpAddressesExcluded];
    const vmac = this.vmacs.get(vi.name);
    return { instance: vi.name, addresses: vmac === undefined ? addresses : placeOnVmac(addresses, vmac), interface: vmac?.name ?? vi.interface, garp: vi.garp };
  }

  /**
   * `unicast_peer` narrows whom the instance's envelope adverts go to: the cluster nodes
   * with one of those addresses. An address that is no node's hears only the wire's
   * adverts, when the instance is on the wire (and when no address is a node's, the
   * envelope goes to every node); else it hears nothing, which is reported.
   */
  private advertTargets(vi: VrrpInstanceConfig, nodes: readonly NodeConfig[], onWire: boolean): { advertTo?: string[] } {
    if (vi.unicastPeers.length === 0) return {};
    const to: string[] = [];
    for (const peer of vi.unicastPeers) {
      const node = nodes.find((n) => n.name !== this.config.node && n.addresses.some((a) => a.address === peer.address));
      if (node !== undefined) {
        if (!to.includes(node.name)) to.push(node.name);
      } else if (!onWire) {
        this.log.warn(`${vi.name}: unicast_peer ${peer.address} is no other node of the cluster: no adverts go there (VRRP on the wire runs only when the VIPs are real addresses)`, { component: 'vrrp' });
      }
    }
    return to.length > 0 || !onWire ? { advertTo: to } : {};
  }

  /** This node, when it is a director of a cluster. */
  private director() {
    const me = this.config.cluster?.nodes.find((n) => n.name === this.config.node);
    return me === undefined || me.witness ? undefined : me;
  }

  /** Every node runs its instances but a witness; with no cluster, as keepalived does. */
  private runsInstances(): boolean {
    return this.config.cluster === undefined || this.director() !== undefined;
  }

  /** keepalived's notify scripts: the state's own, then `notify` with INSTANCE|GROUP NAME STATE PRIORITY; and the FIFO line. */
  private notifyState(scripts: NotifyScripts, kind: 'INSTANCE' | 'GROUP', name: string, state: VrrpState, priority: number): void {
    const word = state === 'init' ? 'STOP' : state.toUpperCase();
    this.fifo?.write(`${kind} "${name}" ${word} ${priority}`);
    const own = state === 'master' ? scripts.master : state === 'backup' ? scripts.backup : state === 'fault' ? scripts.fault : scripts.stop;
    this.notify(own, name);
    const generic = scripts.notify;
    if (generic !== undefined) this.notify({ ...generic, argv: [...generic.argv, kind, name, word, String(priority)] }, name);
  }
}
