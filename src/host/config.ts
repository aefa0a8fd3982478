// `host_health { ... }` inside global_defs: how the director judges its own host, after
// pacemaker's node health. Each fact has a yellow and a red threshold; the strategy says
// what a colour does to this node's VRRP instances. hadirector's own block, so a bad
// number is an error here (keepalived has no such block to stay compatible with).
// docs/configuration.md is the reference.
import type { SourcePos } from '../common/where';
import { applyBlock, type BlockSpec, type ParseContext } from '../config/keywords';
import type { Token } from '../config/token';
import type { Statement } from '../config/tree';
import { choiceArg, commandArg, durationArg, expectArgs, parseChoice, parseInteger, set, type Command } from '../config/values';
import type { HostFactName } from './facts';

/**
 * pacemaker's node-health-strategy, with keepalived's underscores. `none` is the default,
 * as pacemaker's is: the host is watched and shown, and nothing moves because of it.
 */
export const hostHealthStrategies = ['none', 'migrate_on_red', 'only_green', 'progressive'] as const;
export type HostHealthStrategy = (typeof hostHealthStrategies)[number];

export type HostColour = 'green' | 'yellow' | 'red';

/** A fact's thresholds: it is yellow at `yellow` and above, red at `red` and above (never red without one). */
export interface FactRule {
  readonly yellow: number;
  readonly red?: number;
  /** Under `progressive`, what a yellow or red fact takes off the priority; without one, red means FAULT. */
  readonly weight?: number;
  readonly where: SourcePos;
}

export interface HostHealthConfig {
  /** Where the block was written; absent when the file has none (the defaults below). */
  where?: SourcePos;
  strategy: HostHealthStrategy;
  intervalMs: number;
  /** How long the host must stay acceptable, after it was not, before it counts as fit. */
  holdMs: number;
  /** Points below a threshold a fact must fall before its colour improves. */
  hysteresis: number;
  /** Only facts with a rule are judged; the others are sampled and shown. */
  rules: Partial<Record<HostFactName, FactRule>>;
  /** Run on each change of the host's colour with `HOST NODE COLOUR REASONS` after its own arguments. */
  notify?: Command;
}

export const hostHealthIntervalMsDefault = 5000;
export const hostHealthHoldMsDefault = 60_000;
export const hostHealthHysteresisDefault = 5;
export const hostWeightRange = { min: 1, max: 253 } as const;
const intervalRangeMs = { min: 1000, max: 3_600_000 } as const;
const holdRangeMs = { min: 0, max: 86_400_000 } as const;
const percentRange = { min: 0, max: 100 } as const;
/** Load per CPU: 1.0 is every CPU with one runnable task. */
const loadRange = { min: 0, max: 1000 } as const;

export function newHostHealth(): HostHealthConfig {
  return {
    strategy: 'none',
    intervalMs: hostHealthIntervalMsDefault,
    holdMs: hostHealthHoldMsDefault,
    hysteresis: hostHealthHysteresisDefault,
    rules: {},
  };
}

export const hostHealthSpec: BlockSpec<HostHealthConfig> = {
  name: 'host_health',
  keywords: {
    strategy: (s, t, cx) => set(t, 'strategy', choiceArg(cx, s, hostHealthStrategies)),
    interval: (s, t, cx) => set(t, 'intervalMs', durationArg(cx, s, intervalRangeMs)),
    hold: (s, t, cx) => set(t, 'holdMs', durationArg(cx, s, holdRangeMs)),
    notify: (s, t, cx) => set(t, 'notify', commandArg(cx, s)),
    hysteresis: (s, t, cx) => {
      if (expectArgs(cx, s, 1)) set(t, 'hysteresis', parseDecimal(cx, s, s.args[0] as Token, percentRange));
    },
    memory: thresholdRule('memory', percentRange),
    swap: thresholdRule('swap', percentRange),
    cpu: thresholdRule('cpu', percentRange),
    load: thresholdRule('load', loadRange),
    disk: thresholdRule('disk', percentRange),
    interface_down: (s, t, cx) => {
      if (!expectArgs(cx, s, 1, 3)) return;
      const colour = parseChoice(cx, s, s.args[0] as Token, ['red', 'yellow'] as const);
      const weight = readWeight(cx, s, 1);
      if (colour === undefined || weight === null) return;
      // The fact is a count of links down: one is enough.
      const rule: FactRule = colour === 'red' ? { yellow: 1, red: 1, where: s.where } : { yellow: 1, where: s.where };
      t.rules.interface_down = weight === undefined ? rule : { ...rule, weight };
    },
  },
};

/** Reads the block into a fresh config; errors, not warnings, since the block is ours. */
export function readHostHealth(cx: ParseContext, s: Statement, block: readonly Statement[]): HostHealthConfig {
  const config: HostHealthConfig = { ...newHostHealth(), where: s.where };
  applyBlock(hostHealthSpec, block, config, { ...cx, ownBlock: true });
  return config;
}

/** `FACT YELLOW RED [weight W]`. */
function thresholdRule(name: Exclude<HostFactName, 'interface_down'>, range: { readonly min: number; readonly max: number }) {
  return (s: Statement, t: HostHealthConfig, cx: ParseContext): void => {
    if (!expectArgs(cx, s, 2, 4)) return;
    const yellow = parseDecimal(cx, s, s.args[0] as Token, range);
    const red = parseDecimal(cx, s, s.args[1] as Token, range);
    const weight = readWeight(cx, s, 2);
    if (yellow === undefined || red === undefined || weight === null) return;
    if (yellow > red) {
      cx.diags.error('HAD_CFG_CONFLICT', `${name}: yellow ${yellow} is above red ${red}; write the lower threshold first`, s.args[0]?.where);
      return;
    }
    t.rules[name] = weight === undefined ? { yellow, red, where: s.where } : { yellow, red, weight, where: s.where };
  };
}

/** `weight W` from argument `from` on: the weight, undefined when absent, null when bad (reported). */
function readWeight(cx: ParseContext, s: Statement, from: number): number | undefined | null {
  const word = s.args[from];
  if (word === undefined) return undefined;
  if (word.text !== 'weight') {
    cx.diags.error('HAD_CFG_BAD_VALUE', `${s.keyword.text}: expected 'weight W' here, got '${word.text}'`, word.where);
    return null;
  }
  const value = s.args[from + 1];
  if (value === undefined) {
    cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `${s.keyword.text}: 'weight' needs a value, ${hostWeightRange.min}..${hostWeightRange.max}`, word.where);
    return null;
  }
  // Named by the word `weight`, so the message reads 'weight 0 is outside 1..253'.
  return parseInteger(cx, { ...s, keyword: word }, value, hostWeightRange) ?? null;
}

/** A decimal number within `range`, reported at its token when it is not. */
function parseDecimal(cx: ParseContext, s: Statement, token: Token, range: { readonly min: number; readonly max: number }): number | undefined {
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(token.text)) {
    cx.diags.error('HAD_CFG_BAD_NUMBER', `${s.keyword.text}: '${token.text}' is not a number`, token.where);
    return undefined;
  }
  const value = Number(token.text);
  if (value < range.min || value > range.max) {
    cx.diags.error('HAD_CFG_OUT_OF_RANGE', `${s.keyword.text} ${token.text} is outside ${range.min}..${range.max}`, token.where);
    return undefined;
  }
  return value;
}
