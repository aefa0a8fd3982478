// One director: the IPVS table built from the virtual_server blocks, the data plane
// serving it (the kernel's nftables rules, or the userspace relay), health checks
// deciding which real servers are in it, and the control API. It owns the lifecycle:
// start, reload (apply the difference, keep every established connection), stop (stop
// accepting, drain, release). It watches its own host too (host-monitor.ts): a sick host
// puts its instances in FAULT or lowers their priority, as a tracker does.
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { capNetAdmin, hasCapability } from '../common/capabilities';
import { RealClock, type Clock, type TimerHandle } from '../common/clock';
import type { Logger } from '../common/log';
import { systemRng, type Rng } from '../common/rng';
import type { ClusterConfig } from '../cluster/config';
import { isWitness, type HadConfig } from '../config/model';
import type { Command } from '../config/values';
import type { CheckerConfig } from '../health/config';
import { HealthMonitor, type HealthTarget, type ServerHealth } from '../health/monitor';
import { ServicePool, type DesiredDest } from '../health/pool';
import { probeFor as defaultProbeFor, type Probe, type Target } from '../health/probes';
import { parseIpAddr, type IpAddr } from '../ipvs/address';
import { runConntrack } from '../common/conntrack';
import type { IpvsadmRunner } from '../common/ipvsadm';
import { nftBatch, nftJson, nftText } from '../common/nft';
import type { ConntrackRun } from '../ipvs/dataplane/nftables/conntrack';
import { IpvsPlane } from '../ipvs/dataplane/ipvs/ipvs-plane';
import { syncDaemonFollows } from './sync-daemon-follows';
import { KernelPlane, type KernelShape, type NftApply, type NftListCounters, type NftListMap } from '../ipvs/dataplane/nftables/kernel-plane';
import { tableName } from '../ipvs/dataplane/nftables/ruleset';
import type { DataPlane } from '../ipvs/dataplane/plane';
import { UserspacePlane, userspaceAdmit } from '../ipvs/dataplane/userspace-plane';
import { IpvsEngine } from '../ipvs/engine';
import { runIpvsadm } from '../ipvs/ipvsadm/execute';
import { ipvsadmPrinter } from '../ipvs/ipvsadm/format';
import { systemServiceNames } from '../ipvs/ipvsadm/service-names';
import { serviceDisplayName, type VirtualService } from '../ipvs/service';
import { RefusedRequest, type ControlRequest, type IpvsadmResult } from './control-protocol';
import { vipPermission, type VipPermission } from '../cluster/quorum';
import { ClusterMember } from './cluster-member';
import { ControlServer } from './control-server';
import { directorMetrics } from './metrics';
import { runNotify } from './notify';
import { VrrpInstances } from './vrrp-instances';
import { clockSchedule, cronSchedule, HostMonitor, type HostStatus } from './host-monitor';
import type { HostFactSource } from '../host/facts';
import { SiHostFactSource } from '../host/si-source';
import type { HostHealthConfig } from '../host/config';
import { AgentRunner } from '../fencing/agents/runner';
import { ClusterSync } from './cluster-sync';
import { loopbackDriver } from '../vip/driver';
import { processRunner, type CommandRunner } from '../vip/linux-driver';
import { VmacDevices, procSysctls, type Sysctls } from '../vip/vmac-devices';
import { selectAddressDriver } from '../vip/select';
import { choosePlane, hostPlaneFacts, kernelMethod, type HostPlaneFacts, type PlaneDecision } from './plane-choice';
import { carriedPlan, orLbKind, planServices, type RealServerPlan, type ServicePlan } from './service-plan';
import { advertSource, wireSettings, type InterfaceAddresses } from './wire-settings';
import { WireVrrp, type WireInstanceStatus } from './wire-vrrp';
import { WireCarrier, type WireSocketOpener, type WireSocketStatus, type WireStats } from './wire-carrier';
import type { VrrpState } from '../vrrp/instance';
import { openVrrpSocket } from '../vrrp/wire/raw-socket';
import type { Registry } from 'prom-client';

export const drainDefaultMs = 10_000;
const tickMs = 1000;

export interface DirectorOptions {
  readonly config: HadConfig;
  readonly configFile: string;
  readonly controlPath: string;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly rng?: Rng;
  /** How long a real server may take to accept a relayed connection. */
  readonly upstreamConnectTimeoutMs?: number;
  readonly drainMs?: number;
  /** `streams` relays TCP on net.Socket instead of Node's handles (an escape hatch). */
  readonly tcpRelay?: 'handles' | 'streams';
  /** Tests replace the real probes. */
  readonly probeFor?: (checker: CheckerConfig, target: Target) => Probe | undefined;
  /** Whether the process may change addresses; by default, whether it runs as root. */
  readonly root?: boolean;
  /** Tests replace the programs the linux VIP driver runs (ip, arping). */
  readonly commandRunner?: CommandRunner;
  /** VRRP on the wire (with no cluster block, or beside it when the VIPs are real): the raw sockets (tests give fakes) and the host's interfaces. */
  readonly wireSockets?: WireSocketOpener;
  readonly interfaces?: InterfaceAddresses;
  /** Tests replace the interfaces' sysctl files (use_vmac). */
  readonly sysctls?: Sysctls;
  /** What the host offers the data planes; by default, root and the kernel probe's word. */
  readonly hostPlane?: HostPlaneFacts;
  /** Tests replace `nft -f`, `nft -j list map` and `nft -j list counters` for the kernel plane. */
  readonly nftApply?: NftApply;
  readonly nftListMap?: NftListMap;
  readonly nftListCounters?: NftListCounters;
  readonly conntrack?: ConntrackRun;
  /** Tests replace ipvsadm for the IPVS plane. */
  readonly ipvsadm?: IpvsadmRunner;
  /** Where host facts come from: systeminformation by default; tests give a script. */
  readonly hostFacts?: HostFactSource;
  /** The directory whose file system holds the logs (journald's or syslog's): /var/log by default. */
  readonly logDir?: string;
}

