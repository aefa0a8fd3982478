// `hadirector run`: the daemon. Loads the file (refusing to start on any error, each
// printed with its position), starts the director, writes the pid file, and then lives
// on signals: SIGTERM or SIGINT stop it gracefully, SIGHUP reloads the file (a file with
// errors is logged and the running configuration kept).
import fs from 'node:fs';
import path from 'node:path';
import { InvariantError } from '../common/invariant';
import type { Logger } from '../common/log';
import { formatDiagnostic } from '../config/diagnostics';
import { defaultNodeName, loadConfig } from '../config/load';
import { Director, StartError } from '../director/director';
import { defaultControlPath, defaultPidFile } from '../director/paths';
import type { CliIo } from './io';
import { pidAlive } from '../common/pid';

/** The exit code after a bug: EX_SOFTWARE. */
export const crashExitCode = 70;

export interface RunOptions {
  readonly file: string;
  readonly node?: string;
  readonly control?: string;
  readonly pidFile?: string;
  readonly drainS: number;
}

/** Claims the pid file, or says which live process holds it. */
function claimPidFile(file: string): string | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) return `${file}: director already running as pid ${pid}`;
  } catch {
    // no pid file, or unreadable: ours to write
  }
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${process.pid}\n`, { mode: 0o644 });
  } catch (err) {
    return `cannot write the pid file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (give --pid-file a path this user may write)`;
  }
  return undefined;
}

export async function runDaemon(options: RunOptions, io: CliIo, log: Logger): Promise<number> {
  const file = path.resolve(io.cwd, options.file);
  const node = options.node ?? defaultNodeName();
  // Read as given, so messages name the file as the operator wrote it.
  const load = () => loadConfig(options.file, { node, cwd: io.cwd, env: io.env });
  const first = load();
  for (const d of first.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  if (first.errorCount > 0) {
    io.stderr(`hadirector run: ${options.file}: ${first.errorCount} error(s); not started\n`);
    return 1;
  }
  const pidFile = options.pidFile ?? defaultPidFile(node, io.env);
  const held = claimPidFile(pidFile);
  if (held !== undefined) {
    io.stderr(`hadirector run: ${held}\n`);
    return 1;
  }
  let director: Director;
  try {
    director = await Director.start({
      config: first.config,
      configFile: file,
      controlPath: options.control ?? defaultControlPath(node, io.env),
      log,
      drainMs: options.drainS * 1000,
      ...(io.env['HADIRECTOR_TCP_RELAY'] === 'streams' ? { tcpRelay: 'streams' as const } : {}),
    });
  } catch (err) {
    fs.rmSync(pidFile, { force: true });
    const problems = err instanceof StartError ? err.problems : [(err as Error).message];
    for (const p of problems) io.stderr(`hadirector run: ${p}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let reloading = Promise.resolve();
    let stopping = false;
    const stop = (signal: string): void => {
      // A second signal while draining is not a reason to die half-way.
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: stopping`, { component: 'director' });
      process.off('SIGHUP', hup);
      void reloading.then(() => director.stop()).then(() => {
        fs.rmSync(pidFile, { force: true });
        resolve(0);
      });
    };
    const hup = (): void => {
      reloading = reloading.then(async () => {
        const next = load();
        if (next.errorCount > 0) {
          for (const d of next.diagnostics) if (d.severity === 'error') log.error(formatDiagnostic(d), { component: 'config' });
          log.error(`SIGHUP: ${options.file} has ${next.errorCount} error(s); the running configuration is kept`, { component: 'director' });
          return;
        }
        const problems = await director.reload(next.config);
        for (const p of problems) log.error(`SIGHUP: ${p}`, { component: 'director' });
        if (problems.length > 0) log.error('SIGHUP: reload refused; the running configuration is kept', { component: 'director' });
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', hup);
    // A bug (a machine that found its own invariant broken, or anything thrown): say so,
    // let the VIPs go with priority 0 so a backup takes over at once, and exit non-zero.
    process.on('uncaughtException', (err: Error) => {
      if (stopping) return;
      stopping = true;
      const code = err instanceof InvariantError ? 'HAD_INVARIANT' : 'HAD_BUG';
      log.error(`${err.message}: letting the VIPs go and exiting`, { component: 'director', code, stack: err.stack });
      void director.crashStop().finally(() => {
        fs.rmSync(pidFile, { force: true });
        process.exit(crashExitCode);
      });
    });
  });
}
