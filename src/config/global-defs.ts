// global_defs: settings shared by every instance and service, with keepalived's defaults.
// The VRRP defaults here (version, GARP timing) seed each vrrp_instance, which may
// override them, so global_defs is applied before any other block wherever it stands.
import type { SourcePos } from '../common/where';
import { newHostHealth, readHostHealth, type HostHealthConfig } from '../host/config';
import type { BlockSpec, ParseContext } from './keywords';
import type { Token } from './token';
import type { Statement } from './tree';
import {
  addressArg,
  choiceArg,
  commandArg,
  expectArgs,
  flagArg,
  intArg,
  listBlock,
  nameListBlock,
  parseAddress,
  parseInteger,
  parsePort,
  parseSeconds,
  secondsArg,
  set,
  textArg,
  wordArg,
  type Command,
  type IpAddress,
} from './values';

export interface LvsSyncDaemon {
  readonly interface: string;
  readonly where: SourcePos;
  instance?: string;
  syncId?: number;
  maxLen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

export interface LvsTimeouts {
  tcpS?: number;
  tcpfinS?: number;
  udpS?: number;
}

/** Which data plane forwards the virtual servers' traffic (auto: the kernel when root and it has what the services need). */
export const dataPlaneChoices = ['kernel', 'ipvs', 'userspace', 'auto'] as const;
export type DataPlaneChoice = (typeof dataPlaneChoices)[number];

export interface GlobalDefs {
  routerId?: string;
  dataPlane: DataPlaneChoice;
  notificationEmails: string[];
  notificationEmailFrom?: string;
  smtpServer?: IpAddress & { port: number };
  smtpConnectTimeoutMs: number;
  smtpHeloName?: string;
  vrrpVersion: 2 | 3;
  vrrpMcastGroup4: string;
  vrrpMcastGroup6: string;
  vrrpStrict: boolean;
  /** Version 3 checksums without the IPv4 pseudo-header, the default of every instance. */
  v3ChecksumAsV2: boolean;
  garp: { masterDelayMs: number; masterRepeat: number; masterRefreshMs: number; masterRefreshRepeat: number };
  garpIntervalMs: number;
  gnaIntervalMs: number;
  vrrpLowerPrioNoAdvert: boolean;
  vrrpHigherPrioSendAdvert: boolean;
  vrrpStartupDelayMs: number;
  scriptUser?: { user: string; group?: string };
  enableScriptSecurity: boolean;
  notifyFifo?: Command;
  lvsSyncDaemon?: LvsSyncDaemon;
  lvsTimeouts: LvsTimeouts;
  lvsFlush: boolean;
  /** `host_health { ... }`: always present, with its defaults when the file has none. */
  hostHealth: HostHealthConfig;
}

export function newGlobalDefs(): GlobalDefs {
  return {
    dataPlane: 'auto',
    notificationEmails: [],
    smtpConnectTimeoutMs: 30_000,
    vrrpVersion: 2,
    vrrpMcastGroup4: '224.0.0.18',
    vrrpMcastGroup6: 'ff02::12',
    vrrpStrict: false,
    v3ChecksumAsV2: false,
    garp: { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 },
    garpIntervalMs: 0,
    gnaIntervalMs: 0,
    vrrpLowerPrioNoAdvert: false,
    vrrpHigherPrioSendAdvert: false,
    vrrpStartupDelayMs: 0,
    enableScriptSecurity: false,
    lvsTimeouts: {},
    lvsFlush: false,
    hostHealth: newHostHealth(),
  };
}

const timeoutRange = { min: 1, max: 2_678_400 } as const; // ipvsadm's 31 days

export const globalDefsSpec: BlockSpec<GlobalDefs> = {
  name: 'global_defs',
  keywords: {
    router_id: (s, t, cx) => set(t, 'routerId', wordArg(cx, s)),
    data_plane: (s, t, cx) => set(t, 'dataPlane', choiceArg(cx, s, dataPlaneChoices)),
    notification_email: (s, t, cx) => {
      t.notificationEmails.push(...nameListBlock(cx, s).map((n) => n.text));
    },
    notification_email_from: (s, t, cx) => set(t, 'notificationEmailFrom', textArg(cx, s)),
    smtp_server: (s, t, cx) => {
      if (!expectArgs(cx, s, 1, 2)) return;
      const ip = parseAddress(cx, s, s.args[0] as Token);
      const port = s.args[1] === undefined ? 25 : parsePort(cx, s, s.args[1]);
      if (ip !== undefined && port !== undefined) t.smtpServer = { ...ip, port };
    },
    smtp_connect_timeout: (s, t, cx) => set(t, 'smtpConnectTimeoutMs', secondsArg(cx, s, { min: 1, max: 3600 })),
    smtp_helo_name: (s, t, cx) => set(t, 'smtpHeloName', wordArg(cx, s)),
    vrrp_version: (s, t, cx) => {
      const v = intArg(cx, s, { min: 2, max: 3 });
      if (v === 2 || v === 3) t.vrrpVersion = v;
    },
    vrrp_mcast_group4: (s, t, cx) => {
      const ip = addressArg(cx, s);
      if (ip !== undefined) t.vrrpMcastGroup4 = ip.address;
    },
    vrrp_mcast_group6: (s, t, cx) => {
      const ip = addressArg(cx, s);
      if (ip !== undefined) t.vrrpMcastGroup6 = ip.address;
    },
    vrrp_strict: (s, t, cx) => {
      t.vrrpStrict = flagArg(cx, s);
    },
    v3_checksum_as_v2: (s, t, cx) => {
      t.v3ChecksumAsV2 = flagArg(cx, s);
    },
    vrrp_garp_master_delay: (s, t, cx) => set(t.garp, 'masterDelayMs', secondsArg(cx, s, { min: 0, max: 86400 })),
    vrrp_garp_master_repeat: (s, t, cx) => set(t.garp, 'masterRepeat', intArg(cx, s, { min: 1, max: 10000 })),
    vrrp_garp_master_refresh: (s, t, cx) => set(t.garp, 'masterRefreshMs', secondsArg(cx, s, { min: 0, max: 86400 })),
    vrrp_garp_master_refresh_repeat: (s, t, cx) => set(t.garp, 'masterRefreshRepeat', intArg(cx, s, { min: 1, max: 10000 })),
    vrrp_garp_interval: (s, t, cx) => set(t, 'garpIntervalMs', secondsArg(cx, s, { min: 0, max: 1 })),
    vrrp_gna_interval: (s, t, cx) => set(t, 'gnaIntervalMs', secondsArg(cx, s, { min: 0, max: 1 })),
    vrrp_lower_prio_no_advert: (s, t, cx) => {
      t.vrrpLowerPrioNoAdvert = flagArg(cx, s);
    },
    vrrp_higher_prio_send_advert: (s, t, cx) => {
      t.vrrpHigherPrioSendAdvert = flagArg(cx, s);
    },
    vrrp_startup_delay: (s, t, cx) => set(t, 'vrrpStartupDelayMs', secondsArg(cx, s, { min: 0, max: 3600 })),
    script_user: (s, t, cx) => {
      if (!expectArgs(cx, s, 1, 2)) return;
      t.scriptUser = { user: (s.args[0] as Token).text, ...(s.args[1] ? { group: s.args[1].text } : {}) };
    },
    enable_script_security: (s, t, cx) => {
      t.enableScriptSecurity = flagArg(cx, s);
    },
    notify_fifo: (s, t, cx) => set(t, 'notifyFifo', commandArg(cx, s)),
    lvs_sync_daemon: (s, t, cx) => set(t, 'lvsSyncDaemon', readLvsSyncDaemon(s, cx)),
    lvs_timeouts: (s, t, cx) => {
      if (!expectArgs(cx, s, 2, 6)) return;
      const names: Record<string, keyof LvsTimeouts> = { tcp: 'tcpS', tcpfin: 'tcpfinS', udp: 'udpS' };
      for (let i = 0; i < s.args.length; i += 2) {
        const name = s.args[i] as Token;
        const key = names[name.text];
        const value = s.args[i + 1];
        if (key === undefined || value === undefined) {
          cx.diags.error('HAD_CFG_BAD_VALUE', `lvs_timeouts: expected 'tcp|tcpfin|udp SECONDS', got '${name.text}'`, name.where);
          continue;
        }
        const ms = parseSeconds(cx, s, value, timeoutRange);
        if (ms !== undefined) t.lvsTimeouts[key] = ms / 1000;
      }
    },
    lvs_flush: (s, t, cx) => {
      t.lvsFlush = flagArg(cx, s);
    },
    host_health: (s, t, cx) => {
      const block = listBlock(cx, s);
      const first = t.hostHealth.where;
      if (first !== undefined) {
        cx.diags.error('HAD_CFG_DUPLICATE', `a second 'host_health' block (the first is at ${first.file}:${first.line}:${first.col})`, s.where);
        return;
      }
      t.hostHealth = readHostHealth(cx, s, block);
    },
  },
};

/** `lvs_sync_daemon IF [inst NAME] [id N] [maxlen N] [port N] [ttl N] [group IP]`. */
function readLvsSyncDaemon(s: Statement, cx: ParseContext): LvsSyncDaemon | undefined {
  if (!expectArgs(cx, s, 1, 13)) return undefined;
  const daemon: LvsSyncDaemon = { interface: (s.args[0] as Token).text, where: s.where };
  for (let i = 1; i < s.args.length; i += 2) {
    const opt = s.args[i] as Token;
    const value = s.args[i + 1];
    if (value === undefined) {
      cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `lvs_sync_daemon: '${opt.text}' needs a value`, opt.where);
      break;
    }
    switch (opt.text) {
      case 'inst':
        daemon.instance = value.text;
        break;
      case 'id':
        set(daemon, 'syncId', parseInteger(cx, s, value, { min: 0, max: 255 }));
        break;
      case 'maxlen':
        set(daemon, 'maxLen', parseInteger(cx, s, value, { min: 1, max: 65507 }));
        break;
      case 'port':
        set(daemon, 'port', parseInteger(cx, s, value, { min: 1, max: 65535 }));
        break;
      case 'ttl':
        set(daemon, 'ttl', parseInteger(cx, s, value, { min: 1, max: 255 }));
        break;
      case 'group':
        if (parseAddress(cx, s, value) !== undefined) daemon.group = value.text;
        break;
      default:
        cx.diags.warn('HAD_CFG_UNKNOWN_KEYWORD', `lvs_sync_daemon: unknown option '${opt.text}': ignored`, opt.where);
    }
  }
  return daemon;
}
