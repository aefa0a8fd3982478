// A kernel for the IPVS plane to program, with no ip_vs module: the ipvsadm emulation
// (ipvs-sim) over an engine of its own, behind the plane's runner. It records every run
// and can be told to refuse one.
import type { IpvsadmResult } from '../../src/common/ipvsadm';
import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { IpvsPlane } from '../../src/ipvs/dataplane/ipvs/ipvs-plane';
import { IpvsEngine } from '../../src/ipvs/engine';
import { runIpvsadm } from '../../src/ipvs/ipvsadm/execute';
import { ipvsadmPrinter } from '../../src/ipvs/ipvsadm/format';
import { builtinServiceNames } from '../../src/ipvs/ipvsadm/service-names';
import { IpvsadmSession } from './ipvsadm-session';

export interface Run {
  readonly args: string[];
  readonly stdin: string;
}

export class EmulatedKernel {
  readonly session = new IpvsadmSession();
  readonly runs: Run[] = [];
  /** Answers the next run whose arguments start with these instead of the emulation. */
  private refusals: Array<{ args: string; answer: IpvsadmResult }> = [];

  /** Lines the next -R applies before the kernel refuses one; undefined: it applies all. */
  private restoreStopsAfter: number | undefined;

  readonly run = (args: readonly string[], stdin: string): Promise<IpvsadmResult> => {
    this.runs.push({ args: [...args], stdin });
    const stopAfter = this.restoreStopsAfter;
    if (args[0] === '-R' && stopAfter !== undefined) {
      this.restoreStopsAfter = undefined;
      const applied = this.session.run('-R', stdin.split('\n').slice(0, stopAfter).join('\n'));
      return Promise.resolve({ code: 255, stdout: '', stderr: `${applied.stderr}Memory allocation problem\n` });
    }
    const refusal = this.refusals.findIndex((r) => args.join(' ').startsWith(r.args));
    if (refusal !== -1) {
      const [r] = this.refusals.splice(refusal, 1);
      if (r !== undefined) return Promise.resolve(r.answer);
    }
    return Promise.resolve(this.session.run(args.join(' '), stdin));
  };

  refuseNext(args: string, answer: IpvsadmResult): void {
    this.refusals.push({ args, answer });
  }

  /** The next -R applies `lines` lines, then a line is refused (ENOMEM) and the rest are not run. */
  breakNextRestore(lines: number | undefined): void {
    this.restoreStopsAfter = lines;
  }

  /** The lines of every `-R` since `from`, in order. */
  restoredLines(from = 0): string[] {
    return this.runs.slice(from).flatMap((r) => (r.args[0] === '-R' ? r.stdin.split('\n').filter((l) => l !== '') : []));
  }

  save(): string {
    return this.session.out('-S -n');
  }
}

/** ipvsadm's output over any engine, as the emulation prints it. */
function outOf(engine: IpvsEngine, args: string[]): string {
  const names = builtinServiceNames();
  return runIpvsadm(args, { engine, ports: names, printer: ipvsadmPrinter(names, () => 0) }).stdout;
}

/** `ipvsadm -S -n` of an engine. */
export const saveOf = (engine: IpvsEngine): string => outOf(engine, ['-S', '-n']);

/** `ipvsadm -L -n --nosort` of an engine: services and servers in the kernel's order. */
export const listOf = (engine: IpvsEngine): string => outOf(engine, ['-L', '-n', '--nosort']);

/** The director's side: its engine, a plane over an emulated kernel, and warnings heard. */
export function ipvsWorld(kernel = new EmulatedKernel()) {
  const engine = new IpvsEngine({ clock: new VirtualClock(), rng: new SeededRng(1) });
  const warnings: string[] = [];
  const plane = new IpvsPlane({ engine, run: kernel.run, events: { warn: (m) => warnings.push(m), info: () => undefined } });
  return { engine, kernel, plane, warnings };
}
