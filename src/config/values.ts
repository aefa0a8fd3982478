// Readers for keyword arguments. Each checks one argument, reports a diagnostic at the
// argument's own position when it is bad, and returns undefined so the caller keeps its
// default: a bad value never aborts the parse.
import net from 'node:net';
import type { SourcePos } from '../common/where';
import type { ParseContext } from './keywords';
import type { Token } from './token';
import type { Statement } from './tree';

export interface Range {
  readonly min: number;
  readonly max: number;
}

/** A command line as keepalived takes it for scripts: argv, plus an optional user and group. */
export interface Command {
  readonly argv: string[];
  readonly user?: string;
  readonly group?: string;
  readonly where: SourcePos;
}

export interface IpAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Reports missing and surplus arguments; true when at least `min` are present. */
export function expectArgs(cx: ParseContext, s: Statement, min: number, max: number = min): boolean {
  noBlock(cx, s);
  if (s.args.length < min) {
    const what = min === 1 ? 'a value' : `${min} values`;
    cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `'${s.keyword.text}' needs ${what}`, s.where);
    return false;
  }
  if (s.args.length > max) {
    const extra = s.args[max] as Token;
    cx.diags.warn('HAD_CFG_EXTRA_ARGUMENT', `'${s.keyword.text}' takes ${max === 0 ? 'no value' : `at most ${max}`}: '${extra.text}' ignored`, extra.where);
  }
  return true;
}

export function noBlock(cx: ParseContext, s: Statement): void {
  if (s.block !== undefined) {
    cx.diags.error('HAD_CFG_BLOCK_UNEXPECTED', `'${s.keyword.text}' takes no block: its contents are ignored`, s.open ?? s.where);
  }
}

/** The statement's block, or undefined (reported) when it has none. */
export function expectBlock(cx: ParseContext, s: Statement): Statement[] | undefined {
  if (s.block === undefined) {
    cx.diags.error('HAD_CFG_BLOCK_EXPECTED', `'${s.keyword.text}' needs a block: ${s.keyword.text} ... { ... }`, s.where);
    return undefined;
  }
  return s.block;
}

/** A bad number: an error in hadirector's own block; in keepalived's, ignored with a warning as keepalived ignores it. */
function badNumber(cx: ParseContext, code: 'HAD_CFG_BAD_NUMBER' | 'HAD_CFG_OUT_OF_RANGE', message: string, where: Token['where']): undefined {
  if (cx.ownBlock === true) cx.diags.error(code, message, where);
  else cx.diags.warn(code, `${message}: ignored (the default stays), as keepalived ignores it`, where);
  return undefined;
}

export function parseInteger(cx: ParseContext, s: Statement, token: Token, range: Range): number | undefined {
  if (!/^[+-]?\d{1,15}$/.test(token.text)) return badNumber(cx, 'HAD_CFG_BAD_NUMBER', `${s.keyword.text}: '${token.text}' is not a whole number`, token.where);
  const value = Number(token.text);
  if (value < range.min || value > range.max) return badNumber(cx, 'HAD_CFG_OUT_OF_RANGE', `${s.keyword.text} ${token.text} is outside ${range.min}..${range.max}`, token.where);
  return value;
}

/** The single whole-number argument of `keyword N`. */
export function intArg(cx: ParseContext, s: Statement, range: Range): number | undefined {
  if (!expectArgs(cx, s, 1)) return undefined;
  return parseInteger(cx, s, s.args[0] as Token, range);
}

/** keepalived's TIMER: seconds, with a fraction to the microsecond. Returns milliseconds. */
export function parseSeconds(cx: ParseContext, s: Statement, token: Token, range: Range): number | undefined {
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(token.text)) return badNumber(cx, 'HAD_CFG_BAD_NUMBER', `${s.keyword.text}: '${token.text}' is not a number of seconds`, token.where);
  const seconds = Number(token.text);
  if (seconds < range.min || seconds > range.max) return badNumber(cx, 'HAD_CFG_OUT_OF_RANGE', `${s.keyword.text} ${token.text} is outside ${range.min}..${range.max} seconds`, token.where);
  return Math.round(seconds * 1e6) / 1e3;
}

