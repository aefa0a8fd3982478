// The IPVS data plane: the kernel's own IPVS, programmed with ipvsadm where the kernel has
// it (/proc/net/ip_vs). Each reconcile renders the engine's services against the table it
// last applied (render.ts) and runs the lines as one `ipvsadm -R`. ipvsadm -R goes on past
// a line the kernel refuses, so a refused batch leaves the table changed in part: the
// plane then forgets what it applied and reads the kernel's (`ipvsadm -S -n`) before the
// next render. Services under keys the configuration never declared are left alone, as
// keepalived leaves them (without lvs_flush). The kernel schedules, expires and (with its
// sync daemon, sync-daemon.ts) replicates connections itself: the engine stays the model
// of the services, not of their connections.
import { spawnIpvsadm, type IpvsadmResult, type IpvsadmRunner } from '../../../common/ipvsadm';
import type { VrrpState } from '../../../vrrp/instance';
import type { Connection } from '../../conn/connection';
import type { IpvsEngine } from '../../engine';
import { serviceKeyText, type ServiceKey } from '../../service';
import { zeroPlaneCounters, type DataPlane, type PlaneCounters, type PlaneEvents } from '../plane';
import { deleteServiceLine, renderCommands } from './render';
import { parseSavedTable } from './saved-table';
import { daemonArgs, daemonCommands, parseDaemonList, stopCommands, type DaemonCommand, type RunningDaemons, type SyncDaemonSpec } from './sync-daemon';
import { tableOfServices, type IpvsTable } from './table';

export interface IpvsPlaneOptions {
  readonly engine: IpvsEngine;
  readonly events: PlaneEvents;
  /** Runs ipvsadm; the system's (spawnIpvsadm) when absent. */
  readonly run?: IpvsadmRunner;
}

/** lvs_sync_daemon's optional settings: absent ones are the kernel's defaults. */
export type SyncDaemonOptions = Omit<SyncDaemonSpec, 'iface' | 'syncId'>;

/** Lines of ipvsadm's complaint carried into a problem: a refused batch may complain once a line. */
const complaintLinesMax = 5;

export class IpvsPlane implements DataPlane {
  readonly kind = 'ipvs';
  readonly counters: PlaneCounters = zeroPlaneCounters();
  /** What the kernel holds of this plane's services; undefined after a refused batch, until the kernel is read. */
  private applied: IpvsTable | undefined = new Map();
  /** While `applied` is unknown: the keys of the services this plane may have left in the kernel. */
  private readonly mayHold = new Set<string>();
  /** The sync daemons the kernel runs; undefined until read, and again after a command failed. */
  private daemons: RunningDaemons | undefined;
  private daemonsTouched = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly run: IpvsadmRunner;

  constructor(private readonly o: IpvsPlaneOptions) {
    this.run = o.run ?? ((args, stdin) => spawnIpvsadm(args, stdin));
  }

  /**
   * Deletes from the kernel the services under the configured keys (a previous run's, or
   * another tool's), so that the first reconcile adds them as the engine has them. Other
   * services stay, unless `flushAll` (keepalived's lvs_flush) clears the whole table
   * first. Resolves with what went wrong.
   */
  start(declared: readonly ServiceKey[], flushAll = false): Promise<string | undefined> {
    return this.serial(async () => {
      if (flushAll) {
        const cleared = await this.run(['-C'], '');
        if (cleared.code !== 0) return `ipvsadm -C (lvs_flush): ${complaint(cleared)}`;
      }
      const keys = new Set(declared.map(serviceKeyText));
      const read = await this.readKernel(keys);
      if ('problem' in read) {
        this.forget(keys);
        return `the kernel's IPVS table could not be read: ${read.problem}`;
      }
      const lines = [...read.table.values()].map((svc) => deleteServiceLine(svc.key));
      const refused = lines.length === 0 ? undefined : await this.batch(lines);
      if (refused !== undefined) {
        this.forget(keys);
        return `ipvsadm -R could not delete the services left under the configured keys: ${refused}`;
      }
      this.applied = new Map();
      return undefined;
    });
  }

  reconcile(): Promise<string[]> {
    return this.serial(() => this.reconcileNow());
  }

  /** Every director holds the services; only the VIP's holder receives their traffic. */
  setHeldAddresses(_holds: (address: string) => boolean): void {}

  /** The kernel expires its own connections. */
  expired(_conns: readonly Connection[]): void {}

