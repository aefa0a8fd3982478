// `hadirector ipvs-sim [FILE]`: runs a what-if script (stdin without FILE) on an in-memory
// IPVS table and prints what ipvsadm would. Exit 0 when every line ran, 1 at the first bad
// event line, 2 when the script cannot be read.
import fs from 'node:fs';
import path from 'node:path';
import { ipvsadmPrinter } from '../ipvs/ipvsadm/format';
import { systemServiceNames } from '../ipvs/ipvsadm/service-names';
import { IpvsSimulator, simFileBytesMax } from '../ipvs/sim/script';
import type { CliIo } from './io';

export interface IpvsSimOptions {
  readonly file?: string;
  readonly echo: boolean;
  readonly seed: number;
}

/** A file's text, or undefined when it is missing, not a file, or too large to be a script. */
function readBounded(file: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() && stat.size <= simFileBytesMax ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

export async function runIpvsSim(options: IpvsSimOptions, io: CliIo): Promise<number> {
  let script: string | undefined;
  let baseDir = io.cwd;
  if (options.file === undefined || options.file === '-') {
    script = await io.readStdin();
  } else {
    const file = path.resolve(io.cwd, options.file);
    script = readBounded(file);
    if (script === undefined) {
      io.stderr(`hadirector ipvs-sim: ${options.file}: cannot read (missing, not a file, or over ${simFileBytesMax} bytes)\n`);
      return 2;
    }
    baseDir = path.dirname(file);
  }
  const names = systemServiceNames();
  const sim: IpvsSimulator = new IpvsSimulator({
    ports: names,
    printer: ipvsadmPrinter(names, () => sim.clock.nowMs()),
    seed: options.seed,
    echo: options.echo,
    readFile: (name) => readBounded(path.resolve(baseDir, name)),
  });
  const result = sim.run(script);
  io.stdout(result.output);
  return result.code;
}
