// `time { ... }` inside `cluster`: how clock skew between directors is watched. Peer
// offsets come from heartbeats; SNTP servers (RFC 4330) give each node's own offset.
// The critical default is the operators' rule of thumb: directors within one second.
import cron from 'node-cron';
import type { SourcePos } from '../common/where';
import type { BlockSpec } from '../config/keywords';
import type { Token } from '../config/token';
import { commandArg, durationArg, expectArgs, parseEndpoint, parseInteger, set, type Command } from '../config/values';

export const sntpPort = 123;

export interface NtpServer {
  readonly host: string;
  readonly port: number;
  readonly where: SourcePos;
}

export interface TimeCheckConfig {
  ntpServers: NtpServer[];
  skewWarnMs: number;
  skewCriticalMs: number;
  /** node-cron expression for SNTP checks (RFC 4330 asks for no more than one a minute). */
  schedule: string;
  notify?: Command;
}

export function newTimeCheck(): TimeCheckConfig {
  return { ntpServers: [], skewWarnMs: 500, skewCriticalMs: 1000, schedule: '*/5 * * * *' };
}

const skewRange = { min: 1, max: 3_600_000 } as const;

export const timeCheckSpec: BlockSpec<TimeCheckConfig> = {
  name: 'time',
  keywords: {
    ntp_server: (s, t, cx) => {
      if (!expectArgs(cx, s, 1)) return;
      const token = s.args[0] as Token;
      // A host name holds a letter before any ':' (RFC 1123 lets it start with a digit: 0.pool.ntp.org).
      const named = /^(?=[^:]*[A-Za-z])([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d+))?$/.exec(token.text);
      if (named === null) {
        const endpoint = parseEndpoint(cx, s, token, sntpPort);
        if (endpoint !== undefined) t.ntpServers.push({ host: endpoint.address, port: endpoint.port, where: token.where });
        return;
      }
      const port = named[2] === undefined ? sntpPort : parseInteger(cx, s, { ...token, text: named[2] }, { min: 1, max: 65535 });
      if (port !== undefined) t.ntpServers.push({ host: named[1] as string, port, where: token.where });
    },
    skew_warn: (s, t, cx) => set(t, 'skewWarnMs', durationArg(cx, s, skewRange)),
    skew_critical: (s, t, cx) => set(t, 'skewCriticalMs', durationArg(cx, s, skewRange)),
    schedule: (s, t, cx) => {
      if (!expectArgs(cx, s, 1, 6)) return;
      const expression = s.args.map((a) => a.text).join(' ');
      if (cron.validate(expression)) t.schedule = expression;
      else cx.diags.error('HAD_CFG_BAD_VALUE', `schedule: '${expression}' is not a cron expression (like "*/5 * * * *")`, s.args[0]?.where);
    },
    notify: (s, t, cx) => set(t, 'notify', commandArg(cx, s)),
  },
};
