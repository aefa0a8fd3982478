// The linux VIP driver: iproute2 adds and removes the addresses, arping (iputils)
// sends the gratuitous ARPs for IPv4, ndptool (libndp) the unsolicited neighbour
// adverts for IPv6. Commands run without a shell and are bounded in time; one
// that fails is reported, never fatal.
import { execFile } from 'node:child_process';
import type { Clock } from '../common/clock';
import { alreadyDone, garpArgs, garpTimeoutMs, ipAddrArgs, unsolicitedNaArgs, vipDevice } from './commands';
import type { AddressDriver, VipSet } from './driver';
import { GarpSchedule } from './garp-schedule';

export interface CommandResult {
  readonly code: number;
  readonly stderr: string;
  readonly stdout?: string;
}

export interface CommandRunner {
  /** `signal` kills the program when aborted. */
  run(program: string, args: readonly string[], timeoutMs?: number, signal?: AbortSignal): Promise<CommandResult>;
}

export const commandTimeoutMs = 5000;
const naTimeoutMs = 2000;

/** Runs a program without a shell; a missing program or a timeout is a failed result. */
export const processRunner: CommandRunner = {
  run: (program, args, timeoutMs = commandTimeoutMs, signal) =>
    new Promise((resolve) => {
      execFile(program, [...args], { timeout: timeoutMs, encoding: 'utf8', ...(signal !== undefined ? { signal } : {}) }, (err, stdout, stderr) => {
        if (err === null) resolve({ code: 0, stderr, stdout });
        else resolve({ code: typeof err.code === 'number' ? err.code : -1, stderr: stderr.length > 0 ? stderr : err.message, stdout });
      });
    }),
};

export class LinuxAddressDriver implements AddressDriver {
  readonly kind = 'linux';
  private readonly garps = new Map<string, GarpSchedule>();
  /** Per instance, what stops its announcements still in flight. */
  private readonly announcing = new Map<string, AbortController>();

  constructor(
    private readonly clock: Clock,
    private readonly runner: CommandRunner,
    private readonly warn: (message: string) => void,
  ) {}

  add(set: VipSet): Promise<string[]> {
    return this.addresses('add', set);
  }

  announce(set: VipSet): void {
    if (set.addresses.length === 0) return;
    this.stopAnnouncing(set.instance);
    const controller = new AbortController();
    this.announcing.set(set.instance, controller);
    const { signal } = controller;
    const schedule = new GarpSchedule(this.clock, set.garp, (count) => {
      for (const vip of set.addresses) {
        const dev = vipDevice(vip, set.interface);
        if (vip.family === 4) void this.announceBy(set.instance, 'arping', garpArgs(vip, dev, count), garpTimeoutMs(count), signal);
        else void this.advertiseNeighbour(set.instance, unsolicitedNaArgs(vip, dev), count, signal);
      }
    });
    this.garps.set(set.instance, schedule);
    schedule.start();
  }

  /** `count` adverts back to back (keepalived's vrrp_gna_interval is 0 by default). */
  private async advertiseNeighbour(instance: string, args: string[], count: number, signal: AbortSignal): Promise<void> {
    for (let i = 0; i < count && !signal.aborted; i++) if (!(await this.announceBy(instance, 'ndptool', args, naTimeoutMs, signal))) return;
  }

  private async announceBy(instance: string, program: string, args: string[], timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const r = await this.runner.run(program, args, timeoutMs, signal);
    if (r.code !== 0 && !signal.aborted) this.warn(`${instance}: ${program} ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.code === 0;
  }

  /**
   * Stops announcing first: an arping burst lasts seconds, and one still running after the
   * address is gone would point neighbours back at this host while the new master announces.
   */
  remove(set: VipSet): Promise<string[]> {
    this.stopAnnouncing(set.instance);
    return this.addresses('del', set);
  }

  private stopAnnouncing(instance: string): void {
    this.garps.get(instance)?.stop();
    this.garps.delete(instance);
    this.announcing.get(instance)?.abort();
    this.announcing.delete(instance);
  }

  private async addresses(op: 'add' | 'del', set: VipSet): Promise<string[]> {
    const problems: string[] = [];
    for (const vip of set.addresses) {
      const args = ipAddrArgs(op, vip, vipDevice(vip, set.interface));
      const r = await this.runner.run('ip', args);
      if (r.code !== 0 && !alreadyDone(op, r.stderr)) problems.push(`${set.instance}: ip ${args.join(' ')}: ${r.stderr.trim()}`);
    }
    return problems;
  }
}
