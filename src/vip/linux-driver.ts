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
}

export interface CommandRunner {
  run(program: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult>;
}

export const commandTimeoutMs = 5000;
const naTimeoutMs = 2000;

/** Runs a program without a shell; a missing program or a timeout is a failed result. */
export const processRunner: CommandRunner = {
  run: (program, args, timeoutMs = commandTimeoutMs) =>
    new Promise((resolve) => {
      execFile(program, [...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, _stdout, stderr) => {
        if (err === null) resolve({ code: 0, stderr });
        else resolve({ code: typeof err.code === 'number' ? err.code : -1, stderr: stderr.length > 0 ? stderr : err.message });
      });
    }),
};

export class LinuxAddressDriver implements AddressDriver {
  readonly kind = 'linux';
  private readonly garps = new Map<string, GarpSchedule>();

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
    this.garps.get(set.instance)?.stop();
    const schedule = new GarpSchedule(this.clock, set.garp, (count) => {
      for (const vip of set.addresses) {
        const dev = vipDevice(vip, set.interface);
        if (vip.family === 4) void this.announceBy(set.instance, 'arping', garpArgs(vip, dev, count), garpTimeoutMs(count));
        else void this.advertiseNeighbour(set.instance, unsolicitedNaArgs(vip, dev), count);
      }
    });
    this.garps.set(set.instance, schedule);
    schedule.start();
  }

  /** `count` adverts back to back (keepalived's vrrp_gna_interval is 0 by default). */
  private async advertiseNeighbour(instance: string, args: string[], count: number): Promise<void> {
    for (let i = 0; i < count; i++) if (!(await this.announceBy(instance, 'ndptool', args, naTimeoutMs))) return;
  }

  private async announceBy(instance: string, program: string, args: string[], timeoutMs: number): Promise<boolean> {
    const r = await this.runner.run(program, args, timeoutMs);
    if (r.code !== 0) this.warn(`${instance}: ${program} ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.code === 0;
  }

  remove(set: VipSet): Promise<string[]> {
    this.garps.get(set.instance)?.stop();
    this.garps.delete(set.instance);
    return this.addresses('del', set);
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
