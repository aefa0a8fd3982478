// Real-server checkers of keepalived.conf: TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK,
// DNS_CHECK, SMTP_CHECK. Timing settings cascade virtual_server → real_server → checker;
// what none of them sets takes keepalived's per-checker default.
import type { SourcePos } from '../common/where';
import { applyBlock, type BlockSpec, type Handler, type ParseContext } from '../config/keywords';
import type { Token } from '../config/token';
import type { Statement } from '../config/tree';
import {
  addressArg,
  commandArg,
  expectArgs,
  flagArg,
  intArg,
  listBlock,
  parseInteger,
  parsePort,
  secondsArg,
  set,
  textArg,
  wordArg,
  type Command,
  type IpAddress,
} from '../config/values';

export const checkerKinds = ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'DNS_CHECK', 'SMTP_CHECK'] as const;
export type CheckerKind = (typeof checkerKinds)[number];

export interface CheckerTiming {
  connectTimeoutMs: number;
  retry: number;
  delayBeforeRetryMs: number;
  delayLoopMs: number;
  warmupMs: number;
}

export const delayLoopDefaultMs = 60_000;
export const connectTimeoutDefaultMs = 5000;

export interface StatusRange {
  readonly from: number;
  readonly to: number;
}

export interface UrlCheck {
  readonly where: SourcePos;
  path?: string;
  /** MD5 of the body, lower-case hex, as `hadirector genhash` prints it. */
  digest?: string;
  /** Accepted status codes; empty means 200-299. */
  statusCodes: StatusRange[];
  virtualhost?: string;
}

interface CheckerCommon {
  readonly where: SourcePos;
  connectIp?: IpAddress;
  connectPort?: number;
  bindTo?: IpAddress;
  bindPort?: number;
  timing: CheckerTiming;
}

export interface TcpCheckConfig extends CheckerCommon {
  readonly kind: 'TCP_CHECK';
}

export interface HttpCheckConfig extends CheckerCommon {
  readonly kind: 'HTTP_GET' | 'SSL_GET';
  urls: UrlCheck[];
  virtualhost?: string;
  httpProtocol?: string;
}

export interface MiscCheckConfig extends CheckerCommon {
  readonly kind: 'MISC_CHECK';
  path?: Command;
  /** Defaults to the delay loop. */
  timeoutMs?: number;
  dynamic: boolean;
  user?: string;
}

export interface DnsCheckConfig extends CheckerCommon {
  readonly kind: 'DNS_CHECK';
  type: string;
  name: string;
}

export interface SmtpCheckConfig extends CheckerCommon {
  readonly kind: 'SMTP_CHECK';
  heloName?: string;
}

export type CheckerConfig = TcpCheckConfig | HttpCheckConfig | MiscCheckConfig | DnsCheckConfig | SmtpCheckConfig;

export const dnsQueryTypes = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;

/** keepalived's defaults where no enclosing block set a value. */
export function defaultTiming(kind: CheckerKind, inherited: Partial<CheckerTiming>): CheckerTiming {
  const delayLoopMs = inherited.delayLoopMs ?? delayLoopDefaultMs;
  const retryDefault = kind === 'DNS_CHECK' ? 3 : kind === 'MISC_CHECK' ? 0 : 1;
  const delayBeforeRetryDefault = kind === 'HTTP_GET' || kind === 'SSL_GET' ? 3000 : kind === 'DNS_CHECK' ? delayLoopMs : 1000;
  return {
    connectTimeoutMs: inherited.connectTimeoutMs ?? connectTimeoutDefaultMs,
    retry: inherited.retry ?? retryDefault,
    delayBeforeRetryMs: inherited.delayBeforeRetryMs ?? delayBeforeRetryDefault,
    delayLoopMs,
    warmupMs: inherited.warmupMs ?? 0,
  };
}

