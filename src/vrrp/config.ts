// The VRRP keywords of keepalived.conf: vrrp_script, vrrp_instance, vrrp_sync_group.
// Defaults are keepalived's (man keepalived.conf; RFC 5798 §5 and §6.1).
import type { SourcePos } from '../common/where';
import { applyBlock, type BlockSpec, type ParseContext } from '../config/keywords';
import type { Token } from '../config/token';
import type { Statement } from '../config/tree';
import {
  choiceArg,
  commandArg,
  expectArgs,
  flagArg,
  intArg,
  listBlock,
  nameListBlock,
  noBlock,
  parseAddress,
  parseChoice,
  parseHostAddress,
  parseInteger,
  secondsArg,
  set,
  wordArg,
  type Command,
  type IpAddress,
} from '../config/values';
import type { GlobalDefs } from '../config/global-defs';

export const vrrpPriorityDefault = 100;
export const vrrpPriorityOwner = 255;
/** keepalived's default_interface: where an instance without `interface` runs. */
export const defaultVrrpInterface = 'eth0';
export const trackWeightRange = { min: -253, max: 253 } as const;
export const processWeightRange = { min: -254, max: 254 } as const;

export interface VrrpScriptConfig {
  readonly name: string;
  readonly where: SourcePos;
  script?: Command;
  intervalMs: number;
  /** Defaults to the interval. */
  timeoutMs?: number;
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  user?: string;
  initFail: boolean;
}

/** `vrrp_track_file NAME`: a number in a file, times the weight, moves the priority. */
export interface VrrpTrackFileConfig {
  readonly name: string;
  readonly where: SourcePos;
  file?: string;
  weight: number;
  weightReverse: boolean;
  /** `init_file [VALUE] [overwrite]`: create the file with VALUE (0) if missing, or always. */
  initFile?: { value: number; overwrite: boolean };
}

export type ProcessParamMatch = 'exact' | 'initial' | 'partial';

/** `vrrp_track_process NAME`: up while the count of matching processes is within quorum..quorum_max. */
export interface VrrpTrackProcessConfig {
  readonly name: string;
  readonly where: SourcePos;
  process?: string;
  params: string[];
  paramMatch: ProcessParamMatch;
  weight: number;
  weightReverse: boolean;
  quorum: number;
  quorumMax?: number;
  /** Wait this long after the count enters (fork) or leaves (terminate) the quorum before believing it. */
  forkDelayMs: number;
  terminateDelayMs: number;
  /** Match the command line's first word rather than the kernel's 15-character process name. */
  fullCommand: boolean;
}

export interface VirtualAddress extends IpAddress {
  readonly prefix: number;
  readonly where: SourcePos;
  brd?: string;
  dev?: string;
  label?: string;
  scope?: string;
  noTrack?: boolean;
}

/** An entry of track_interface or track_script. No weight means "FAULT when it fails". */
export interface TrackRef {
  readonly name: string;
  readonly where: SourcePos;
  weight?: number;
  reverse: boolean;
}

export interface UnicastPeer extends IpAddress {
  readonly where: SourcePos;
  minTtl?: number;
  maxTtl?: number;
}

export interface NotifyScripts {
  notify?: Command;
  master?: Command;
  backup?: Command;
  fault?: Command;
  stop?: Command;
}

export interface VrrpAuthentication {
  readonly where: SourcePos;
  type?: 'PASS' | 'AH';
  pass?: string;
}

export interface GarpSettings {
  masterDelayMs: number;
  masterRepeat: number;
  masterRefreshMs: number;
  masterRefreshRepeat: number;
}

/** What `use_vmac` names; what it leaves out is derived (vrrp/vmac.ts). */
export interface VmacRequest {
  readonly where: SourcePos;
  name?: string;
  /** Six octets, or five to which the VRID is added. */
  mac?: string;
}

export type VrrpInitialState = 'MASTER' | 'BACKUP';

/**
 * Older keepalived put the multicast group, not the peer, in the pseudo-header of a version
 * 3 unicast advert over IPv4. keepalived sends the peer's address and switches to the old
 * form once it hears it (`on-hearing`, its default), never switches (`never`), or sends
 * the old form from the start (`always`, `old_unicast_checksum` alone).
 */
export type OldUnicastChecksum = 'on-hearing' | 'never' | 'always';