export const logDirDefault = '/var/log';

/** jhash's seed for the kernel plane: from the cluster's id, so every director of a cluster hashes a flow alike. */
function hashSeedOf(config: HadConfig): number {
  return createHash('sha256').update(config.cluster?.clusterId ?? config.global.routerId ?? 'hadirector').digest().readUInt32BE(0);
}

const rawVrrpSockets: WireSocketOpener = (family, iface, group, received) => openVrrpSocket({ family, interface: iface, group, received });

const hostInterfaces: InterfaceAddresses = (name) =>
  os.networkInterfaces()[name]?.map((a) => ({ family: a.family === 'IPv6' ? (6 as const) : (4 as const), address: a.address }));

export class StartError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

interface ActiveService {
  readonly plan: ServicePlan;
  readonly pool: ServicePool;
}

const withoutPositions = (value: unknown): string => JSON.stringify(value, (k, v: unknown) => (k === 'where' ? undefined : v));

export class Director {
  readonly engine: IpvsEngine;
  readonly plane: DataPlane;
  private readonly planeDecision: PlaneDecision | { readonly error: string };
  private readonly health: HealthMonitor;
  private readonly control: ControlServer;
  private readonly metrics: Registry;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly services = new Map<string, ActiveService>();
  private readonly memberService = new Map<string, string>();
  private config: HadConfig;
  private tickTimer: TimerHandle | undefined;
  private readonly startedWallMs: number;
  private stopping = false;
  private member: ClusterMember | undefined;
  /** With no cluster block: the instances as keepalived runs them. */
  private wire: WireVrrp | undefined;
  /** VRRP on the wire: for `wire`, or beside the cluster's envelope when the VIPs are real addresses. */
  private carrier: WireCarrier | undefined;
  private sync: ClusterSync | undefined;
  private readonly vrrp: VrrpInstances;
  private readonly vmacs: VmacDevices;
  private readonly driverProblem: string | undefined;
  private readonly fenceRunner: AgentRunner;
  private readonly host: HostMonitor;

  private constructor(private readonly options: DirectorOptions) {
    this.clock = options.clock ?? new RealClock();
    this.log = options.log;
    this.config = options.config;
    this.fenceRunner = new AgentRunner(this.clock);
    this.startedWallMs = this.clock.wallMs();
    this.engine = new IpvsEngine({ clock: this.clock, rng: options.rng ?? systemRng });
    const root = options.root ?? hasCapability(capNetAdmin);
    this.planeDecision = choosePlane(options.config.global.dataPlane, options.hostPlane ?? hostPlaneFacts(options.config, root));
    const events = {
      warn: (message: string, fields: Record<string, unknown>) => this.log.warn(message, { component: 'dataplane', ...fields }),
      info: (message: string, fields: Record<string, unknown>) => this.log.info(message, { component: 'dataplane', ...fields }),
    };
    const decision = this.planeDecision;
    this.plane =
      'plane' in decision && decision.plane === 'ipvs'
        ? new IpvsPlane({ engine: this.engine, events, ...(options.ipvsadm !== undefined ? { run: options.ipvsadm } : {}) })
        : 'plane' in decision && decision.plane === 'kernel'
        ? new KernelPlane({
            engine: this.engine,
            apply: options.nftApply ?? ((batch) => nftBatch(batch)),
            listMap: options.nftListMap ?? ((family, kind, name) => nftText(['list', kind, family, tableName, name])),
            listCounters: options.nftListCounters ?? ((family) => nftJson(['list', 'counters', 'table', family, tableName])),
            ...(decision.offer.missing.has('conntrack') ? {} : { conntrack: options.conntrack ?? ((args) => runConntrack(args)) }),
            events,
            hashSeed: hashSeedOf(options.config),
            shapeOf: (svc) => this.kernelShape(svc, decision),
          })
        : new UserspacePlane(this.engine, events, options.upstreamConnectTimeoutMs, options.tcpRelay ?? 'handles');
    const driver = selectAddressDriver(options.config, {
      root,
      clock: this.clock,
      ...(options.commandRunner !== undefined ? { runner: options.commandRunner } : {}),
      warn: (message) => this.log.warn(message, { component: 'vip' }),
    });
    this.driverProblem = typeof driver === 'string' ? driver : undefined;
    this.vrrp = new VrrpInstances(options.config, this.plane, typeof driver === 'string' ? loopbackDriver : driver, this.clock, this.log, (command, subject) =>
      this.notify(command, subject),
    );
    this.host = this.hostMonitor(options);
    this.vmacs = new VmacDevices([...this.vrrp.vmacs.values()], options.commandRunner ?? processRunner, options.sysctls ?? procSysctls);
    this.health = new HealthMonitor(this.clock, options.rng ?? systemRng, {
      changed: (id, up, reason) => this.serverChanged(id, up, reason),
      weight: (id, weight) => this.serverWeight(id, weight),
    });
    this.control = new ControlServer(options.controlPath, (request) => this.answer(request));
    this.metrics = directorMetrics({
      engine: this.engine,
      plane: () => this.plane.counters,
      health: () => this.health.view(),
      quorum: () => [...this.services.values()].map((s) => ({ service: s.plan.id, held: s.pool.hasQuorum, liveWeight: s.pool.liveWeight() })),
      sync: () => this.sync?.status(),
      wire: () => this.wireStatus(),
      host: () => this.host.status(),
    });
  }

