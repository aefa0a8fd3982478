// Runs ipvsadm commands against the engine, answering as ipvsadm 1.31 over a kernel
// would: the same output, the same messages for the kernel's refusals (which exit 255,
// the -1 ipvsadm returns), and -R reading commands line by line as ipvsadm-restore does.
import { parseIpAddr, type IpAddr } from '../address';
import type { DestinationSettings } from '../destination';
import type { IpvsEngine, SyncDaemon } from '../engine';
import { isSchedulerName } from '../schedulers/scheduler';
import type { ServiceKey, ServiceSettings, VirtualService } from '../service';
import { parseIpvsadm, type DaemonSpec, type IpvsadmCommand, type ListFormat, type PortNames, type ServiceSpec } from './parse';
import { tryHelpText } from './usage';

export interface IpvsadmOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** How listings are printed: the byte-exact formats of ipvsadm 1.31. */
export interface IpvsadmPrinter {
  list(engine: IpvsEngine, format: ListFormat, only?: VirtualService): string;
  save(engine: IpvsEngine, format: ListFormat): string;
  timeouts(engine: IpvsEngine): string;
  daemons(engine: IpvsEngine): string;
  connections(engine: IpvsEngine, format: ListFormat): string;
}

export interface IpvsadmContext {
  readonly engine: IpvsEngine;
  readonly ports: PortNames;
  readonly printer: IpvsadmPrinter;
  /** What -R reads. */
  readonly stdin?: string;
  /** A data plane's veto on a change it cannot carry: the message, or undefined. */
  readonly admit?: (command: IpvsadmCommand) => string | undefined;
  readonly program?: string;
}

/** Kernel refusals as libipvs words them (ipvs_strerror). */
const kernelErrors = {
  serviceExists: 'Service already exists',
  schedulerNotFound: 'Scheduler or persistence engine not found',
  noSuchService: 'No such service',
  serviceNotDefined: 'Service not defined',
  destinationExists: 'Destination already exists',
  noSuchDestination: 'No such destination',
  daemonRunning: 'Daemon has already run',
  noDaemon: 'No daemon is running',
  outOfRange: 'Numerical result out of range',
  invalid: 'Invalid operation.  Possibly wrong module version, address not unicast, ...',
} as const;

const kernelErrorCode = 255;

export function runIpvsadm(args: readonly string[], cx: IpvsadmContext): IpvsadmOutput {
  return run(args, cx, false);
}

function run(args: readonly string[], cx: IpvsadmContext, readingStdin: boolean): IpvsadmOutput {
  const program = cx.program ?? 'ipvsadm';
  if (args.length === 0) return { stdout: cx.printer.list(cx.engine, noFormat), stderr: '', code: 0 };
  const parsed = parseIpvsadm(args, cx.ports, program);
  if (!parsed.ok) return parsed.exit;
  const c = parsed.command;
  switch (c.name) {
    case 'list':
      return list(c, cx);
    case 'save':
      return ok(cx.printer.save(cx.engine, c.format));
    case 'restore':
      return readingStdin ? { stdout: '', stderr: tryHelpText(program), code: 255 } : restore(cx);
    default:
      return change(c, cx);
  }
}

const noFormat: ListFormat = { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false, exact: false, tunInfo: false };

function ok(stdout = ''): IpvsadmOutput {
  return { stdout, stderr: '', code: 0 };
}

function refused(message: string, code = kernelErrorCode): IpvsadmOutput {
  return { stdout: '', stderr: `${message}\n`, code };
}

function list(c: IpvsadmCommand, cx: IpvsadmContext): IpvsadmOutput {
  const { engine, printer } = cx;
  if (c.options.has('connection')) return ok(printer.connections(engine, c.format));
  if (c.options.has('service-address')) {
    const svc = engine.findService(serviceKey(c.service));
    return svc === undefined ? refused(kernelErrors.noSuchService, 1) : ok(printer.list(engine, c.format, svc));
  }
  if (c.options.has('timeout')) return ok(printer.timeouts(engine));
  if (c.options.has('daemon')) return ok(printer.daemons(engine));
  return ok(printer.list(engine, c.format));
}