export interface VrrpInstanceConfig {
  readonly name: string;
  readonly where: SourcePos;
  initialState: VrrpInitialState;
  interface?: string;
  virtualRouterId?: number;
  /** Where the VRID was set, for duplicate reports. */
  virtualRouterIdWhere?: SourcePos;
  priority: number;
  priorityWhere?: SourcePos;
  advertIntMs: number;
  advertIntWhere?: SourcePos;
  version: 2 | 3;
  preempt: boolean;
  nopreemptWhere?: SourcePos;
  preemptDelayMs: number;
  virtualIpAddresses: VirtualAddress[];
  virtualIpAddressesExcluded: VirtualAddress[];
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  authentication?: VrrpAuthentication;
  unicastSrcIp?: IpAddress;
  unicastPeers: UnicastPeer[];
  /** Version 3 over IPv4: the checksum leaves the pseudo-header out (other vendors' form). */
  v3ChecksumAsV2: boolean;
  /** `old_unicast_checksum [never]`: the pseudo-header destination of a version 3 unicast advert over IPv4. */
  oldUnicastChecksum: OldUnicastChecksum;
  /** `use_vmac [NAME] [MAC]`: a macvlan with the virtual router MAC carries the VIPs and adverts. */
  vmac?: VmacRequest;
  /** `vmac_xmit_base`: adverts leave from the base interface, not the VMAC. */
  vmacXmitBase: boolean;
  notify: NotifyScripts;
  garp: GarpSettings;
  smtpAlert: boolean;
  lvsSyncDaemonInterface?: string;
}

export interface VrrpSyncGroupConfig {
  readonly name: string;
  readonly where: SourcePos;
  members: Array<{ readonly name: string; readonly where: SourcePos }>;
  notify: NotifyScripts;
  smtpAlert: boolean;
  trackInterfaces: TrackRef[];
  trackScripts: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
}

export function newVrrpScript(name: string, where: SourcePos): VrrpScriptConfig {
  return { name, where, intervalMs: 1000, weight: 0, weightReverse: false, rise: 1, fall: 1, initFail: false };
}

export function newVrrpInstance(name: string, where: SourcePos, global: GlobalDefs): VrrpInstanceConfig {
  return {
    name,
    where,
    initialState: 'BACKUP',
    priority: vrrpPriorityDefault,
    advertIntMs: 1000,
    version: global.vrrpVersion,
    preempt: true,
    preemptDelayMs: 0,
    virtualIpAddresses: [],
    virtualIpAddressesExcluded: [],
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    unicastPeers: [],
    v3ChecksumAsV2: global.v3ChecksumAsV2,
    oldUnicastChecksum: 'on-hearing',
    vmacXmitBase: false,
    notify: {},
    garp: { ...global.garp },
    smtpAlert: false,
  };
}

export function newVrrpSyncGroup(name: string, where: SourcePos): VrrpSyncGroupConfig {
  return { name, where, members: [], notify: {}, smtpAlert: false, trackInterfaces: [], trackScripts: [], trackFiles: [], trackProcesses: [] };
}

export function newVrrpTrackFile(name: string, where: SourcePos): VrrpTrackFileConfig {
  return { name, where, weight: 1, weightReverse: false };
}

export function newVrrpTrackProcess(name: string, where: SourcePos): VrrpTrackProcessConfig {
  return { name, where, params: [], paramMatch: 'exact', weight: 0, weightReverse: false, quorum: 1, forkDelayMs: 0, terminateDelayMs: 0, fullCommand: false };
}

/** `weight N [reverse]` of a tracker block. */
function weightKeyword(range: { readonly min: number; readonly max: number }) {
  return (s: Statement, t: { weight: number; weightReverse: boolean }, cx: ParseContext): void => {
    if (!expectArgs(cx, s, 1, 2)) return;
    set(t, 'weight', parseInteger(cx, s, s.args[0] as Token, range));
    t.weightReverse = readReverse(cx, s, s.args[1]);
  };
}

export const vrrpScriptSpec: BlockSpec<VrrpScriptConfig> = {
  name: 'vrrp_script',
  keywords: {
    script: (s, t, cx) => set(t, 'script', commandArg(cx, s)),
    interval: (s, t, cx) => set(t, 'intervalMs', secondsArg(cx, s, { min: 0.001, max: 86400 })),
    timeout: (s, t, cx) => set(t, 'timeoutMs', secondsArg(cx, s, { min: 0.001, max: 86400 })),
    weight: weightKeyword(trackWeightRange),
    rise: (s, t, cx) => set(t, 'rise', intArg(cx, s, { min: 1, max: 1_000_000 })),
    fall: (s, t, cx) => set(t, 'fall', intArg(cx, s, { min: 1, max: 1_000_000 })),
    user: (s, t, cx) => {
      if (expectArgs(cx, s, 1, 2)) t.user = (s.args[0] as Token).text;
    },
    init_fail: (s, t, cx) => {
      t.initFail = flagArg(cx, s);
    },
  },
};

