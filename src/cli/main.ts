// The `hadirector` command line. Subcommands are thin: they parse flags, call library
// code and print. Bad flags give a usage message and exit 2; nothing prints a stack trace.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createLogger, logFormats, logLevels, type LogFormat, type LogLevel, type Logger } from '../common/log';
import { runCheckConfig } from './check-config';
import { runIpvsadmCommand, runQuery } from './control';
import { runFence } from './fence';
import { runGenkey } from './genkey';
import { runGenhash } from './genhash';
import { runIpvsSim } from './ipvs-sim';
import { runDaemon } from './run';
import { runLab } from '../lab/lab';
import { runNetnsLab } from '../lab/lab-netns';
import { runDrill } from '../drill/run';
import { scenarios } from '../drill/scenarios';
import { processIo, type CliIo } from './io';

export const defaultConfigFile = '/etc/hadirector/hadirector.conf';
export const exitUsage = 2;
export const exitInternal = 70; // EX_SOFTWARE

interface GlobalOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function buildProgram(io: CliIo, setExit: (code: number) => void, loggerFor: (o: GlobalOptions) => Logger): Command {
  const program = new Command('hadirector');
  program
    .description('High-availability manager for Linux Virtual Server directors')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .addOption(new Option('--log-level <level>', 'least severe log level shown').choices([...logLevels]).default('info'))
    .addOption(new Option('--log-format <format>', 'text for terminals, json for collectors').choices([...logFormats]).default('text'))
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command('check-config')
    .description('check a configuration file and summarise what it will do')
    .option('-f, --file <file>', 'configuration file', defaultConfigFile)
    .option('--strict', 'treat warnings as errors', false)
    .option('--json', 'print the diagnostics and the typed model as JSON', false)
    .option('--node <name>', 'check for this node only (default: every node of the cluster)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action((opts: { file: string; strict: boolean; json: boolean; node?: string }, cmd: Command) => {
      const log = loggerFor(cmd.optsWithGlobals<GlobalOptions>());
      log.debug('checking configuration', { component: 'cli', file: opts.file, node: opts.node ?? '(all)' });
      setExit(runCheckConfig(opts, io));
    });

  program
    .command('run')
    .description('run the director: IPVS table, data plane, health checks and control socket')
    .option('-f, --file <file>', 'configuration file', defaultConfigFile)
    .option('--node <name>', 'this node\'s name (default: the short host name)')
    .option('--control <path>', 'control socket (default: <runtime dir>/hadirector/<node>.sock)')
    .option('--pid-file <path>', 'pid file (default: <runtime dir>/hadirector/<node>.pid)')
    .addOption(new Option('--drain <seconds>', 'on SIGTERM, how long established connections may finish').argParser(parseSeconds).default(10))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (opts: { file: string; node?: string; control?: string; pidFile?: string; drain: number }, cmd: Command) => {
      const log = loggerFor(cmd.optsWithGlobals<GlobalOptions>());
      setExit(
        await runDaemon(
          {
            file: opts.file,
            drainS: opts.drain,
            ...(opts.node !== undefined ? { node: opts.node } : {}),
            ...(opts.control !== undefined ? { control: opts.control } : {}),
            ...(opts.pidFile !== undefined ? { pidFile: opts.pidFile } : {}),
          },
          io,
          log,
        ),
      );
    });

  program
    .command('lab')
    .description('run the whole cluster of a configuration on loopback (no root; with --netns, in network namespaces on the kernel plane): every node, its real servers, a status line each per second')
    .option('-f, --file <file>', 'configuration file', path.resolve(__dirname, '..', '..', '..', 'config', 'hadirector.conf'))
    .addOption(new Option('--duration <seconds>', 'stop by itself after this long (default: at Ctrl-C)').argParser(parseSeconds))
    .option('--netns', 'run the cluster in network namespaces of its own (root), forwarded by the kernel plane (nftables): LVS-NAT, and an LVS-DR twin of the web service the lab adds')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (opts: { file: string; duration?: number; netns?: boolean }) => {
      const netns = opts.netns === true;
      // In namespaces a SIGTERM too must end in stop(): the namespaces outlive the process.
      const signals: NodeJS.Signals[] = netns ? ['SIGINT', 'SIGTERM'] : ['SIGINT'];
      const interrupted = new Promise<void>((resolve) => signals.forEach((signal) => process.once(signal, () => resolve())));
      const options = { file: opts.file, cwd: io.cwd, out: io.stdout, interrupted, ...(opts.duration !== undefined ? { durationS: opts.duration } : {}) };
      setExit(await (netns ? runNetnsLab(options) : runLab(options)));
    });

  program
    .command('drill')
    .description(`fail the loopback cluster of a configuration (with --netns, in network namespaces) on purpose and judge how it recovers; scenarios: ${scenarios.map((x) => x.name).join(', ')} (default: all)`)
    .argument('[scenario...]', 'scenarios to run, in order')
    .option('-f, --file <file>', 'configuration file', path.resolve(__dirname, '..', '..', '..', 'config', 'hadirector.conf'))
    .option('--report <dir>', 'where each scenario writes its report.json', 'drill-report')
    .option('--no-fencing', 'run the cluster with fencing mode self_release, to see what STONITH saves it from')
    .option('--netns', 'run the cluster in network namespaces of its own (root): a real VIP on a bridge, gratuitous ARP, a client in its own namespace')
    .option('--attach [dir]', 'drill the cluster of the file as it already runs on this host, its control sockets in DIR (default: the runtime folder), e.g. the folder `hadirector lab` prints')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (names: string[], opts: { file: string; report: string; fencing: boolean; netns?: boolean; attach?: string | true }) => {
      setExit(await runDrill({ file: opts.file, cwd: io.cwd, scenarios: names.length > 0 ? names : scenarios.map((x) => x.name), reportDir: opts.report, noFencing: !opts.fencing, netns: opts.netns === true, ...(opts.attach !== undefined ? { attach: opts.attach } : {}), out: io.stdout, tty: io.isTTY === true }));
    });

  program
    .command('ipvsadm')
    .description('run an ipvsadm command on a running director: same arguments, output and exit codes as ipvsadm (--node or --control say which director)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]', 'ipvsadm\'s arguments')
    .action(async (args: string[]) => {
      setExit(await runIpvsadmCommand(args, io));
    });

  program
    .command('status')
    .description('print a running director\'s status: cluster view, quorum, DC, peers, clock offsets, services')
    .option('--node <name>', 'the director\'s node name (default: the short host name)')
    .option('--control <path>', 'its control socket')
    .option('--json', 'print the status as JSON', false)
    .option('--watch', 'print it again every second until interrupted', false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (opts: { node?: string; control?: string; json: boolean; watch: boolean }) => {
      setExit(await runQuery('status', { ...opts, ...(opts.watch ? { watchMs: 1000 } : {}) }, io));
    });

  for (const [op, what] of [
    ['health', 'print the health of every real server of a running director (JSON)'],
    ['metrics', 'print a running director\'s metrics in Prometheus text format'],
  ] as const) {
    program
      .command(op)
      .description(what)
      .option('--node <name>', 'the director\'s node name (default: the short host name)')
      .option('--control <path>', 'its control socket')
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .action(async (opts: { node?: string; control?: string }) => {
        setExit(await runQuery(op, opts, io));
      });
  }

  program
    .command('fence')
    .description('fencing through the DC: `fence NODE [--action off|reboot|on]`, `fence history`, `fence confirm NODE` (an operator says it is off), `fence clear NODE` (a node that stood down may act again), `fence test DEVICE`')
    .argument('<what>', 'a node name, or history, confirm or test')
    .argument('[name]', 'the node (confirm) or device (test)')
    .option('--action <action>', 'off, reboot or on', 'reboot')
    .option('--node <name>', 'the director to ask (default: the short host name)')
    .option('--control <path>', 'its control socket')
    .option('--json', 'print the answer as JSON', false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (what: string, name: string | undefined, opts: { action: string; node?: string; control?: string; json: boolean }) => {
      setExit(await runFence(what, name, opts, io));
    });

  program
    .command('genkey')
    .description("make a new cluster key for auth_key_file (mode 0600); printed when no -o")
    .option('-o, --output <file>', 'write the key to this file')
    .option('--force', 'replace an existing file', false)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action((opts: { output?: string; force: boolean }) => {
      setExit(runGenkey({ force: opts.force, ...(opts.output !== undefined ? { output: opts.output } : {}) }, io));
    });

  program
    .command('genhash')
    .description('print the MD5 digest of a page, for the digest of an HTTP_GET or SSL_GET url')
    .requiredOption('-s, --server <address>', 'real server address')
    .requiredOption('-p, --port <port>', 'real server port', parsePort)
    .requiredOption('-u, --url <path>', 'path of the page')
    .option('-S, --ssl', 'use TLS (SSL_GET)', false)
    .option('-V, --virtualhost <host>', 'Host header (and TLS server name)')
    .addOption(new Option('--timeout <seconds>', 'give up after this long').argParser(parseSeconds).default(5))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (opts: { server: string; port: number; url: string; ssl: boolean; virtualhost?: string; timeout: number }) => {
      setExit(await runGenhash({ server: opts.server, port: opts.port, url: opts.url, ssl: opts.ssl, timeoutS: opts.timeout, ...(opts.virtualhost !== undefined ? { virtualhost: opts.virtualhost } : {}) }, io));
    });

  program
    .command('ipvs-sim')
    .description('run ipvsadm commands and client events on an in-memory IPVS table (docs/ipvs-sim.md)')
    .argument('[file]', 'script to run (standard input when absent or -)')
    .option('--echo', 'print each line, after "$ ", before its output', false)
    .addOption(new Option('--seed <n>', 'seed of the random source (twos scheduler)').argParser(parseSeed).default(1))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (file: string | undefined, opts: { echo: boolean; seed: number }) => {
      setExit(await runIpvsSim({ ...(file !== undefined ? { file } : {}), echo: opts.echo, seed: opts.seed }, io));
    });
  return program;
}

function parseSeconds(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n > 86_400) throw new InvalidArgumentError('seconds, from 0 to 86400, are expected');
  return n;
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new InvalidArgumentError('a port from 1 to 65535 is expected');
  return n;
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('a whole number is expected');
  return n;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let code = 0;
  let logger: Logger | undefined;
  const loggerFor = (o: GlobalOptions): Logger => (logger ??= createLogger({ level: o.logLevel, format: o.logFormat }));
  const program = buildProgram(io, (c) => (code = c), loggerFor);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      return ok ? 0 : exitUsage;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`hadirector: internal error: ${message} (a bug: please report it)\n`);
    logger?.debug('internal error', { component: 'cli', stack: err instanceof Error ? err.stack : undefined });
    return exitInternal;
  }
}

export function runFromProcess(): void {
  run(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`hadirector: internal error: ${String(err)}\n`);
      process.exitCode = exitInternal;
    },
  );
}