  /**
   * The host's sampler and judge. Watched: the file systems of the config, the state (the
   * control socket's directory), the logs and notify_fifo; the links of every instance's
   * interface and VIP device. Samples follow cron's seconds on the real clock, and the
   * injected clock in tests.
   */
  private hostMonitor(options: DirectorOptions): HostMonitor {
    const config = options.config;
    const fifo = config.global.notifyFifo?.argv[0];
    const paths = [path.dirname(path.resolve(options.configFile)), path.dirname(path.resolve(options.controlPath)), options.logDir ?? logDirDefault, ...(fifo !== undefined ? [path.dirname(path.resolve(fifo))] : [])];
    const interfaces = isWitness(config)
      ? []
      : config.vrrpInstances.flatMap((vi) => [vi.interface, ...[...vi.virtualIpAddresses, ...vi.virtualIpAddressesExcluded].map((v) => v.dev)]).filter((n): n is string => n !== undefined);
    const onClock = clockSchedule(this.clock);
    return new HostMonitor({
      config: config.global.hostHealth,
      clock: this.clock,
      source: options.hostFacts ?? new SiHostFactSource(),
      paths: [...new Set(paths)],
      interfaces: [...new Set(interfaces)],
      schedule: options.clock === undefined ? cronSchedule(onClock) : onClock,
      log: this.log,
      events: {
        decided: () => this.vrrp.hostChanged(this.host.shell.extraWeight()),
        colourChanged: (_from, to, causes) => this.hostColourChanged(to, causes),
      },
    });
  }

  /** notify_fifo's line, and host_health's notify script: `HOST NODE COLOUR CAUSES`. */
  private hostColourChanged(colour: string, causes: readonly string[]): void {
    const word = colour.toUpperCase();
    this.vrrp.hostColour(this.config.node, word, causes);
    const notify = this.config.global.hostHealth.notify;
    if (notify !== undefined) runNotify({ ...notify, argv: [...notify.argv, 'HOST', this.config.node, word, causes.join('; ')] }, (m) => this.log.warn(m, { component: 'host', subject: this.config.node }));
  }

  /**
   * The first sample, before any instance starts, so a sick host starts in FAULT; with
   * strategy none it decides nothing, so the start does not wait for it (the first
   * sample of systeminformation takes half a second to read the CPU).
   */
  private async firstHostSample(health: HostHealthConfig): Promise<void> {
    this.vrrp.openFifo();
    const first = this.host.sample();
    if (health.strategy !== 'none') await first;
    this.host.start();
  }

  /** Builds and starts everything, or explains every reason it cannot. */
  static async start(options: DirectorOptions): Promise<Director> {
    const director = new Director(options);
    const decision = director.planeDecision;
    if ('error' in decision) throw new StartError([decision.error]);
    director.log.info(`data plane: ${decision.plane} (${decision.why})`, { component: 'dataplane' });
    const conntrack = decision.plane === 'kernel' ? decision.offer.missing.get('conntrack') : undefined;
    if (conntrack !== undefined && options.config.cluster !== undefined) director.log.warn(conntrack, { component: 'dataplane', code: 'HAD_KERNEL_PLANE' });
    const planned = director.plan(options.config);
    const errors = planned.errors;
    const plans = director.carried(planned.plans, decision);
    if (director.driverProblem !== undefined) errors.push(director.driverProblem);
    if (errors.length > 0) throw new StartError(errors);
    if (director.plane instanceof KernelPlane) {
      const leftover = await director.plane.start();
      if (leftover !== undefined) throw new StartError([`nftables: ${leftover} (HAD_KERNEL_PLANE)`]);
    }
    if (director.plane instanceof IpvsPlane) {
      const leftover = await director.plane.start(plans.map((p) => p.key), options.config.global.lvsFlush);
      if (leftover !== undefined) throw new StartError([`ipvs: ${leftover} (HAD_IPVS_PLANE)`]);
      director.followSyncDaemon(director.plane);
    }
    await director.makeVmacs();
    await director.vrrp.removeLeftovers();
    for (const plan of plans) director.addService(plan);
    director.vrrp.claimVipListeners();
    const listenErrors = await director.plane.reconcile();
    if (listenErrors.length > 0) {
      director.health.stop();
      await director.plane.close(0);
      await director.vmacs.remove();
      throw new StartError(listenErrors);
    }
    try {
      await director.firstHostSample(options.config.global.hostHealth);
      if (options.config.cluster !== undefined) await director.joinCluster(options.config.cluster, options.config.node);
      else director.runWithoutCluster(options.config);
      await director.control.start();
    } catch (err) {
      director.host.stop();
      await director.member?.stop('crash');
      director.wire?.close();
      director.carrier?.close();
      director.health.stop();
      await director.plane.close(0);
      await director.vmacs.remove();
      throw err instanceof StartError ? err : new StartError([(err as Error).message]);
    }
    director.scheduleTick();
    director.log.info('director started', { component: 'director', node: options.config.node, services: plans.length, control: options.controlPath });
    return director;
  }