export const vrrpTrackFileSpec: BlockSpec<VrrpTrackFileConfig> = {
  name: 'vrrp_track_file',
  keywords: {
    file: (s, t, cx) => set(t, 'file', wordArg(cx, s)),
    weight: weightKeyword(trackWeightRange),
    init_file: (s, t, cx) => {
      if (!expectArgs(cx, s, 0, 2)) return;
      const init = { value: 0, overwrite: false };
      for (const arg of s.args) {
        if (arg.text === 'overwrite') init.overwrite = true;
        else set(init, 'value', parseInteger(cx, s, arg, { min: -2_147_483_648, max: 2_147_483_647 }));
      }
      t.initFile = init;
    },
  },
};

export const vrrpTrackProcessSpec: BlockSpec<VrrpTrackProcessConfig> = {
  name: 'vrrp_track_process',
  keywords: {
    process: (s, t, cx) => {
      if (!expectArgs(cx, s, 1, Number.MAX_SAFE_INTEGER)) return;
      const [name, ...params] = s.args.map((a) => a.text) as [string, ...string[]];
      t.process = name;
      t.params = params;
    },
    param_match: (s, t, cx) => set(t, 'paramMatch', choiceArg(cx, s, ['initial', 'partial'] as const)),
    weight: weightKeyword(processWeightRange),
    quorum: (s, t, cx) => set(t, 'quorum', intArg(cx, s, { min: 1, max: 65535 })),
    quorum_max: (s, t, cx) => set(t, 'quorumMax', intArg(cx, s, { min: 1, max: 65535 })),
    delay: (s, t, cx) => {
      const ms = secondsArg(cx, s, { min: 0, max: 86400 });
      set(t, 'forkDelayMs', ms);
      set(t, 'terminateDelayMs', ms);
    },
    fork_delay: (s, t, cx) => set(t, 'forkDelayMs', secondsArg(cx, s, { min: 0, max: 86400 })),
    terminate_delay: (s, t, cx) => set(t, 'terminateDelayMs', secondsArg(cx, s, { min: 0, max: 86400 })),
    full_command: (s, t, cx) => {
      t.fullCommand = flagArg(cx, s);
    },
  },
};

export const notifyKeywords = {
  notify: (s: Statement, t: { notify: NotifyScripts }, cx: ParseContext) => set(t.notify, 'notify', commandArg(cx, s)),
  notify_master: (s: Statement, t: { notify: NotifyScripts }, cx: ParseContext) => set(t.notify, 'master', commandArg(cx, s)),
  notify_backup: (s: Statement, t: { notify: NotifyScripts }, cx: ParseContext) => set(t.notify, 'backup', commandArg(cx, s)),
  notify_fault: (s: Statement, t: { notify: NotifyScripts }, cx: ParseContext) => set(t.notify, 'fault', commandArg(cx, s)),
  notify_stop: (s: Statement, t: { notify: NotifyScripts }, cx: ParseContext) => set(t.notify, 'stop', commandArg(cx, s)),
};

const trackKeywords = {
  track_interface: (s: Statement, t: { trackInterfaces: TrackRef[] }, cx: ParseContext) => {
    t.trackInterfaces.push(...readTrackList(cx, s));
  },
  track_script: (s: Statement, t: { trackScripts: TrackRef[] }, cx: ParseContext) => {
    t.trackScripts.push(...readTrackList(cx, s));
  },
  track_file: (s: Statement, t: { trackFiles: TrackRef[] }, cx: ParseContext) => {
    t.trackFiles.push(...readTrackList(cx, s));
  },
  track_process: (s: Statement, t: { trackProcesses: TrackRef[] }, cx: ParseContext) => {
    t.trackProcesses.push(...readTrackList(cx, s, processWeightRange));
  },
};

