// `hadirector fence …`: ask the director (the DC, for a fence) to fence a node, power it
// on, take an operator's word that it is off, clear a node that stood down, test a
// device, or show the history.
import type { FenceAttempt, FenceRecord } from '../fencing/coordinator';
import type { FenceControl } from '../director/control-protocol';
import { ask, type ControlTarget } from './control';
import type { CliIo } from './io';

export function fenceRequest(what: string, name: string | undefined, action: string): FenceControl | string {
  if (what === 'history') return name === undefined ? { action: 'history' } : `'fence history' takes no name`;
  if (what === 'confirm' || what === 'clear' || what === 'test') return name === undefined ? `'fence ${what}' needs a ${what === 'test' ? 'device' : 'node'} name` : { action: what, target: name };
  if (name !== undefined) return `unexpected '${name}': hadirector fence NODE [--action off|reboot|on]`;
  if (action !== 'off' && action !== 'reboot' && action !== 'on') return `--action must be off, reboot or on, not '${action}'`;
  return { action, target: what };
}

function attempts(list: readonly FenceAttempt[]): string {
  return list.map((a) => `${a.device}#${a.attempt} ${a.result}${a.detail.length > 0 ? ` (${a.detail})` : ''}`).join('; ');
}

export function formatHistory(records: readonly FenceRecord[]): string {
  if (records.length === 0) return 'no fencing yet\n';
  return records
    .map((r) => `${r.id}\t${new Date(r.requestedAt).toISOString()}\t${r.target}\t${r.action}\t${r.origin}\t${r.result}\t${r.durationMs === undefined ? '-' : `${Math.round(r.durationMs)}ms`}\t${attempts(r.attempts)}`)
    .map((l) => `${l}\n`)
    .join('');
}

export async function runFence(what: string, name: string | undefined, options: ControlTarget & { action: string; json?: boolean }, io: CliIo): Promise<number> {
  const request = fenceRequest(what, name, options.action);
  if (typeof request === 'string') {
    io.stderr(`hadirector: ${request}\n`);
    return 2;
  }
  const answer = await ask(options, { op: 'fence', ...request }, io);
  if ('code' in answer) return answer.code;
  if (options.json === true) io.stdout(`${JSON.stringify(answer.result, null, 2)}\n`);
  else if (request.action === 'history') io.stdout(formatHistory(answer.result as FenceRecord[]));
  else if (request.action === 'test') {
    const r = answer.result as { ok: boolean; detail: string };
    io.stdout(`${request.target}: ${r.ok ? 'ok' : 'FAILED'}${r.detail.length > 0 ? `: ${r.detail}` : ''}\n`);
    return r.ok ? 0 : 1;
  } else if (request.action === 'clear') {
    const r = answer.result as FenceRecord;
    io.stdout(`${r.target}: cleared: ${r.attempts[0]?.detail ?? ''}\n`);
  } else {
    const r = answer.result as FenceRecord;
    io.stdout(`${r.target}: ${r.action} ${r.origin === 'confirmed' ? 'confirmed' : 'requested'} (operation ${r.id}; 'hadirector fence history' shows how it went)\n`);
  }
  return 0;
}