  /**
   * The VMACs of use_vmac, before any address goes on them or any advert leaves from
   * them; with loopback VIPs there is no interface to make, which is said.
   */
  private async makeVmacs(): Promise<void> {
    const ignored = this.config.vrrpInstances.filter((vi) => vi.vmac !== undefined && !this.vrrp.vmacs.has(vi.name)).map((vi) => vi.name);
    if (ignored.length > 0 && this.vrrp.addressKind === 'loopback') this.log.warn(`${ignored.join(', ')}: use_vmac ignored: the VIPs are loopback addresses, on no interface a VMAC could stand beside`, { component: 'vip' });
    if (this.vmacs.devices.length === 0) return;
    const interfaces = this.options.interfaces ?? hostInterfaces;
    const problems = await this.vmacs.create((d) => {
      const vi = this.config.vrrpInstances.find((i) => i.name === d.instance);
      return vi === undefined ? undefined : advertSource(vi, interfaces(d.base))?.text;
    });
    if (problems.length === 0) {
      this.log.info(`use_vmac: ${this.vmacs.devices.map((d) => `${d.instance} on ${d.name} (${d.mac}, over ${d.base})`).join('; ')}`, { component: 'vip' });
      return;
    }
    await this.vmacs.remove();
    throw new StartError(problems);
  }

  /** Applies a new configuration; a refused one changes nothing and its problems are returned. */
  async reload(config: HadConfig): Promise<string[]> {
    const planned = this.plan(config);
    const decision = this.planeDecision;
    if ('error' in decision) return [decision.error];
    if (planned.errors.length > 0) return planned.errors;
    const plans = this.carried(planned.plans, decision);
    const wanted = new Map(plans.map((p) => [p.id, p]));
    for (const [id, active] of this.services) {
      if (wanted.has(id)) continue;
      const svc = this.engine.findService(active.plan.key);
      if (svc !== undefined) this.engine.deleteService(svc);
      this.forget(active);
      this.services.delete(id);
    }
    for (const plan of plans) {
      const active = this.services.get(plan.id);
      if (active === undefined) this.addService(plan);
      else this.updateService(active, plan);
    }
    if (withoutPositions(config.cluster ?? null) !== withoutPositions(this.config.cluster ?? null)) {
      this.log.warn('the cluster block changed: it takes effect at the next restart', { component: 'director' });
    }
    if (config.global.dataPlane !== this.config.global.dataPlane) {
      this.log.warn(`data_plane ${config.global.dataPlane}: it takes effect at the next restart (this run keeps the ${this.plane.kind} plane)`, { component: 'director' });
    }
    if (withoutPositions(config.vrrpInstances) !== withoutPositions(this.config.vrrpInstances)) {
      this.log.warn('a vrrp_instance changed: it takes effect at the next restart', { component: 'director' });
    }
    this.config = config;
    this.host.reload(config.global.hostHealth);
    const listenErrors = await this.plane.reconcile();
    this.log.info('configuration reloaded', { component: 'director', services: plans.length });
    return listenErrors;
  }