export const vrrpInstanceSpec: BlockSpec<VrrpInstanceConfig> = {
  name: 'vrrp_instance',
  keywords: {
    state: (s, t, cx) => {
      if (!expectArgs(cx, s, 1)) return;
      const token = s.args[0] as Token;
      const state = token.text.toUpperCase();
      if (state === 'MASTER' || state === 'BACKUP') t.initialState = state;
      else cx.diags.warn('HAD_CFG_BAD_VALUE', `state: unknown state '${token.text}', using BACKUP`, token.where);
    },
    interface: (s, t, cx) => set(t, 'interface', wordArg(cx, s)),
    virtual_router_id: (s, t, cx) => {
      set(t, 'virtualRouterId', intArg(cx, s, { min: 1, max: 255 }));
      t.virtualRouterIdWhere = s.args[0]?.where ?? s.where;
    },
    priority: (s, t, cx) => {
      set(t, 'priority', intArg(cx, s, { min: 1, max: vrrpPriorityOwner }));
      t.priorityWhere = s.args[0]?.where ?? s.where;
    },
    advert_int: (s, t, cx) => {
      set(t, 'advertIntMs', secondsArg(cx, s, { min: 0.01, max: 255 }));
      t.advertIntWhere = s.args[0]?.where ?? s.where;
    },
    version: (s, t, cx) => {
      const v = intArg(cx, s, { min: 2, max: 3 });
      if (v === 2 || v === 3) t.version = v;
    },
    nopreempt: (s, t, cx) => {
      expectArgs(cx, s, 0);
      t.preempt = false;
      t.nopreemptWhere = s.where;
    },
    preempt: (s, t, cx) => {
      expectArgs(cx, s, 0);
      t.preempt = true;
    },
    preempt_delay: (s, t, cx) => set(t, 'preemptDelayMs', secondsArg(cx, s, { min: 0, max: 1000 })),
    virtual_ipaddress: (s, t, cx) => t.virtualIpAddresses.push(...readVirtualAddresses(cx, s)),
    virtual_ipaddress_excluded: (s, t, cx) => t.virtualIpAddressesExcluded.push(...readVirtualAddresses(cx, s)),
    ...trackKeywords,
    authentication: (s, t, cx) => {
      const auth: VrrpAuthentication = { where: s.where };
      applyBlock(authenticationSpec, listBlock(cx, s), auth, cx);
      t.authentication = auth;
    },
    unicast_src_ip: (s, t, cx) => {
      if (expectArgs(cx, s, 1)) set(t, 'unicastSrcIp', parseHostAddress(cx, s, s.args[0] as Token));
    },
    v3_checksum_as_v2: (s, t, cx) => {
      t.v3ChecksumAsV2 = flagArg(cx, s);
    },
    old_unicast_checksum: (s, t, cx) => {
      if (!expectArgs(cx, s, 0, 1)) return;
      const mode = s.args[0];
      if (mode === undefined) t.oldUnicastChecksum = 'always';
      else if (mode.text === 'never') t.oldUnicastChecksum = 'never';
      else cx.diags.warn('HAD_CFG_BAD_VALUE', `old_unicast_checksum: unknown mode '${mode.text}' (only 'never'): ignored`, mode.where);
    },
    use_vmac: (s, t, cx) => {
      if (expectArgs(cx, s, 0, 2)) t.vmac = readVmac(cx, s);
    },
    vmac_xmit_base: (s, t, cx) => {
      expectArgs(cx, s, 0);
      t.vmacXmitBase = true;
    },
    unicast_peer: (s, t, cx) => {
      for (const entry of listBlock(cx, s)) {
        const peer = readUnicastPeer(cx, entry);
        if (peer !== undefined) t.unicastPeers.push(peer);
      }
    },
    ...notifyKeywords,
    garp_master_delay: (s, t, cx) => set(t.garp, 'masterDelayMs', secondsArg(cx, s, { min: 0, max: 86400 })),
    garp_master_repeat: (s, t, cx) => set(t.garp, 'masterRepeat', intArg(cx, s, { min: 1, max: 10000 })),
    garp_master_refresh: (s, t, cx) => set(t.garp, 'masterRefreshMs', secondsArg(cx, s, { min: 0, max: 86400 })),
    garp_master_refresh_repeat: (s, t, cx) => set(t.garp, 'masterRefreshRepeat', intArg(cx, s, { min: 1, max: 10000 })),
    smtp_alert: (s, t, cx) => {
      t.smtpAlert = flagArg(cx, s);
    },
    lvs_sync_daemon_interface: (s, t, cx) => set(t, 'lvsSyncDaemonInterface', wordArg(cx, s)),
  },
};

