// The director's Prometheus metrics, read from the engine, the plane and the health
// monitor at scrape time (nothing is counted twice). IPVS counters restart at zero after
// `ipvsadm -Z`, which Prometheus reads as a counter reset.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { IpvsEngine } from '../ipvs/engine';
import type { PlaneCounters } from '../ipvs/dataplane/plane';
import type { ServerHealth } from '../health/monitor';
import { serviceDisplayName } from '../ipvs/service';
import type { SyncStatus } from './cluster-sync';
import type { WireInstanceStatus } from './wire-vrrp';
import type { WireSocketStatus } from './wire-carrier';
import { dropReasons } from '../vrrp/wire/receive';
import { colourRank } from '../host/colour';
import type { HostStatus } from './host-monitor';

export interface MetricsSources {
  readonly engine: IpvsEngine;
  readonly plane: () => PlaneCounters;
  readonly health: () => ServerHealth[];
  readonly quorum: () => ReadonlyArray<{ service: string; held: boolean; liveWeight: number }>;
  /** Connection sync, when this director takes part in it. */
  readonly sync?: () => SyncStatus | undefined;
  /** VRRP on the wire (with no cluster block, or beside one): keepalived's per-instance statistics. */
  readonly wire?: () => { instances: WireInstanceStatus[]; sockets: WireSocketStatus[] } | undefined;
  /** Host health: the facts of the last sample and what they are judged. */
  readonly host?: () => HostStatus | undefined;
}

