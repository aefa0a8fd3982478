// Fencing on a cluster node: the coordinator fed with the cluster's views, its agents run
// for real, what it fences told to peers in heartbeats (so every backup's takeover gate
// learns it), its alerts logged as errors, and the operator's requests of the control API.
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import { systemRng } from '../common/rng';
import type { ClusterConfig } from '../cluster/config';
import type { View } from '../cluster/membership';
import { findAgent, readMetadata, unknownOptions } from '../fencing/agents/fence-agent';
import { AgentRunner } from '../fencing/agents/runner';
import { FencingCoordinator, outranks, viewFacts, type FenceRecord } from '../fencing/coordinator';
import { RefusedRequest, type FenceControl } from './control-protocol';

/** How many operations `status` shows; `fence history` shows them all. */
const statusHistory = 10;

export class ClusterFencing {
  private readonly coordinator: FencingCoordinator;
  private readonly runner: AgentRunner;

  constructor(
    private readonly cluster: ClusterConfig,
    self: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    onFenced: (node: string) => void,
    /** Whether a node holds a VIP, as last known (its heartbeats, or this node's own instances). */
    holdsVips: (node: string) => boolean,
  ) {
    const component = { component: 'fencing' };
    this.runner = new AgentRunner(clock);
    this.coordinator = new FencingCoordinator({
      self,
      config: cluster.fencing,
      directors: cluster.nodes.filter((n) => !n.witness).map((n) => n.name),
      clock,
      rng: systemRng,
      runner: this.runner,
      outranks: (a, b) => outranks(holdsVips, (n) => cluster.nodes.find((x) => x.name === n)?.priority ?? 0, a, b),
      events: {
        fenced: (node) => onFenced(node),
        alert: (message) => log.error(message, component),
        log: (message) => log.info(message, component),
      },
    });
  }

  /**
   * Checks each fence_* device's options against what its agent's metadata lists, and
   * warns where one is unknown (a typo would otherwise only show when fencing fails).
   */
  async checkAgents(): Promise<void> {
    for (const device of this.cluster.fencing.devices) {
      if (device.agent?.startsWith('fence_') !== true) continue;
      const program = findAgent(device.agent);
      if (program === undefined) {
        this.log.error(`fence device ${device.name}: ${device.agent} is not installed (Debian: apt-get install fence-agents)`, { component: 'fencing' });
        continue;
      }
      const meta = await readMetadata(program);
      if ('error' in meta) {
        this.log.warn(`fence device ${device.name}: ${meta.error}`, { component: 'fencing' });
        continue;
      }
      for (const option of unknownOptions(meta.parameters, device.options)) {
        const at = device.optionWhere[option];
        this.log.warn(`${at !== undefined ? `${at.file}:${at.line}:${at.col}: ` : ''}fence device ${device.name}: ${device.agent} takes no option '${option}' (its metadata lists: ${meta.parameters.join(', ')})`, { component: 'fencing' });
      }
    }
  }

  viewChanged(view: View): void {
    this.coordinator.viewChanged(viewFacts(view));
  }

  fenced(): string[] {
    return this.coordinator.fencedNodes();
  }

  stop(): void {
    this.coordinator.stop();
  }

  status(): { mode: string; leading: boolean; pending: string[]; fenced: string[]; history: readonly FenceRecord[] } {
    return { mode: this.cluster.fencing.mode, leading: this.coordinator.isLeading, pending: this.coordinator.pending(), fenced: this.fenced(), history: this.coordinator.history().slice(-statusHistory) };
  }

  private knownNode(name: string): void {
    const nodes = this.cluster.nodes.map((n) => n.name);
    if (!nodes.includes(name)) throw new RefusedRequest(`'${name}' is no node of the cluster (${nodes.join(', ')})`);
  }

  /** An operator's request; an answer, or an Error whose message says what is wrong. */
  async request(r: FenceControl): Promise<unknown> {
    switch (r.action) {
      case 'history':
        return this.coordinator.history();
      case 'confirm':
        this.knownNode(r.target);
        this.log.warn(`an operator confirmed ${r.target} is off`, { component: 'fencing' });
        return this.coordinator.confirm(r.target);
      case 'test': {
        const device = this.cluster.fencing.devices.find((d) => d.name === r.target);
        if (device === undefined) throw new RefusedRequest(`no fence device '${r.target}' (devices: ${this.cluster.fencing.devices.map((d) => d.name).join(', ') || 'none'})`);
        const target = device.hosts[0] ?? this.cluster.fencing.levels.find((l) => l.devices.some((d) => d.name === device.name))?.target;
        const abort = new AbortController();
        const timer = this.clock.setTimeout(() => abort.abort(), device.timeoutMs);
        try {
          return await this.runner.run(device, target ?? '', device.agent?.startsWith('fence_') === true ? 'monitor' : 'status', abort.signal);
        } finally {
          this.clock.clearTimeout(timer);
        }
      }
      default: {
        this.knownNode(r.target);
        const record = this.coordinator.fence(r.target, r.action);
        if ('error' in record) throw new RefusedRequest(record.error);
        return record;
      }
    }
  }
}