  /** This node's control plane on its links, with connection sync and the trackers; started. */
  private async joinCluster(cluster: ClusterConfig, self: string): Promise<void> {
    const sync = this.connectionSync(cluster, self);
    const carrier = this.openWireBesideCluster();
    this.carrier = carrier;
    const sources = new Map(carrier?.settings.map((s) => [s.name, s.source.text]));
    const member = await ClusterMember.open({
      cluster,
      self,
      instances: this.vrrp.settings(sources),
      ...(carrier !== undefined ? { wire: carrier } : {}),
      clock: this.clock,
      rng: this.options.rng ?? systemRng,
      log: this.log,
      fenceRunner: this.fenceRunner,
      host: {
        instanceChanged: (instance, from, to, _reason, priority) => this.vrrp.instanceChanged(instance, from, to, priority),
        syncReceived: (sender, body) => sync?.receive(sender, body),
        preemptHold: (instance, holder) => sync?.preemptHold(instance, holder),
        skewChanged: (peer, level, offsetMs) => {
          const notify = cluster.time.notify;
          if (notify !== undefined) runNotify({ ...notify, argv: [...notify.argv, peer, level, offsetMs.toFixed(0)] }, (m) => this.log.warn(m, { component: 'cluster' }));
        },
      },
    });
    this.member = member;
    const nodes = cluster.nodes.map((n) => `${n.name}${n.witness ? ' (witness)' : ''}`).join(', ');
    const adverts =
      carrier !== undefined
        ? `VRRP on the wire too, on ${carrier.describe()}: a VRRP router there that is no node of the cluster (a keepalived director) is followed as keepalived would follow it, and is never fenced`
        : isWitness(this.config) || this.config.vrrpInstances.length === 0
          ? 'no vrrp_instance runs here'
          : 'VRRP adverts in the cluster envelope only (the VIPs are loopback addresses)';
    this.log.info(`cluster ${cluster.clusterId}: quorum and fencing among ${nodes}; ${adverts}`, { component: 'cluster' });
    void member.plane.fencing.checkAgents();
    sync?.start({ sendSync: (body) => member.plane.sendSync(body), syncReceiveBufferBytes: () => member.plane.syncReceiveBufferBytes() });
    // The trackers' first readings reach the instances before they start.
    this.vrrp.startTrackers(member.plane);
    member.start();
  }

  /**
   * With a cluster block and real VIPs, the instances' adverts go on the wire as well as in
   * the envelope, so a keepalived director can be this one's peer while a pair is migrated
   * one director at a time; the loopback lab keeps to the envelope.
   */
  private openWireBesideCluster(): WireCarrier | undefined {
    if (this.vrrp.addressKind !== 'linux' || isWitness(this.config) || this.config.vrrpInstances.length === 0) return undefined;
    const plan = wireSettings(this.config, this.options.interfaces ?? hostInterfaces, this.vrrp.vmacs);
    for (const note of plan.notes) this.log.warn(note, { component: 'vrrp' });
    if (plan.problems.length > 0) throw new StartError(plan.problems);
    return new WireCarrier(
      plan.settings,
      this.options.wireSockets ?? rawVrrpSockets,
      { listening: (instance) => this.member?.plane.listening(instance) ?? false, received: (advert) => this.member?.plane.wireAdvert(advert) },
      this.log,
    );
  }

  /** keepalived's statistics of each instance on the wire, and what each socket dropped. */
  private wireStatus(): { instances: WireInstanceStatus[]; sockets: WireSocketStatus[] } | undefined {
    if (this.carrier === undefined) return undefined;
    const instances = this.vrrpStatus().flatMap((i) => (i.stats === undefined ? [] : [{ ...i, stats: i.stats }]));
    return { instances, sockets: this.carrier.socketStatus() };
  }

  /**
   * No cluster block: every instance runs as keepalived runs it, on real VRRP, with no
   * quorum and no fencing; said in one line at start.
   */
  private runWithoutCluster(config: HadConfig): void {
    if (config.vrrpInstances.length === 0) return;
    const plan = wireSettings(config, this.options.interfaces ?? hostInterfaces, this.vrrp.vmacs);
    for (const note of plan.notes) this.log.warn(note, { component: 'vrrp' });
    if (plan.problems.length > 0) throw new StartError(plan.problems);
    const wire = new WireVrrp(plan.settings, this.options.wireSockets ?? rawVrrpSockets, this.clock, { instanceChanged: (instance, from, to, _reason, priority) => this.vrrp.instanceChanged(instance, from, to, priority) }, this.log);
    this.wire = wire;
    this.carrier = wire.carrier;
    this.log.info(`no cluster block: ${plan.settings.length} vrrp_instance${plan.settings.length === 1 ? '' : 's'} run as keepalived runs them, VRRP on the wire on ${wire.carrier.describe()}; no quorum, no fencing`, { component: 'vrrp' });
    this.vrrp.startTrackers(wire);
    wire.start();
  }

  /**
   * The services this plane can carry, the real servers it cannot left out; what it leaves
   * out is said once, each at its place, and the rest runs (as keepalived runs the rest of
   * a file with a virtual_server it cannot set up).
   */
  private carried(plans: readonly ServicePlan[], decision: PlaneDecision): ServicePlan[] {
    const out: ServicePlan[] = [];
    for (const p of plans) {
      const c = carriedPlan(p, decision);
      for (const r of c.refusals) this.log.warn(`${r}: not run on the ${decision.plane} plane`, { component: 'dataplane', code: 'HAD_PLANE_REFUSED' });
      if (c.plan !== undefined) out.push(c.plan);
    }
    return out;
  }