export function directorMetrics(src: MetricsSources): Registry {
  const registers = [new Registry()];
  const registry = registers[0] as Registry;
  collectDefaultMetrics({ register: registry, prefix: 'hadirector_' });

  const services = () => src.engine.listServices().map((svc) => ({ svc, service: serviceDisplayName(svc.key) }));
  const dests = () => services().flatMap(({ svc, service }) => svc.destinations.map((d) => ({ d, service, server: d.key })));

  const wire = () => src.wire?.() ?? { instances: [], sockets: [] };
  const sentAndReceived = (name: string, help: string, sent: keyof WireInstanceStatus['stats'], received: keyof WireInstanceStatus['stats']): void => {
    new Counter({
      name,
      help,
      labelNames: ['instance', 'direction'],
      registers,
      collect() {
        this.reset();
        for (const i of wire().instances) {
          this.inc({ instance: i.name, direction: 'sent' }, i.stats[sent]);
          this.inc({ instance: i.name, direction: 'received' }, i.stats[received]);
        }
      },
    });
  };
  sentAndReceived('hadirector_vrrp_adverts_total', 'VRRP adverts on the wire per instance: sent, and received that passed every check (keepalived advert_sent, advert_rcvd).', 'advert_sent', 'advert_rcvd');
  sentAndReceived('hadirector_vrrp_priority_zero_total', 'VRRP adverts with priority 0 (a master letting go) per instance, sent and received (keepalived pri_zero_sent, pri_zero_rcvd).', 'pri_zero_sent', 'pri_zero_rcvd');
  new Counter({
    name: 'hadirector_vrrp_packets_dropped_total',
    help: "Received VRRP packets that failed a check, per instance and keepalived's name for the check; addr_list_err also counts accepted adverts whose address list differs. Instance '' is what no instance took (vrid_err, or too short to tell).",
    labelNames: ['instance', 'reason', 'socket'],
    registers,
    collect() {
      this.reset();
      const w = wire();
      for (const i of w.instances) for (const reason of dropReasons) if (i.stats[reason] > 0) this.inc({ instance: i.name, reason, socket: '' }, i.stats[reason]);
      for (const s of w.sockets) for (const [reason, n] of Object.entries(s.drops)) this.inc({ instance: '', reason, socket: s.socket }, n ?? 0);
    },
  });
  new Counter({
    name: 'hadirector_vrrp_transitions_total',
    help: 'Times each instance became MASTER, and left it (keepalived become_master, release_master).',
    labelNames: ['instance', 'to'],
    registers,
    collect() {
      this.reset();
      for (const i of wire().instances) {
        this.inc({ instance: i.name, to: 'master' }, i.stats.become_master);
        this.inc({ instance: i.name, to: 'released' }, i.stats.release_master);
      }
    },
  });
  new Gauge({
    name: 'hadirector_vrrp_state',
    help: 'Each instance run on the wire: 1 for its state now.',
    labelNames: ['instance', 'state'],
    registers,
    collect() {
      this.reset();
      for (const i of wire().instances) for (const state of ['init', 'backup', 'master', 'fault']) this.set({ instance: i.name, state }, i.state === state ? 1 : 0);
    },
  });
  new Counter({
    name: 'hadirector_ipvs_service_connections_total',
    help: 'Connections scheduled by each virtual service (ipvsadm --stats Conns).',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const { svc, service } of services()) this.inc({ service }, svc.stats.conns);
    },
  });
  new Counter({
    name: 'hadirector_ipvs_service_packets_total',
    help: 'Packets through each virtual service; in is client to server.',
    labelNames: ['service', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const { svc, service } of services()) {
        this.inc({ service, direction: 'in' }, svc.stats.inPkts);
        this.inc({ service, direction: 'out' }, svc.stats.outPkts);
      }
    },
  });
  new Counter({
    name: 'hadirector_ipvs_service_bytes_total',
    help: 'Bytes through each virtual service; in is client to server.',
    labelNames: ['service', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const { svc, service } of services()) {
        this.inc({ service, direction: 'in' }, svc.stats.inBytes);
        this.inc({ service, direction: 'out' }, svc.stats.outBytes);
      }
    },
  });
  new Counter({
    name: 'hadirector_ipvs_server_connections_total',
    help: 'Connections scheduled to each real server.',
    labelNames: ['service', 'server'],
    registers,
    collect() {
      this.reset();
      for (const { d, service, server } of dests()) this.inc({ service, server }, d.stats.conns);
    },
  });
  new Gauge({
    name: 'hadirector_ipvs_server_connections',
    help: 'Connections of each real server now, active (ESTABLISHED) or inactive, as ipvsadm -L counts them.',
    labelNames: ['service', 'server', 'state'],
    registers,
    collect() {
      this.reset();
      for (const { d, service, server } of dests()) {
        this.set({ service, server, state: 'active' }, d.activeConns);
        this.set({ service, server, state: 'inactive' }, d.inactConns);
      }
    },
  });
  new Gauge({
    name: 'hadirector_ipvs_server_weight',
    help: 'Weight of each real server in the table (0: quiescent).',
    labelNames: ['service', 'server'],
    registers,
    collect() {
      this.reset();
      for (const { d, service, server } of dests()) this.set({ service, server }, d.weight);
    },
  });
  new Gauge({
    name: 'hadirector_ipvs_connection_entries',
    help: 'Entries in the connection table, persistence templates included.',
    registers,
    collect() {
      this.set(src.engine.conns.size);
    },
  });
  new Gauge({
    name: 'hadirector_realserver_up',
    help: 'Whether the health checks pass for each real server (1) or not (0).',
    labelNames: ['server'],
    registers,
    collect() {
      this.reset();
      for (const h of src.health()) this.set({ server: h.id }, h.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hadirector_service_quorum',
    help: 'Whether each virtual service has its quorum of live weight (1) or serves its sorry server (0).',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const q of src.quorum()) this.set({ service: q.service }, q.held ? 1 : 0);
    },
  });
  new Counter({
    name: 'hadirector_dataplane_events_total',
    help: 'Userspace data plane events: accepted connections, clients with no real server, real servers that refused or timed out, UDP datagrams dropped.',
    labelNames: ['event'],
    registers,
    collect() {
      this.reset();
      const c = src.plane();
      this.inc({ event: 'accepted' }, c.accepted);
      this.inc({ event: 'no_destination' }, c.noDestination);
      this.inc({ event: 'upstream_refused' }, c.upstreamRefused);
      this.inc({ event: 'upstream_timeout' }, c.upstreamTimeout);
      this.inc({ event: 'upstream_error' }, c.upstreamError);
      this.inc({ event: 'udp_dropped' }, c.udpDropped);
    },
  });
  const perPeer = <T extends { readonly peer: string }>(name: string, help: string, rows: () => readonly T[], value: (row: T) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const row of rows()) this.set({ peer: row.peer }, value(row));
      },
    });
  };
  const peers = () => src.sync?.()?.peers ?? [];
  const copies = () => src.sync?.()?.copies ?? [];
  perPeer('hadirector_sync_peer_lag_batches', "Batches of this director's connection-table stream that each peer has not acknowledged.", peers, (p) => p.batches);
  perPeer('hadirector_sync_peer_lag_seconds', 'How long the oldest batch each peer has not acknowledged has waited.', peers, (p) => p.ms / 1000);
  perPeer('hadirector_sync_copy_entries', "Entries in this director's copy of each peer's connection table.", copies, (c) => c.entries);
  perPeer('hadirector_sync_copy_behind_batches', "Batches of each peer's stream this director's copy has seen but not applied.", copies, (c) => c.lagBatches);
  perPeer('hadirector_sync_copy_in_sync', "1 when this director's copy of a peer's connection table is whole and current.", copies, (c) => (c.inSync ? 1 : 0));
  hostGauges(registers, () => src.host?.());
  return registry;
}

