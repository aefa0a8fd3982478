// The control API's wire format: one JSON object per line each way, on a unix socket
// only the owner may open. A request names an operation; the answer carries its result
// or an error that says what was wrong with the request.
export const controlLineMaxBytes = 8 * 1024 * 1024;
export const ipvsadmArgsMax = 256;

export type ControlRequest =
  | { readonly op: 'status' }
  | { readonly op: 'health' }
  | { readonly op: 'metrics' }
  | { readonly op: 'ipvsadm'; readonly args: readonly string[]; readonly stdin?: string }
  | ({ readonly op: 'fence' } & FenceControl);

/** `hadirector fence …`: fence a node, power it on, confirm it off, test a device, or list the history. */
export type FenceControl =
  | { readonly action: 'off' | 'reboot' | 'on' | 'confirm' | 'clear' | 'test'; readonly target: string }
  | { readonly action: 'history' };

export const fenceControlActions = ['off', 'reboot', 'on', 'confirm', 'clear', 'test', 'history'] as const;

/** A request the director understood and refuses, with the reason for the operator. */
export class RefusedRequest extends Error {}

export type ControlResponse = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

export interface IpvsadmResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

const ops = ['status', 'health', 'metrics', 'ipvsadm', 'fence'] as const;

/** A request, or what is wrong with the line. */
export function parseControlRequest(line: string): ControlRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a request is a JSON object: {"op": "status"}';
  const op = (value as { op?: unknown }).op;
  if (typeof op !== 'string' || !(ops as readonly string[]).includes(op)) return `field 'op' must be one of ${ops.join(', ')}`;
  if (op === 'fence') return parseFence(value as Record<string, unknown>);
  if (op !== 'ipvsadm') return { op } as ControlRequest;
  const { args, stdin } = value as { args?: unknown; stdin?: unknown };
  if (!Array.isArray(args) || args.length > ipvsadmArgsMax || !args.every((a): a is string => typeof a === 'string')) {
    return `field 'args' must be an array of at most ${ipvsadmArgsMax} strings`;
  }
  if (stdin !== undefined && typeof stdin !== 'string') return "field 'stdin' must be a string";
  return stdin === undefined ? { op, args } : { op, args, stdin };
}

function parseFence(value: Record<string, unknown>): ControlRequest | string {
  const { action, target } = value;
  if (typeof action !== 'string' || !(fenceControlActions as readonly string[]).includes(action)) return `field 'action' must be one of ${fenceControlActions.join(', ')}`;
  if (action === 'history') return { op: 'fence', action };
  if (typeof target !== 'string' || target.length === 0 || target.length > 64) return "field 'target' must be a node (or, for test, a device) name";
  return { op: 'fence', action: action as 'off' | 'reboot' | 'on' | 'confirm' | 'clear' | 'test', target };
}