  /** The IPVS plane's sync daemon follows its VRRP instance (syncDaemonFollows says which). */
  private followSyncDaemon(plane: IpvsPlane): void {
    const { follows, problems } = syncDaemonFollows(this.config);
    for (const p of problems) this.log.warn(p, { component: 'dataplane', code: 'HAD_IPVS_PLANE' });
    if (follows.size === 0) {
      if (this.config.cluster?.sync.connections === true) this.log.warn('the IPVS plane replicates connections with the kernel\'s sync daemon, and no lvs_sync_daemon is set: a failover starts every connection afresh', { component: 'dataplane', code: 'HAD_IPVS_PLANE' });
      return;
    }
    const enter = (instance: string, to: VrrpState): void => {
      const f = follows.get(instance);
      if (f === undefined) return;
      void plane.syncTransition(to, f.iface, f.syncId, f.options).then((problem) => {
        if (problem !== undefined) this.log.error(`lvs_sync_daemon: ${problem}`, { component: 'dataplane', code: 'HAD_IPVS_PLANE', instance });
      });
    };
    this.vrrp.stateEntered = enter;
    for (const instance of follows.keys()) enter(instance, 'init');
  }

  /** Connection-table sync with the other directors, unless this is a witness or it is turned off. */
  private connectionSync(cluster: ClusterConfig, self: string): ClusterSync | undefined {
    const me = cluster.nodes.find((n) => n.name === self);
    if (me === undefined || me.witness || !cluster.sync.connections) return undefined;
    const peers = cluster.nodes.filter((n) => n.name !== self && !n.witness).map((n) => n.name);
    const sync = new ClusterSync(this.engine, self, peers, this.clock, this.log, { copyEntriesMax: cluster.sync.maxEntries }, cluster.sync.preemptWaitMs);
    this.sync = sync;
    this.vrrp.beforeTakeover = async (instance, addresses) => {
      sync.takeOver(instance, addresses);
      if (!(this.plane instanceof KernelPlane)) return;
      const startedMs = this.clock.nowMs();
      const problems = await this.plane.restoreSessions(sync.copied(addresses));
      for (const p of problems) this.log.error(p, { component: 'dataplane', code: 'HAD_DATAPLANE' });
      this.log.info(`${instance}: replicated sessions written to the kernel in ${Math.round(this.clock.nowMs() - startedMs)} ms`, { component: 'dataplane' });
    };
    return sync;
  }

  /** The services to run: none on a witness, which only votes. */
  private plan(config: HadConfig): { plans: ServicePlan[]; errors: string[] } {
    if (isWitness(config)) {
      if (config.virtualServers.length > 0) this.log.info(`node ${config.node} is a witness: its ${config.virtualServers.length} virtual_server blocks are not run`, { component: 'director' });
      return { plans: [], errors: [] };
    }
    return planServices(config.virtualServers, config.virtualServerGroups);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.omega();
    if (this.tickTimer !== undefined) this.clock.clearTimeout(this.tickTimer);
    // No host word after this: the instances are about to release, not to go to FAULT.
    this.host.stop();
    // The last changes to the table go before priority 0, so the backup taking over has them.
    this.sync?.flushNow();
    // Priority 0 first, so a backup takes over after its skew time, not a full timeout;
    // the peers are told this node leaves once its VIPs are down, so none fences it.
    this.member?.plane.release();
    this.wire?.release();
    this.vrrp.stop();
    await this.vrrp.settled();
    this.wire?.close();
    this.sync?.stop();
    await this.member?.stop('leave');
    this.carrier?.close();
    for (const p of await this.vmacs.remove()) this.log.warn(p, { component: 'vip' });
    this.health.stop();
    await this.control.stop();
    await this.plane.close(this.options.drainMs ?? drainDefaultMs);
    this.log.info('director stopped', { component: 'director' });
  }

  /**
   * After a bug: every VIP goes, priority 0 first where the machines still answer, within
   * two seconds at most; nothing else is stopped in order.
   */
  async crashStop(): Promise<void> {
    this.host.stop();
    const plane = this.member?.plane;
    try {
      plane?.release();
      this.wire?.release();
    } catch {
      // The agents may be what broke: priority 0 goes out without them.
      plane?.abandon();
    }
    this.vrrp.dropAll();
    await Promise.race([this.vrrp.settled(), new Promise((resolve) => setTimeout(resolve, 2000))]);
  }

  /** keepalived's omega: at shutdown, the down notifiers of what was up run as if it went down. */
  private omega(): void {
    for (const { plan, pool } of this.services.values()) {
      if (!plan.source.omega) continue;
      for (const m of plan.members) if (pool.isUp(m.id)) this.notify(m.notifyDown, m.id);
      if (pool.hasQuorum) this.notify(plan.quorumDown, plan.id);
    }
  }

  /** The host section of status: its colour, each fact, the last sample. */
  hostStatus(): HostStatus {
    return this.host.status();
  }

  healthView(): ServerHealth[] {
    return this.health.view();
  }