/** Host health as gauges: colours as 0 green, 1 yellow, 2 red. */
function hostGauges(registers: Registry[], host: () => HostStatus | undefined): void {
  const gauge = (name: string, help: string, labelNames: readonly string[], fill: (g: Gauge, h: HostStatus) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        const h = host();
        if (h !== undefined) fill(this, h);
      },
    });
  };
  gauge('hadirector_host_fact_value', "Each host fact as last sampled: memory, swap, cpu and disk in percent, load per CPU (5 minutes), interface_down a count of watched links down.", ['fact'], (g, h) => {
    for (const f of h.facts) if (f.value !== undefined) g.set({ fact: f.fact }, f.value);
  });
  gauge('hadirector_host_fact_colour', 'Each judged host fact: 0 green, 1 yellow, 2 red.', ['fact'], (g, h) => {
    for (const f of h.facts) if (f.colour !== undefined) g.set({ fact: f.fact }, colourRank[f.colour]);
  });
  gauge('hadirector_host_colour', "The host's colour, the worst of its facts': 0 green, 1 yellow, 2 red.", [], (g, h) => g.set(colourRank[h.colour]));
  gauge('hadirector_host_fault', "1 while host health holds this node's instances in FAULT.", [], (g, h) => g.set(h.fault ? 1 : 0));
  gauge('hadirector_host_priority_delta', "What host health adds to every instance's priority (0 or negative; progressive).", [], (g, h) => g.set(h.priorityDelta));
  gauge('hadirector_host_sample_duration_milliseconds', 'How long the last host sample took.', [], (g, h) => {
    if (h.lastSample !== undefined) g.set(h.lastSample.durationMs);
  });
  gauge('hadirector_host_filesystem_used_percent', 'Used space of the file system holding each watched path (config, state, logs).', ['path', 'mount'], (g, h) => {
    for (const fs of h.lastSample?.fileSystems ?? []) if (fs.usedPercent !== undefined) g.set({ path: fs.path, mount: fs.mount ?? '' }, fs.usedPercent);
  });
  gauge('hadirector_host_interface_up', 'Each watched interface (VRRP and VIP): 1 up, 0 down, -1 unknown (lo, tunnels).', ['interface'], (g, h) => {
    for (const i of h.lastSample?.interfaces ?? []) g.set({ interface: i.name }, i.link === 'up' ? 1 : i.link === 'down' ? 0 : -1);
  });
}