export const authenticationSpec: BlockSpec<VrrpAuthentication> = {
  name: 'authentication',
  keywords: {
    auth_type: (s, t, cx) => set(t, 'type', choiceArg(cx, s, ['PASS', 'AH'] as const)),
    auth_pass: (s, t, cx) => {
      const pass = wordArg(cx, s);
      if (pass !== undefined && pass.length > 8) {
        cx.diags.warn('HAD_CFG_BAD_VALUE', 'auth_pass: only the first 8 characters are used (as in VRRPv2)', s.args[0]?.where ?? s.where);
      }
      set(t, 'pass', pass?.slice(0, 8));
    },
  },
};

export const vrrpSyncGroupSpec: BlockSpec<VrrpSyncGroupConfig> = {
  name: 'vrrp_sync_group',
  keywords: {
    group: (s, t, cx) => {
      for (const name of nameListBlock(cx, s)) t.members.push({ name: name.text, where: name.where });
    },
    ...notifyKeywords,
    smtp_alert: (s, t, cx) => {
      t.smtpAlert = flagArg(cx, s);
    },
    ...trackKeywords,
  },
  // keepalived before 1.2 listed members directly in the block: still seen in the field.
  fallback: (s, t, cx) => {
    if (s.args.length > 0 || s.block !== undefined) return false;
    cx.diags.warn('HAD_CFG_DEPRECATED', `sync group member '${s.keyword.text}' outside 'group { }': old syntax, accepted`, s.where);
    t.members.push({ name: s.keyword.text, where: s.where });
    return true;
  },
};

/**
 * `use_vmac [NAME] [MAC]`, in either order (a MAC has colons, a name cannot). As keepalived,
 * a bad name or MAC is ignored with a warning and the default stands.
 */
function readVmac(cx: ParseContext, s: Statement): VmacRequest {
  const vmac: VmacRequest = { where: s.where };
  for (const arg of s.args) {
    if (arg.text.includes(':')) {
      const problem = vmacMacProblem(arg.text);
      if (problem !== undefined) cx.diags.warn('HAD_CFG_BAD_VALUE', `use_vmac: ${problem}: ignored, the VRRP MAC is used`, arg.where);
      else vmac.mac = arg.text.toLowerCase();
    } else if (!/^[A-Za-z0-9_.-]{1,15}$/.test(arg.text)) {
      cx.diags.warn('HAD_CFG_BAD_VALUE', `use_vmac: '${arg.text}' is no interface name (1 to 15 letters, digits, '_', '.', '-'): ignored, the name is chosen`, arg.where);
    } else vmac.name = arg.text;
  }
  return vmac;
}

function vmacMacProblem(text: string): string | undefined {
  const octets = text.replace(/:$/, '').split(':');
  if (octets.length < 5 || octets.length > 6 || !octets.every((o) => /^[0-9A-Fa-f]{1,2}$/.test(o))) return `'${text}' is not a MAC address (six octets, or five and the VRID)`;
  const bytes = octets.map((o) => parseInt(o, 16));
  if (((bytes[0] as number) & 1) === 1) return `${text} is a multicast MAC address`;
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x5e && bytes[3] === 0 && (bytes[4] === 1 || bytes[4] === 2)) return `${text} is an RFC 5798 virtual router MAC (give none to get it)`;
  return undefined;
}

const scopeNames = ['global', 'site', 'link', 'host', 'nowhere'] as const;

/** `IP[/PREFIX] [brd IP] [dev IF] [scope SCOPE] [label LABEL] [no_track]`, one per line. */
function readVirtualAddresses(cx: ParseContext, s: Statement): VirtualAddress[] {
  const out: VirtualAddress[] = [];
  for (const entry of listBlock(cx, s)) {
    noBlock(cx, entry);
    const vip = readVirtualAddress(cx, entry);
    if (vip !== undefined) out.push(vip);
  }
  return out;
}