/** Timing keywords valid in virtual_server, real_server and every checker. */
export const timingKeywords: Readonly<Record<string, Handler<{ timing: Partial<CheckerTiming> }>>> = {
  delay_loop: (s, t, cx) => set(t.timing, 'delayLoopMs', secondsArg(cx, s, { min: 0.001, max: 86400 })),
  connect_timeout: (s, t, cx) => set(t.timing, 'connectTimeoutMs', secondsArg(cx, s, { min: 0.001, max: 3600 })),
  retry: (s, t, cx) => set(t.timing, 'retry', intArg(cx, s, { min: 0, max: 1_000_000 })),
  delay_before_retry: (s, t, cx) => set(t.timing, 'delayBeforeRetryMs', secondsArg(cx, s, { min: 0, max: 86400 })),
  warmup: (s, t, cx) => set(t.timing, 'warmupMs', secondsArg(cx, s, { min: 0, max: 86400 })),
};

const commonKeywords: Readonly<Record<string, Handler<CheckerCommon>>> = {
  ...timingKeywords,
  connect_ip: (s, t, cx) => set(t, 'connectIp', addressArg(cx, s)),
  connect_port: (s, t, cx) => {
    if (expectArgs(cx, s, 1)) set(t, 'connectPort', parsePort(cx, s, s.args[0] as Token));
  },
  bindto: (s, t, cx) => set(t, 'bindTo', addressArg(cx, s)),
  bind_port: (s, t, cx) => {
    if (expectArgs(cx, s, 1)) set(t, 'bindPort', parsePort(cx, s, s.args[0] as Token));
  },
};

export const tcpCheckSpec: BlockSpec<TcpCheckConfig> = { name: 'TCP_CHECK', keywords: commonKeywords };

export function httpCheckSpec(name: 'HTTP_GET' | 'SSL_GET'): BlockSpec<HttpCheckConfig> {
  return {
    name,
    keywords: {
      ...commonKeywords,
      url: (s, t, cx) => {
        const url: UrlCheck = { where: s.where, statusCodes: [] };
        applyBlock(urlSpec, listBlock(cx, s), url, cx);
        if (url.path === undefined) cx.diags.error('HAD_CFG_MISSING_KEYWORD', `url needs a 'path'`, s.where);
        t.urls.push(url);
      },
      virtualhost: (s, t, cx) => set(t, 'virtualhost', wordArg(cx, s)),
      http_protocol: (s, t, cx) => set(t, 'httpProtocol', wordArg(cx, s)),
      nb_get_retry: (s, t, cx) => {
        cx.diags.warn('HAD_CFG_DEPRECATED', `'nb_get_retry' is the old name of 'retry'`, s.where);
        set(t.timing, 'retry', intArg(cx, s, { min: 0, max: 1_000_000 }));
      },
    },
  };
}

export const urlSpec: BlockSpec<UrlCheck> = {
  name: 'url',
  keywords: {
    path: (s, t, cx) => set(t, 'path', wordArg(cx, s)),
    digest: (s, t, cx) => {
      const digest = wordArg(cx, s);
      if (digest === undefined) return;
      if (!/^[0-9a-fA-F]{32}$/.test(digest)) {
        cx.diags.error('HAD_CFG_BAD_VALUE', `digest: '${digest}' is not an MD5 digest (32 hex digits; see 'hadirector genhash')`, s.args[0]?.where);
        return;
      }
      t.digest = digest.toLowerCase();
    },
    status_code: (s, t, cx) => {
      if (!expectArgs(cx, s, 1, 64)) return;
      for (const token of s.args) {
        for (const part of token.text.split(',').filter((p) => p !== '')) {
          const range = parseStatusRange(cx, s, { ...token, text: part });
          if (range !== undefined) t.statusCodes.push(range);
        }
      }
    },
    virtualhost: (s, t, cx) => set(t, 'virtualhost', wordArg(cx, s)),
  },
};

function parseStatusRange(cx: ParseContext, s: Statement, token: Token): StatusRange | undefined {
  const [fromText, toText] = token.text.split('-', 2) as [string, string | undefined];
  const codes = { min: 100, max: 599 };
  const from = parseInteger(cx, s, { ...token, text: fromText }, codes);
  const to = toText === undefined ? from : parseInteger(cx, s, { ...token, text: toText }, codes);
  if (from === undefined || to === undefined) return undefined;
  if (to < from) {
    cx.diags.error('HAD_CFG_BAD_VALUE', `status_code: range '${token.text}' runs backwards`, token.where);
    return undefined;
  }
  return { from, to };
}