  status(): Record<string, unknown> {
    return {
      node: this.config.node,
      pid: process.pid,
      configFile: this.options.configFile,
      startedAt: new Date(this.startedWallMs).toISOString(),
      uptimeS: Math.floor((this.clock.wallMs() - this.startedWallMs) / 1000),
      dataPlane: this.plane.kind,
      ...('plane' in this.planeDecision ? { dataPlaneWhy: this.planeDecision.why } : {}),
      ...(this.plane instanceof UserspacePlane ? { tcpRelay: this.plane.tcpRelay } : {}),
      ...(this.member !== undefined ? { cluster: this.member.status(), vips: this.vipPermission() } : {}),
      ...(this.member !== undefined ? { fencing: this.member.plane.fencing.status() } : {}),
      vrrp: this.vrrpStatus(),
      host: this.hostStatus(),
      ...(this.carrier !== undefined ? { vrrpSockets: this.carrier.socketStatus() } : {}),
      ...(this.sync !== undefined ? { sync: this.sync.status() } : {}),
      connectionEntries: this.engine.conns.size,
      ...(this.plane instanceof UserspacePlane ? { relays: this.plane.liveRelays } : {}),
      dataPlaneEvents: { ...this.plane.counters },
      services: [...this.services.values()].map(({ plan, pool }) => ({
        service: plan.id,
        quorum: { held: pool.hasQuorum, liveWeight: pool.liveWeight(), needed: plan.pool.quorum, hysteresis: plan.pool.hysteresis },
        realServers: plan.members.map((m) => ({ server: m.id, up: pool.isUp(m.id) })),
      })),
    };
  }

  /** Each instance: the cluster's agents (with keepalived's statistics when on the wire too), or the wire's machines. */
  private vrrpStatus(): Array<{ readonly name: string; readonly instance: string; readonly state: VrrpState; readonly faults?: string[]; readonly stats?: WireStats }> {
    const carrier = this.carrier;
    if (this.member === undefined) return this.wire?.status() ?? [];
    return this.member.plane.instances().map((i) => {
      const stats = carrier?.stats(i.name);
      return stats === undefined ? i : { ...i, stats };
    });
  }

  /** What the view and no_quorum_policy allow this node to do with VIPs. */
  vipPermission(): VipPermission | undefined {
    const cluster = this.config.cluster;
    if (this.member === undefined || cluster === undefined) return undefined;
    return vipPermission(this.member.plane.node.view.quorate, cluster.noQuorumPolicy, isWitness(this.config));
  }

  ipvsadm(args: readonly string[], stdin?: string): IpvsadmResult {
    const names = systemServiceNames();
    return runIpvsadm(args, {
      engine: this.engine,
      ports: names,
      printer: ipvsadmPrinter(names, () => this.clock.nowMs()),
      ...(this.plane instanceof UserspacePlane ? { admit: userspaceAdmit } : {}),
      ...(stdin !== undefined ? { stdin } : {}),
    });
  }