/** `keyword SECONDS`, in milliseconds; range in seconds. */
export function secondsArg(cx: ParseContext, s: Statement, range: Range): number | undefined {
  if (!expectArgs(cx, s, 1)) return undefined;
  return parseSeconds(cx, s, s.args[0] as Token, range);
}

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** hadirector's own durations: `200ms`, `1.5s`, `2m`, `1h`, or bare seconds like keepalived. */
export function parseDuration(cx: ParseContext, s: Statement, token: Token, rangeMs: Range): number | undefined {
  const m = /^(\d{1,9}(?:\.\d{1,6})?)(ms|s|m|h)?$/.exec(token.text);
  if (m === null) {
    cx.diags.error('HAD_CFG_BAD_DURATION', `${s.keyword.text}: '${token.text}' is not a duration (like 500ms, 2s, 1m)`, token.where);
    return undefined;
  }
  const ms = Math.round(Number(m[1]) * (durationUnitsMs[m[2] ?? 's'] as number) * 1000) / 1000;
  if (ms < rangeMs.min || ms > rangeMs.max) {
    cx.diags.error('HAD_CFG_OUT_OF_RANGE', `${s.keyword.text} ${token.text} is outside ${formatMs(rangeMs.min)}..${formatMs(rangeMs.max)}`, token.where);
    return undefined;
  }
  return ms;
}

export function durationArg(cx: ParseContext, s: Statement, rangeMs: Range): number | undefined {
  if (!expectArgs(cx, s, 1)) return undefined;
  return parseDuration(cx, s, s.args[0] as Token, rangeMs);
}

export function formatMs(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const trueWords = new Set(['on', 'true', 'yes']);
const falseWords = new Set(['off', 'false', 'no']);

/** A flag: alone it means true; `on|off|true|false|yes|no` says which. */
export function flagArg(cx: ParseContext, s: Statement): boolean {
  if (!expectArgs(cx, s, 0, 1)) return true;
  const token = s.args[0];
  if (token === undefined) return true;
  const word = token.text.toLowerCase();
  if (trueWords.has(word)) return true;
  if (falseWords.has(word)) return false;
  cx.diags.error('HAD_CFG_BAD_VALUE', `${s.keyword.text}: '${token.text}' is not one of on|off|true|false|yes|no`, token.where);
  return true;
}

export function parseChoice<C extends string>(cx: ParseContext, s: Statement, token: Token, choices: readonly C[], caseless = false): C | undefined {
  const text = caseless ? token.text.toLowerCase() : token.text;
  const found = choices.find((c) => (caseless ? c.toLowerCase() : c) === text);
  if (found === undefined) {
    cx.diags.error('HAD_CFG_BAD_VALUE', `${s.keyword.text}: '${token.text}' is not one of ${choices.join('|')}`, token.where);
  }
  return found;
}

export function choiceArg<C extends string>(cx: ParseContext, s: Statement, choices: readonly C[], caseless = false): C | undefined {
  if (!expectArgs(cx, s, 1)) return undefined;
  return parseChoice(cx, s, s.args[0] as Token, choices, caseless);
}

export function wordArg(cx: ParseContext, s: Statement): string | undefined {
  if (!expectArgs(cx, s, 1)) return undefined;
  return (s.args[0] as Token).text;
}

/** All arguments joined by one space: free text such as an e-mail sender. */
export function textArg(cx: ParseContext, s: Statement): string | undefined {
  if (!expectArgs(cx, s, 1, Number.MAX_SAFE_INTEGER)) return undefined;
  return s.args.map((t) => t.text).join(' ');
}

export function parseIp(text: string): IpAddress | undefined {
  const family = net.isIP(text);
  if (family === 0) return undefined;
  return { address: text, family: family as 4 | 6 };
}

export function parseAddress(cx: ParseContext, s: Statement, token: Token, what = 'an IP address'): IpAddress | undefined {
  const ip = parseIp(token.text);
  if (ip === undefined) cx.diags.error('HAD_CFG_BAD_ADDRESS', `${s.keyword.text}: '${token.text}' is not ${what}`, token.where);
  return ip;
}

export function addressArg(cx: ParseContext, s: Statement): IpAddress | undefined {
  if (!expectArgs(cx, s, 1)) return undefined;
  return parseAddress(cx, s, s.args[0] as Token);
}

/**
 * A host address where keepalived also takes `ADDRESS/PREFIX` and uses the address
 * (unicast_src_ip, unicast_peer): the prefix is dropped, with a warning.
 */
export function parseHostAddress(cx: ParseContext, s: Statement, token: Token): IpAddress | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(token.text);
  if (m !== null && parseIp(m[1] as string) !== undefined) {
    cx.diags.warn('HAD_CFG_BAD_VALUE', `${s.keyword.text}: '${token.text}': the prefix is ignored, ${m[1]} is used (as keepalived does)`, token.where);
    return parseIp(m[1] as string);
  }
  return parseAddress(cx, s, token);
}

