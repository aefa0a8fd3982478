import { VirtualClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { IpvsEngine } from '../../src/ipvs/engine';
import { runIpvsadm, type IpvsadmOutput } from '../../src/ipvs/ipvsadm/execute';
import { ipvsadmPrinter } from '../../src/ipvs/ipvsadm/format';
import { builtinServiceNames } from '../../src/ipvs/ipvsadm/service-names';

/** An in-memory director driven by ipvsadm command lines, as the tests of its screens use it. */
export class IpvsadmSession {
  readonly clock = new VirtualClock();
  readonly engine = new IpvsEngine({ clock: this.clock, rng: new SeededRng(1) });
  private readonly names = builtinServiceNames();

  run(line: string, stdin?: string): IpvsadmOutput {
    const args = line.split(/\s+/).filter((w) => w !== '' && w !== 'ipvsadm');
    return runIpvsadm(args, {
      engine: this.engine,
      ports: this.names,
      printer: ipvsadmPrinter(this.names, () => this.clock.nowMs()),
      ...(stdin !== undefined ? { stdin } : {}),
    });
  }

  /** Runs lines that must succeed silently. */
  setup(...lines: string[]): void {
    for (const line of lines) {
      const r = this.run(line);
      if (r.code !== 0 || r.stdout !== '' || r.stderr !== '') throw new Error(`${line}: ${r.stderr}${r.stdout}`);
    }
  }

  out(line: string): string {
    const r = this.run(line);
    if (r.code !== 0) throw new Error(`${line}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }
}