function readVirtualAddress(cx: ParseContext, entry: Statement): VirtualAddress | undefined {
  const head = entry.keyword;
  const [addressText, prefixText] = head.text.split('/', 2) as [string, string | undefined];
  const ip = parseAddress(cx, { ...entry, keyword: { ...head, text: 'virtual_ipaddress' } }, { ...head, text: addressText }, 'an IP address (a VIP is an address, optionally /prefix)');
  if (ip === undefined) return undefined;
  const prefixMax = ip.family === 4 ? 32 : 128;
  let prefix = prefixMax;
  if (prefixText !== undefined) {
    const p = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(p >= 0 && p <= prefixMax)) {
      cx.diags.error('HAD_CFG_BAD_ADDRESS', `virtual_ipaddress: prefix '/${prefixText}' is outside 0..${prefixMax}`, head.where);
      return undefined;
    }
    prefix = p;
  }
  const vip: VirtualAddress = { ...ip, prefix, where: head.where };
  const opts = entry.args;
  for (let i = 0; i < opts.length; i++) {
    const opt = opts[i] as Token;
    const value = opts[i + 1];
    const needValue = (): Token | undefined => {
      if (value === undefined) cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `virtual_ipaddress: '${opt.text}' needs a value`, opt.where);
      else i++;
      return value;
    };
    switch (opt.text) {
      case 'brd': {
        const v = needValue();
        if (v !== undefined && parseAddress(cx, { ...entry, keyword: opt }, v) !== undefined) vip.brd = v.text;
        break;
      }
      case 'dev': {
        const v = needValue();
        if (v !== undefined) vip.dev = v.text;
        break;
      }
      case 'label': {
        const v = needValue();
        if (v !== undefined) vip.label = v.text;
        break;
      }
      case 'scope': {
        const v = needValue();
        if (v === undefined) break;
        if (/^\d{1,3}$/.test(v.text) && Number(v.text) <= 255) vip.scope = v.text;
        else set(vip, 'scope', parseChoice(cx, { ...entry, keyword: opt }, v, scopeNames));
        break;
      }
      case 'no_track':
        vip.noTrack = true;
        break;
      default:
        cx.diags.warn('HAD_CFG_UNKNOWN_KEYWORD', `virtual_ipaddress: unknown option '${opt.text}': ignored`, opt.where);
    }
  }
  return vip;
}

/** `NAME [weight N [reverse]]` per line. */
function readTrackList(cx: ParseContext, s: Statement, range: { min: number; max: number } = trackWeightRange): TrackRef[] {
  const out: TrackRef[] = [];
  for (const entry of listBlock(cx, s)) {
    noBlock(cx, entry);
    const ref: TrackRef = { name: entry.keyword.text, where: entry.where, reverse: false };
    const [kw, value, reverse, extra] = entry.args;
    if (kw !== undefined) {
      if (kw.text !== 'weight') {
        cx.diags.warn('HAD_CFG_UNKNOWN_KEYWORD', `${s.keyword.text}: unknown option '${kw.text}' (expected 'weight N [reverse]'): ignored`, kw.where);
      } else if (value === undefined) {
        cx.diags.error('HAD_CFG_MISSING_ARGUMENT', `${s.keyword.text}: 'weight' needs a value`, kw.where);
      } else {
        set(ref, 'weight', parseInteger(cx, { ...entry, keyword: { ...kw, text: `${s.keyword.text} weight` } }, value, range));
        ref.reverse = readReverse(cx, entry, reverse);
      }
    }
    if (extra !== undefined) cx.diags.warn('HAD_CFG_EXTRA_ARGUMENT', `${s.keyword.text}: '${extra.text}' ignored`, extra.where);
    out.push(ref);
  }
  return out;
}

function readReverse(cx: ParseContext, s: Statement, token: Token | undefined): boolean {
  if (token === undefined) return false;
  if (token.text === 'reverse') return true;
  cx.diags.warn('HAD_CFG_UNKNOWN_KEYWORD', `${s.keyword.text}: '${token.text}' ignored (only 'reverse' may follow a weight)`, token.where);
  return false;
}

function readUnicastPeer(cx: ParseContext, entry: Statement): UnicastPeer | undefined {
  noBlock(cx, entry);
  const ip = parseHostAddress(cx, { ...entry, keyword: { ...entry.keyword, text: 'unicast_peer' } }, entry.keyword);
  if (ip === undefined) return undefined;
  const peer: UnicastPeer = { ...ip, where: entry.where };
  for (let i = 0; i < entry.args.length; i += 2) {
    const opt = entry.args[i] as Token;
    const value = entry.args[i + 1];
    if ((opt.text !== 'min_ttl' && opt.text !== 'max_ttl') || value === undefined) {
      cx.diags.warn('HAD_CFG_UNKNOWN_KEYWORD', `unicast_peer: '${opt.text}' ignored (expected min_ttl N or max_ttl N)`, opt.where);
      continue;
    }
    const ttl = parseInteger(cx, { ...entry, keyword: opt }, value, { min: 0, max: 255 });
    if (opt.text === 'min_ttl') set(peer, 'minTtl', ttl);
    else set(peer, 'maxTtl', ttl);
  }
  return peer;
}