export const miscCheckSpec: BlockSpec<MiscCheckConfig> = {
  name: 'MISC_CHECK',
  keywords: {
    ...commonKeywords,
    misc_path: (s, t, cx) => set(t, 'path', commandArg(cx, s)),
    misc_timeout: (s, t, cx) => set(t, 'timeoutMs', secondsArg(cx, s, { min: 0.001, max: 86400 })),
    misc_dynamic: (s, t, cx) => {
      t.dynamic = flagArg(cx, s);
    },
    user: (s, t, cx) => {
      if (expectArgs(cx, s, 1, 2)) t.user = (s.args[0] as Token).text;
    },
  },
};

export const dnsCheckSpec: BlockSpec<DnsCheckConfig> = {
  name: 'DNS_CHECK',
  keywords: {
    ...commonKeywords,
    type: (s, t, cx) => {
      const type = wordArg(cx, s)?.toUpperCase();
      if (type === undefined) return;
      if ((dnsQueryTypes as readonly string[]).includes(type)) t.type = type;
      else cx.diags.error('HAD_CFG_BAD_VALUE', `type: '${type}' is not one of ${dnsQueryTypes.join('|')}`, s.args[0]?.where);
    },
    name: (s, t, cx) => set(t, 'name', wordArg(cx, s)),
  },
};

export const smtpCheckSpec: BlockSpec<SmtpCheckConfig> = {
  name: 'SMTP_CHECK',
  keywords: {
    ...commonKeywords,
    helo_name: (s, t, cx) => set(t, 'heloName', textArg(cx, s)),
  },
};

export function isCheckerKeyword(keyword: string): keyword is CheckerKind {
  return (checkerKinds as readonly string[]).includes(keyword);
}

/**
 * Parses one checker block, starting from the timing its real server passes down. The
 * defaults fill in only after the checker's own settings, as in keepalived, so that a
 * DNS_CHECK's delay_before_retry follows a delay_loop written inside it.
 */
export function readChecker(cx: ParseContext, s: Statement, kind: CheckerKind, inherited: Partial<CheckerTiming>): CheckerConfig {
  const checker = readCheckerBlock(cx, s, kind, inherited);
  checker.timing = defaultTiming(kind, checker.timing);
  return checker;
}

function readCheckerBlock(cx: ParseContext, s: Statement, kind: CheckerKind, inherited: Partial<CheckerTiming>): CheckerConfig {
  const statements = listBlock(cx, s);
  // Partial until readChecker fills in the defaults.
  const base = { where: s.where, timing: { ...inherited } as CheckerTiming };
  switch (kind) {
    case 'TCP_CHECK': {
      const c: TcpCheckConfig = { ...base, kind };
      applyBlock(tcpCheckSpec, statements, c, cx);
      return c;
    }
    case 'HTTP_GET':
    case 'SSL_GET': {
      const c: HttpCheckConfig = { ...base, kind, urls: [] };
      applyBlock(httpCheckSpec(kind), statements, c, cx);
      if (c.urls.length === 0) cx.diags.error('HAD_CFG_MISSING_KEYWORD', `${kind} needs at least one 'url { path ... }'`, s.where);
      return c;
    }
    case 'MISC_CHECK': {
      const c: MiscCheckConfig = { ...base, kind, dynamic: false };
      applyBlock(miscCheckSpec, statements, c, cx);
      if (c.path === undefined) cx.diags.error('HAD_CFG_MISSING_KEYWORD', `MISC_CHECK needs 'misc_path'`, s.where);
      return c;
    }
    case 'DNS_CHECK': {
      const c: DnsCheckConfig = { ...base, kind, type: 'SOA', name: '.' };
      applyBlock(dnsCheckSpec, statements, c, cx);
      return c;
    }
    case 'SMTP_CHECK': {
      const c: SmtpCheckConfig = { ...base, kind };
      applyBlock(smtpCheckSpec, statements, c, cx);
      return c;
    }
  }
}
