// `fencing { ... }` inside `cluster`: devices, topology levels and the race delay.
// Defaults follow Pacemaker's fencer: timeout 60 s, 2 retries, levels 1..9 tried in order.
import type { SourcePos } from '../common/where';
import { applyBlock, type BlockSpec, type ParseContext } from '../config/keywords';
import type { Token } from '../config/token';
import type { Statement } from '../config/tree';
import { choiceArg, durationArg, expectArgs, intArg, listBlock, parseInteger, set, wordArg } from '../config/values';

export const fenceModes = ['power', 'self_release'] as const;
export type FenceMode = (typeof fenceModes)[number];
export const fenceActions = ['off', 'reboot'] as const;
export type FenceAction = (typeof fenceActions)[number];
/** Built-in agents; any other agent must be a `fence_*` program (the fence-agent protocol). */
export const builtinFenceAgents = ['exec', 'http', 'signal', 'netns'] as const;
export const fenceLevelRange = { min: 1, max: 9 } as const;
export const fenceTimeoutDefaultMs = 60_000;
export const fenceRetriesDefault = 2;

/** Option names whose values never reach logs or status. */
export const secretOptionNames = new Set(['password', 'passwd', 'secret', 'token', 'community']);

export interface FenceDeviceConfig {
  readonly name: string;
  readonly where: SourcePos;
  agent?: string;
  timeoutMs: number;
  retries: number;
  /** Nodes this device can fence; empty = any node named in a level that uses it. */
  hosts: string[];
  /** Everything else, passed to the agent as `key=value`. */
  options: Record<string, string>;
  optionWhere: Record<string, SourcePos>;
}

export interface FenceLevelConfig {
  readonly where: SourcePos;
  readonly target: string;
  readonly index: number;
  readonly devices: Array<{ readonly name: string; readonly where: SourcePos }>;
}

export interface FencingConfig {
  readonly where?: SourcePos;
  mode: FenceMode;
  action: FenceAction;
  delayBaseMs: number;
  delayMaxMs: number;
  devices: FenceDeviceConfig[];
  levels: FenceLevelConfig[];
}

export function newFencing(where?: SourcePos): FencingConfig {
  return { ...(where ? { where } : {}), mode: 'power', action: 'reboot', delayBaseMs: 0, delayMaxMs: 0, devices: [], levels: [] };
}

const hourMs = { min: 0, max: 3_600_000 } as const;

export const fencingSpec: BlockSpec<FencingConfig> = {
  name: 'fencing',
  keywords: {
    mode: (s, t, cx) => set(t, 'mode', choiceArg(cx, s, fenceModes)),
    action: (s, t, cx) => set(t, 'action', choiceArg(cx, s, fenceActions)),
    delay_base: (s, t, cx) => set(t, 'delayBaseMs', durationArg(cx, s, hourMs)),
    delay_max: (s, t, cx) => set(t, 'delayMaxMs', durationArg(cx, s, hourMs)),
    device: (s, t, cx) => {
      const name = s.args[0];
      if (name === undefined) {
        cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `'device' needs a name: device NAME { agent ... }`, s.where);
        return;
      }
      const device: FenceDeviceConfig = {
        name: name.text,
        where: s.where,
        timeoutMs: fenceTimeoutDefaultMs,
        retries: fenceRetriesDefault,
        hosts: [],
        options: {},
        optionWhere: {},
      };
      applyBlock(fenceDeviceSpec, listBlock(cx, { ...s, args: s.args.slice(1) }), device, cx);
      if (device.agent === undefined) cx.diags.error('HAD_CFG_MISSING_KEYWORD', `fence device '${device.name}' needs an 'agent'`, s.where);
      t.devices.push(device);
    },
    level: (s, t, cx) => {
      const level = readLevel(cx, s);
      if (level !== undefined) t.levels.push(level);
    },
  },
};

export const fenceDeviceSpec: BlockSpec<FenceDeviceConfig> = {
  name: 'device',
  keywords: {
    agent: (s, t, cx) => {
      const agent = wordArg(cx, s);
      if (agent === undefined) return;
      if ((builtinFenceAgents as readonly string[]).includes(agent) || /^fence_[A-Za-z0-9_]+$/.test(agent)) t.agent = agent;
      else cx.diags.error('HAD_CFG_BAD_VALUE', `agent: '${agent}' is not one of ${builtinFenceAgents.join('|')} nor a fence_* program`, s.args[0]?.where);
    },
    timeout: (s, t, cx) => set(t, 'timeoutMs', durationArg(cx, s, { min: 1000, max: 3_600_000 })),
    retries: (s, t, cx) => set(t, 'retries', intArg(cx, s, { min: 0, max: 10 })),
    hosts: (s, t, cx) => {
      if (expectArgs(cx, s, 1, 64)) t.hosts.push(...s.args.map((a) => a.text));
    },
  },
  // Any other `key value` line is an agent option (ip, plug, username, password_script...).
  fallback: (s, t, cx) => {
    if (s.block !== undefined || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(s.keyword.text)) return false;
    if (!expectArgs(cx, s, 1, Number.MAX_SAFE_INTEGER)) return true;
    t.options[s.keyword.text] = s.args.map((a) => a.text).join(' ');
    t.optionWhere[s.keyword.text] = s.where;
    return true;
  },
};

/** `level NODE INDEX DEVICE [DEVICE...]`: every device of a level must succeed. */
function readLevel(cx: ParseContext, s: Statement): FenceLevelConfig | undefined {
  if (!expectArgs(cx, s, 3, 2 + 16)) return undefined;
  const [target, indexToken, ...devices] = s.args as [Token, Token, ...Token[]];
  const index = parseInteger(cx, s, indexToken, fenceLevelRange);
  if (index === undefined) return undefined;
  return { where: s.where, target: target.text, index, devices: devices.map((d) => ({ name: d.text, where: d.where })) };
}