  /**
   * Deletes the services this plane added and stops the sync daemons. The kernel's
   * connections outlive their service (their real servers wait in its trash), so there
   * is nothing to drain here.
   */
  async close(_drainMs: number): Promise<void> {
    await this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      const removed = await this.removeAll();
      if (removed !== undefined) this.o.events.warn(`ipvs: the services could not be removed: ${removed}`, { code: 'HAD_IPVS_PLANE' });
      const stopped = await this.stopDaemons();
      if (stopped !== undefined) this.o.events.warn(`ipvs: the sync daemon could not be stopped: ${stopped}`, { code: 'HAD_IPVS_PLANE' });
    });
  }

  /**
   * The lvs_sync_daemon's VRRP instance entered `state`: the master daemon runs on
   * `iface` while it is MASTER, the backup daemon otherwise. Resolves with what went wrong.
   */
  syncTransition(state: VrrpState, iface: string, syncId: number, options: SyncDaemonOptions = {}): Promise<string | undefined> {
    return this.serial(async () => {
      if (this.closed) return undefined;
      this.daemonsTouched = true;
      const running = this.daemons ?? (await this.readDaemons());
      if (typeof running === 'string') return running;
      return this.runDaemonCommands(running, daemonCommands(running, state, { iface, syncId, ...options }));
    });
  }

  private async reconcileNow(): Promise<string[]> {
    if (this.closed) return [];
    const { table: desired, problems } = tableOfServices(this.o.engine.listServices());
    const known = this.applied;
    let applied = known;
    if (applied === undefined) {
      const read = await this.readKernel(new Set([...this.mayHold, ...desired.keys()]));
      if ('problem' in read) return [...problems, `the kernel's IPVS table could not be read: ${read.problem}`];
      applied = read.table;
    }
    const lines = renderCommands(applied, desired, known === undefined);
    const refused = lines.length === 0 ? undefined : await this.batch(lines);
    if (refused !== undefined) {
      this.forget([...applied.keys(), ...desired.keys()]);
      return [...problems, `ipvsadm -R refused part of the batch (the kernel's table is read again at the next reconcile): ${refused}`];
    }
    this.applied = desired;
    this.mayHold.clear();
    return problems;
  }

  /** The kernel's services under `keys`, from `ipvsadm -S -n`. */
  private async readKernel(keys: ReadonlySet<string>): Promise<{ table: IpvsTable } | { problem: string }> {
    const saved = await this.run(['-S', '-n'], '');
    if (saved.code !== 0) return { problem: `ipvsadm -S -n: ${complaint(saved)}` };
    const parsed = parseSavedTable(saved.stdout);
    if ('problem' in parsed) return parsed;
    return { table: new Map([...parsed.table].filter(([key]) => keys.has(key))) };
  }

  /** Runs lines through `ipvsadm -R`: undefined when every line went in, else ipvsadm's complaint. */
  private async batch(lines: readonly string[]): Promise<string | undefined> {
    const r = await this.run(['-R'], `${lines.join('\n')}\n`);
    // -R exits with its last line's status: a refused line before a good one shows only on stderr.
    return r.code === 0 && r.stderr.trim() === '' ? undefined : complaint(r);
  }

  /** The kernel's table is not known any more; these services may be in it. */
  private forget(keys: Iterable<string>): void {
    this.applied = undefined;
    for (const key of keys) this.mayHold.add(key);
  }

  private async removeAll(): Promise<string | undefined> {
    let held = this.applied;
    if (held === undefined) {
      const engineKeys = this.o.engine.listServices().map((svc) => serviceKeyText(svc.key));
      const read = await this.readKernel(new Set([...this.mayHold, ...engineKeys]));
      if ('problem' in read) return read.problem;
      held = read.table;
    }
    const lines = [...held.values()].map((svc) => deleteServiceLine(svc.key));
    const refused = lines.length === 0 ? undefined : await this.batch(lines);
    if (refused !== undefined) return refused;
    this.applied = new Map();
    this.mayHold.clear();
    return undefined;
  }

  private async stopDaemons(): Promise<string | undefined> {
    if (!this.daemonsTouched) return undefined;
    const running = this.daemons ?? (await this.readDaemons());
    if (typeof running === 'string') return running;
    return this.runDaemonCommands(running, stopCommands(running));
  }

  private async readDaemons(): Promise<RunningDaemons | string> {
    const listed = await this.run(['-L', '--daemon'], '');
    if (listed.code !== 0) return `ipvsadm -L --daemon: ${complaint(listed)}`;
    return parseDaemonList(listed.stdout);
  }

  /** Runs the commands in order, keeping what runs up to date; stops at the first failure. */
  private async runDaemonCommands(running: RunningDaemons, commands: readonly DaemonCommand[]): Promise<string | undefined> {
    const next = new Map(running);
    for (const c of commands) {
      const args = daemonArgs(c);
      const r = await this.run(args, '');
      if (r.code !== 0) {
        this.daemons = undefined;
        return `ipvsadm ${args.join(' ')}: ${complaint(r)}`;
      }
      if (c.kind === 'stop') next.delete(c.role);
      else next.set(c.role, { spec: c.spec, read: false });
    }
    this.daemons = next;
    return undefined;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function complaint(r: IpvsadmResult): string {
  const lines = r.stderr.trim().split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return `exit ${r.code}`;
  const shown = lines.slice(0, complaintLinesMax).join('; ');
  return lines.length > complaintLinesMax ? `${shown}; … (${lines.length} lines)` : shown;
}