  private async answer(request: ControlRequest): Promise<unknown> {
    switch (request.op) {
      case 'status':
        return this.status();
      case 'health':
        return this.healthView();
      case 'metrics':
        return this.metrics.metrics();
      case 'ipvsadm': {
        const result = this.ipvsadm(request.args, request.stdin);
        const problems = await this.plane.reconcile();
        this.log.info('ipvsadm', { component: 'control', args: request.args.join(' '), code: result.code });
        return problems.length === 0 ? result : { ...result, stderr: result.stderr + problems.map((p) => `hadirector: warning: ${p}\n`).join('') };
      }
      case 'fence':
        if (this.member === undefined) throw new RefusedRequest('this node is not in a cluster: nothing to fence');
        return this.member.plane.fenceRequest(request, this.fenceRunner);
    }
  }

  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      this.plane.expired(this.engine.tick());
      // The kernel's sessions into the table, where replication takes them to the backups.
      if (this.plane instanceof KernelPlane) void this.plane.pollSessions();
      if (!this.stopping) this.scheduleTick();
    }, tickMs);
  }

  private healthTarget(plan: ServicePlan, member: RealServerPlan): HealthTarget {
    const probeFor = this.options.probeFor ?? defaultProbeFor;
    const checkers: Array<{ config: CheckerConfig; probe: Probe }> = [];
    for (const config of member.checkers) {
      const probe = probeFor(config, { address: member.address, port: member.port });
      if (probe === undefined) this.log.warn(`${config.kind} is not supported yet: this checker is ignored`, { component: 'health', server: member.id });
      else checkers.push({ config, probe });
    }
    return { id: member.id, checkers, startDown: plan.alpha };
  }

  private addService(plan: ServicePlan): void {
    const svc = this.engine.addService(plan.key, plan.settings);
    for (const m of plan.members) this.memberService.set(m.id, plan.id);
    const pool = new ServicePool(plan.members, plan.pool, (member) => this.health.add(this.healthTarget(plan, member)));
    this.services.set(plan.id, { plan, pool });
    applyDests(this.engine, svc, [], pool.desired());
  }

  private updateService(active: ActiveService, plan: ServicePlan): void {
    const svc = this.engine.findService(plan.key);
    if (svc === undefined) {
      // Deleted by hand (ipvsadm -D): the reload puts it back as configured.
      this.services.delete(plan.id);
      this.forget(active);
      this.addService(plan);
      return;
    }
    if (withoutPositions(active.plan.settings) !== withoutPositions(plan.settings)) svc.edit(plan.settings);
    const oldMembers = new Map(active.plan.members.map((m) => [m.id, m]));
    for (const m of active.plan.members) {
      if (!plan.members.some((n) => n.id === m.id)) {
        this.health.remove(m.id);
        this.memberService.delete(m.id);
      }
    }
    const pool = new ServicePool(plan.members, plan.pool, (member) => {
      const old = oldMembers.get(member.id);
      this.memberService.set(member.id, plan.id);
      const kept = old !== undefined && withoutPositions(old.checkers) === withoutPositions(member.checkers) && active.plan.alpha === plan.alpha;
      const up = kept ? this.health.isUp(member.id) : undefined;
      return up ?? this.health.add(this.healthTarget(plan, member));
    });
    this.services.set(plan.id, { plan, pool });
    applyDests(this.engine, svc, active.pool.desired(), pool.desired());
  }

  private forget(active: ActiveService): void {
    for (const m of active.plan.members) {
      this.health.remove(m.id);
      this.memberService.delete(m.id);
    }
  }

  private serverChanged(id: string, up: boolean, reason: string): void {
    const active = this.activeFor(id);
    if (active === undefined) return;
    const { plan, pool } = active;
    const before = pool.desired();
    const quorum = pool.setUp(id, up);
    this.applyPool(active, before);
    this.log.info(`real server ${up ? 'up' : 'down'}`, { component: 'health', server: id, reason });
    const member = plan.members.find((m) => m.id === id);
    this.notify(up ? member?.notifyUp : member?.notifyDown, id);
    this.quorumChanged(active, quorum);
  }

  private serverWeight(id: string, weight: number): void {
    const active = this.activeFor(id);
    if (active === undefined) return;
    const before = active.pool.desired();
    const quorum = active.pool.setWeight(id, weight);
    this.applyPool(active, before);
    this.log.info('real server weight set by its check', { component: 'health', server: id, weight });
    this.quorumChanged(active, quorum);
  }

  private activeFor(memberId: string): ActiveService | undefined {
    const sid = this.memberService.get(memberId);
    return sid === undefined ? undefined : this.services.get(sid);
  }

  /** A health change in the table, and in the plane: the kernel's rules follow the table at once. */
  private applyPool(active: ActiveService, before: DesiredDest[]): void {
    const svc = this.engine.findService(active.plan.key);
    if (svc === undefined) return;
    applyDests(this.engine, svc, before, active.pool.desired());
    void this.plane.reconcile().then((problems) => {
      for (const p of problems) this.log.error(p, { component: 'dataplane', code: 'HAD_DATAPLANE' });
    });
  }

  private quorumChanged(active: ActiveService, change: 'quorum-lost' | 'quorum-gained' | undefined): void {
    if (change === undefined) return;
    const { plan, pool } = active;
    const lost = change === 'quorum-lost';
    const fields = { component: 'health', service: plan.id, liveWeight: pool.liveWeight(), quorum: plan.pool.quorum, sorryServer: plan.pool.sorry?.id };
    if (lost) this.log.warn('virtual service lost its quorum', fields);
    else this.log.info('virtual service has its quorum again', fields);
    this.notify(lost ? plan.quorumDown : plan.quorumUp, plan.id);
  }

  /**
   * How a service goes through the kernel: the method its real servers share (the
   * virtual_server's lb_kind while it has none), and for DR the device its VIP is on.
   */
  private kernelShape(svc: VirtualService, decision: Extract<PlaneDecision, { plane: 'kernel' }>): KernelShape {
    const plan = this.services.get(serviceDisplayName(svc.key))?.plan;
    const destinations = plan === undefined ? svc.destinations : orLbKind(svc.destinations, plan.source.method);
    const m = kernelMethod({ key: svc.key, destinations }, decision.offer);
    if ('refused' in m || m.method === 'nat') return m;
    const address = svc.key.kind === 'address' ? svc.key.address.text : '';
    const device = this.vrrp.deviceOf(address);
    return device !== undefined ? { method: 'dr', device } : { refused: `DR needs the device the VIP comes in on, and no vrrp_instance carries ${address} (HAD_KERNEL_DR)` };
  }

  private notify(command: Command | undefined, subject: string): void {
    if (command === undefined) return;
    runNotify(command, (message) => this.log.warn(message, { component: 'notify', subject }));
  }
}

/** Applies the difference between two wanted sets of real servers to a service. */
export function applyDests(engine: IpvsEngine, svc: VirtualService, before: readonly DesiredDest[], after: readonly DesiredDest[]): void {
  const addr = (d: DesiredDest): IpAddr | undefined => parseIpAddr(d.address);
  const wanted = new Map(after.map((d) => [d.id, d]));
  for (const d of before) {
    if (wanted.has(d.id)) continue;
    const a = addr(d);
    const dest = a === undefined ? undefined : svc.findDestination(a, d.port);
    if (dest !== undefined) engine.removeDestination(svc, dest);
  }
  const previous = new Map(before.map((d) => [d.id, d]));
  for (const d of after) {
    const a = addr(d);
    if (a === undefined) continue;
    const dest = svc.findDestination(a, d.port);
    if (dest === undefined) engine.addDestination(svc, a, d.port, d.settings);
    else if (withoutPositions(previous.get(d.id)?.settings) !== withoutPositions(d.settings)) svc.editDestination(dest, d.settings);
  }
}
