// Commands that talk to a running director over its control socket: ipvsadm, status,
// health and metrics. A director that cannot be reached is exit 2 with the reason.
import { controlRequest } from '../director/control-client';
import type { ControlRequest, IpvsadmResult } from '../director/control-protocol';
import { defaultControlPath } from '../director/paths';
import { defaultNodeName } from '../config/load';
import type { CliIo } from './io';
import { formatStatus } from './status-text';

export interface ControlTarget {
  readonly control?: string;
  readonly node?: string;
}

export function controlPathFor(target: ControlTarget, io: CliIo): string {
  return target.control ?? defaultControlPath(target.node ?? defaultNodeName(), io.env);
}

export async function ask(target: ControlTarget, request: ControlRequest, io: CliIo): Promise<{ result: unknown } | { code: number }> {
  try {
    const response = await controlRequest(controlPathFor(target, io), request);
    if (!response.ok) {
      io.stderr(`hadirector: the director refused the request: ${response.error}\n`);
      return { code: 2 };
    }
    return { result: response.result };
  } catch (err) {
    io.stderr(`hadirector: ${(err as Error).message} (is 'hadirector run' running? --control or --node say which)\n`);
    return { code: 2 };
  }
}

/** Takes --control PATH and --node NAME out of ipvsadm's arguments (ipvsadm has neither). */
export function splitIpvsadmArgs(args: readonly string[]): { target: ControlTarget; ipvsadm: string[] } {
  const ipvsadm: string[] = [];
  const target: { control?: string; node?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = /^--(control|node)=(.*)$/.exec(arg);
    if (eq !== null) target[eq[1] as 'control' | 'node'] = eq[2] as string;
    else if ((arg === '--control' || arg === '--node') && i + 1 < args.length) target[arg.slice(2) as 'control' | 'node'] = args[++i] as string;
    else ipvsadm.push(arg);
  }
  return { target, ipvsadm };
}

export async function runIpvsadmCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { target, ipvsadm } = splitIpvsadmArgs(args);
  const restores = ipvsadm.some((a) => a === '-R' || a === '--restore');
  const stdin = restores ? await io.readStdin() : undefined;
  const answer = await ask(target, { op: 'ipvsadm', args: ipvsadm, ...(stdin !== undefined ? { stdin } : {}) }, io);
  if ('code' in answer) return answer.code;
  const r = answer.result as IpvsadmResult;
  io.stdout(r.stdout);
  io.stderr(r.stderr);
  return r.code;
}

export interface QueryOptions extends ControlTarget {
  readonly json?: boolean;
  /** Ask again every this many ms until interrupted. */
  readonly watchMs?: number;
}

export async function runQuery(op: 'status' | 'health' | 'metrics', options: QueryOptions, io: CliIo): Promise<number> {
  for (;;) {
    const answer = await ask(options, { op }, io);
    if ('code' in answer) return answer.code;
    const result = answer.result;
    if (typeof result === 'string') io.stdout(result);
    else if (op === 'status' && options.json !== true) io.stdout(formatStatus(result));
    else io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    if (options.watchMs === undefined) return 0;
    io.stdout('\n');
    await new Promise((resolve) => setTimeout(resolve, options.watchMs));
  }
}