export const portRange: Range = { min: 0, max: 65535 };

export function parsePort(cx: ParseContext, s: Statement, token: Token): number | undefined {
  if (!/^\d+$/.test(token.text)) {
    cx.diags.error('HAD_CFG_BAD_NUMBER', `${s.keyword.text}: '${token.text}' is not a port number`, token.where);
    return undefined;
  }
  return parseInteger(cx, s, token, portRange);
}

/** `IP:PORT`, `[IPv6]:PORT`, or a bare IP with the default port. */
export function parseEndpoint(cx: ParseContext, s: Statement, token: Token, defaultPort: number): (IpAddress & { port: number }) | undefined {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(token.text) ?? /^([^:]+)(?::(\d+))?$/.exec(token.text);
  const ip = parseIp(m?.[1] ?? token.text);
  if (ip === undefined) {
    cx.diags.error('HAD_CFG_BAD_ADDRESS', `${s.keyword.text}: '${token.text}' is not an address (IP, IP:PORT or [IPv6]:PORT)`, token.where);
    return undefined;
  }
  const portText = m?.[2];
  if (portText === undefined) return { ...ip, port: defaultPort };
  const port = parseInteger(cx, s, { ...token, text: portText }, { min: 1, max: 65535 });
  return port === undefined ? undefined : { ...ip, port };
}

/**
 * A script: `keyword "/path arg1 arg2" [user [group]]` or `keyword /path [user [group]]`.
 * The quoted form is split on unquoted blanks into argv, honouring inner quotes.
 */
export function commandArg(cx: ParseContext, s: Statement): Command | undefined {
  if (!expectArgs(cx, s, 1, 3)) return undefined;
  const [first, user, group] = s.args as [Token, Token | undefined, Token | undefined];
  const argv = first.quoted ? splitCommandLine(first.text) : [first.text];
  if (argv.length === 0) {
    cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `'${s.keyword.text}' needs a command`, first.where);
    return undefined;
  }
  return {
    argv,
    ...(user !== undefined ? { user: user.text } : {}),
    ...(group !== undefined ? { group: group.text } : {}),
    where: first.where,
  };
}

/** Shell-like split on blanks; single and double quotes group, backslash escapes one char. */
export function splitCommandLine(line: string): string[] {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) argv.push(word);
  return argv;
}

/** Entries of a list block (`virtual_ipaddress { ... }`): one statement per entry. */
export function listBlock(cx: ParseContext, s: Statement): Statement[] {
  if (s.args.length > 0) {
    cx.diags.warn('HAD_CFG_EXTRA_ARGUMENT', `'${s.keyword.text}' takes no value before its block: '${(s.args[0] as Token).text}' ignored`, (s.args[0] as Token).where);
  }
  return expectBlock(cx, s) ?? [];
}

/** Names in a block, one or more per line (`group { VI_1 VI_2 }`). */
export function nameListBlock(cx: ParseContext, s: Statement): Token[] {
  const names: Token[] = [];
  for (const entry of listBlock(cx, s)) {
    noBlock(cx, entry);
    names.push(entry.keyword, ...entry.args);
  }
  return names;
}

/** Assigns only a value that parsed, so a bad one leaves the default in place. */
export function set<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}