/** ipvsadm -R: one command per line; the first line that ipvsadm itself refuses ends the run. */
function restore(cx: IpvsadmContext): IpvsadmOutput {
  let stdout = '';
  let stderr = '';
  let code = 0;
  for (const line of (cx.stdin ?? '').split('\n')) {
    const words = line.replace(/#.*/, '').split(/[ \t\r]+/).filter((w) => w !== '' && w !== 'ipvsadm');
    if (words.length === 0) continue;
    const r = run(words, cx, true);
    stdout += r.stdout;
    stderr += r.stderr;
    code = r.code;
    if (r.code !== 0 && r.code !== kernelErrorCode) break;
  }
  return { stdout, stderr, code };
}

export function serviceKey(s: ServiceSpec): ServiceKey {
  return s.kind === 'fwmark'
    ? { kind: 'fwmark', mark: s.mark, family: s.family }
    : { kind: 'address', protocol: s.protocol, address: s.address as IpAddr, port: s.port };
}

function serviceSettings(c: IpvsadmCommand): ServiceSettings | string {
  if (!isSchedulerName(c.scheduler)) return kernelErrors.schedulerNotFound;
  return {
    scheduler: c.scheduler,
    flags: c.schedFlags,
    onePacket: c.onePacket,
    ...(c.persistentS !== undefined ? { persistenceS: c.persistentS } : {}),
    ...(c.netmask !== undefined ? { netmask: c.netmask } : {}),
  };
}

function destSettings(c: IpvsadmCommand): DestinationSettings {
  return { forward: c.dest.forward, weight: c.dest.weight, upperThreshold: c.dest.upperThreshold, lowerThreshold: c.dest.lowerThreshold, tunnel: { ...c.dest.tunnel } };
}

/** The kernel takes only unicast (or local) real-server addresses. */
function isUnicast(addr: IpAddr): boolean {
  if (addr.family === 6) return !addr.text.startsWith('ff') && addr.text !== '::';
  const w = addr.words[0] as number;
  const first = w >>> 24;
  return w !== 0 && w !== 0xffffffff && !(first >= 224 && first <= 239);
}

function change(c: IpvsadmCommand, cx: IpvsadmContext): IpvsadmOutput {
  const { engine } = cx;
  const veto = cx.admit?.(c);
  if (veto !== undefined) return refused(veto, 2);
  const svc = c.options.has('service-address') ? engine.findService(serviceKey(c.service)) : undefined;
  switch (c.name) {
    case 'flush':
      engine.clear();
      return ok();
    case 'add-service':
    case 'edit-service': {
      if (c.name === 'add-service' && svc !== undefined) return refused(kernelErrors.serviceExists);
      if (c.name === 'edit-service' && svc === undefined) return refused(kernelErrors.noSuchService);
      const settings = serviceSettings(c);
      if (typeof settings === 'string') return refused(settings);
      if (svc === undefined) engine.addService(serviceKey(c.service), settings);
      else svc.edit(settings);
      return ok();
    }
    case 'delete-service':
      if (svc === undefined) return refused(kernelErrors.noSuchService);
      engine.deleteService(svc);
      return ok();
    case 'zero':
      if (c.options.has('service-address') && svc === undefined) return refused(kernelErrors.noSuchService);
      engine.zero(svc);
      return ok();
    case 'add-server':
    case 'edit-server':
    case 'delete-server':
      return changeServer(c, cx, svc);
    case 'set': {
      const [tcp, tcpfin, udp] = c.timeouts ?? [0, 0, 0];
      engine.setTimeouts(tcp, tcpfin, udp);
      return ok();
    }
    case 'start-daemon':
    case 'stop-daemon': {
      const state = c.daemon.state ?? 'master';
      if (c.name === 'start-daemon') {
        if (engine.syncDaemons.has(state)) return refused(kernelErrors.daemonRunning);
        engine.syncDaemons.set(state, syncDaemon(c.daemon));
      } else if (!engine.syncDaemons.delete(state)) return refused(kernelErrors.noDaemon);
      return ok();
    }
    case 'list':
    case 'save':
    case 'restore':
      return ok();
  }
}

/**
 * The kernel's defaults for what was not given: group 224.0.0.81, port 8848, ttl 1, and
 * datagrams sized for a 1500-byte MTU (the interface's MTU is not known here).
 */
function syncDaemon(spec: DaemonSpec): SyncDaemon {
  const group = spec.mcastGroup ?? (parseIpAddr('224.0.0.81') as IpAddr);
  const headers = group.family === 6 ? 48 : 28;
  return {
    mcastInterface: spec.mcastInterface ?? 'eth0',
    syncId: spec.syncId ?? 0,
    syncMaxlen: spec.syncMaxlen !== undefined ? Math.min(Math.max(spec.syncMaxlen, 1), 65535 - headers) : 1500 - headers,
    mcastGroup: group,
    mcastPort: spec.mcastPort ?? 8848,
    mcastTtl: spec.mcastTtl ?? 1,
  };
}

function changeServer(c: IpvsadmCommand, cx: IpvsadmContext, svc: VirtualService | undefined): IpvsadmOutput {
  if (svc === undefined) return refused(kernelErrors.serviceNotDefined);
  const address = c.dest.address as IpAddr;
  const dest = svc.findDestination(address, c.dest.port);
  if (c.name === 'delete-server') {
    if (dest === undefined) return refused(kernelErrors.noSuchDestination);
    cx.engine.removeDestination(svc, dest);
    return ok();
  }
  // The kernel refuses a lower threshold above the upper one, even an upper of 0.
  if (c.dest.lowerThreshold > c.dest.upperThreshold) return refused(kernelErrors.outOfRange);
  if (c.name === 'add-server') {
    if (!isUnicast(address)) return refused(kernelErrors.invalid);
    if (dest !== undefined) return refused(kernelErrors.destinationExists);
    cx.engine.addDestination(svc, address, c.dest.port, destSettings(c));
    return ok();
  }
  if (dest === undefined) return refused(kernelErrors.noSuchDestination);
  svc.editDestination(dest, destSettings(c));
  return ok();
}
