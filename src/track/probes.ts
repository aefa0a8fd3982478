// What the trackers read of the host: interface flags from /sys/class/net and addresses
// from the kernel's list, processes from /proc, numbers from files, and script exit
// codes. Behind one interface so the trackers run on virtual time in tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scriptSpawnArgs } from '../config/script-exec';
import type { Command } from '../config/values';
import type { ProcessParamMatch } from '../vrrp/config';

export interface ProcessPattern {
  readonly name: string;
  readonly params: readonly string[];
  readonly paramMatch: ProcessParamMatch;
  readonly fullCommand: boolean;
}

export interface TrackProbes {
  /** Up: the link is administratively up and running, and it has an address. */
  interfaceUp(name: string): boolean;
  processCount(pattern: ProcessPattern): number;
  /** The integer at the start of the file, as strtol reads it; 0 when there is none. */
  readNumber(file: string): number;
  fileExists(file: string): boolean;
  writeNumber(file: string, value: number): void;
  /** Resolves true when the command exited 0 within the timeout. */
  runScript(command: Command, timeoutMs: number): Promise<boolean>;
}

const IFF_UP = 0x1;
/** The kernel keeps 15 characters of a process's name (TASK_COMM_LEN − 1). */
const commLength = 15;

export function processMatches(pattern: ProcessPattern, comm: string, argv: readonly string[]): boolean {
  const name = pattern.fullCommand ? (argv[0] ?? '') : comm;
  const wanted = pattern.fullCommand ? pattern.name : pattern.name.slice(0, commLength);
  if (name !== wanted && !(pattern.fullCommand && path.basename(name) === wanted)) return false;
  const have = argv.slice(1);
  const want = pattern.params;
  // No parameters configured: any process of that name.
  if (want.length === 0) return true;
  switch (pattern.paramMatch) {
    case 'exact':
      return have.length === want.length && want.every((p, i) => have[i] === p);
    case 'initial':
      return want.every((p, i) => have[i] === p);
    case 'partial':
      for (let start = 0; start + want.length <= have.length; start++) if (want.every((p, i) => have[start + i] === p)) return true;
      return false;
  }
}

export const hostProbes: TrackProbes = {
  interfaceUp(name) {
    // sysfs `flags` holds the administrative flags only; the link's running state is `carrier`
    // (reading it fails while the interface is administratively down).
    try {
      const flags = Number.parseInt(fs.readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
      if ((flags & IFF_UP) === 0 || fs.readFileSync(`/sys/class/net/${name}/carrier`, 'utf8').trim() !== '1') return false;
    } catch {
      return false;
    }
    return (os.networkInterfaces()[name] ?? []).length > 0;
  },

  processCount(pattern) {
    let count = 0;
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        if (argv[argv.length - 1] === '') argv.pop();
        if (processMatches(pattern, comm, argv)) count++;
      } catch {
        // Gone between the listing and the read.
      }
    }
    return count;
  },

  readNumber(file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return 0;
    }
    const m = /^\s*([+-]?\d+)/.exec(text);
    return m === null ? 0 : Number(m[1]);
  },

  fileExists(file) {
    return fs.existsSync(file);
  },

  writeNumber(file, value) {
    fs.writeFileSync(file, `${value}\n`);
  },

  runScript(command, timeoutMs) {
    const run = scriptSpawnArgs(command);
    if (run === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const child = spawn(run.program, run.args, { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
  },
};
