// The keyword-table engine. Each block of the grammar is a table from keyword to handler
// (keepalived's install_keyword tables, as data); applyBlock walks a block's statements
// and reports what no table knows. Handlers read values with ./values and fill a typed
// target; they never throw for bad input.
import type { ConfigFs } from './config-fs';
import type { Diagnostics } from './diagnostics';
import type { Statement } from './tree';

export interface ParseContext {
  readonly diags: Diagnostics;
  /** The node this configuration is read for. */
  readonly node: string;
  readonly fs: ConfigFs;
  /** Directory of the main file: relative paths in values resolve against it. */
  readonly baseDir: string;
  /**
   * Inside hadirector's own `cluster` block: a bad number is an error there. In
   * keepalived's blocks it is a warning and the default stays, as keepalived has it.
   */
  readonly ownBlock?: boolean;
}

export type Handler<T> = (s: Statement, target: T, cx: ParseContext) => void;

export interface BlockSpec<T> {
  /** How messages name the block: `vrrp_instance`, `real_server`. */
  readonly name: string;
  readonly keywords: Readonly<Record<string, Handler<T>>>;
  /** Tried for a keyword the table lacks, before it is reported; true when it took it. */
  readonly fallback?: (s: Statement, target: T, cx: ParseContext) => boolean;
}

/** Blocks that only make sense at the top level: meeting one nested means a `}` is missing. */
export const topLevelBlocks = new Set([
  'global_defs',
  'vrrp_script',
  'vrrp_track_file',
  'vrrp_track_process',
  'vrrp_instance',
  'vrrp_sync_group',
  'virtual_server',
  'virtual_server_group',
  'cluster',
]);

/**
 * keepalived keywords outside hadirector's scope: accepted with a warning, as keepalived
 * itself warns on what it does not know, so that an existing file still loads.
 */
export const unsupportedKeywords = new Set([
  // top level
  'net_namespace', 'net_namespace_ipvs', 'namespace_with_ipsets', 'instance', 'linkbeat_interfaces',
  'static_ipaddress', 'static_routes', 'static_rules', 'track_bfd', 'bfd_instance', 'garp_group', 'SSL',
  // vrrp_instance
  'native_ipv6', 'dont_track_primary', 'accept', 'no_accept',
  'virtual_routes', 'virtual_rules', 'track_bfd', 'mcast_src_ip', 'unicast_ttl',
  'unicast_fault_no_peer', 'check_unicast_src', 'down_timer_adverts', 'notify_deleted',
  'notify_master_rx_lower_pri', 'strict_mode', 'skip_check_adv_addr', 'debug', 'kernel_rx_buf_size',
  'higher_prio_send_advert', 'garp_lower_prio_delay', 'garp_lower_prio_repeat', 'lower_prio_no_advert',
  'vrrp_garp_extra_if', 'auth_hmac', 'interface_up_down_delays', 'use_pmtu', 'use_ipvlan', 'use_vmac_addr',
  // global_defs
  'enable_traps', 'enable_snmp_vrrp', 'enable_snmp_checker', 'enable_snmp_rfc', 'enable_dbus',
  'vrrp_iptables', 'vrrp_ipsets', 'vrrp_skip_check_adv_addr', 'vrrp_check_unicast_src',
  'vrrp_priority', 'checker_priority', 'bfd_priority', 'vrrp_no_swap', 'checker_no_swap',
  'vrrp_rt_priority', 'checker_rt_priority', 'max_auto_priority', 'min_auto_priority_delay',
  'dynamic_interfaces', 'process_names', 'vrrp_process_name', 'checker_process_name',
  'reload_check_config', 'config_save_dir', 'include_check', 'smtp_alert_vrrp', 'smtp_alert_checker',
  'no_email_faults', 'vrrp_netlink_cmd_rcv_bufs', 'lvs_netlink_cmd_rcv_bufs', 'vrrp_min_garp',
  'vrrp_garp_lower_prio_delay', 'vrrp_garp_lower_prio_repeat', 'vrrp_garp_extra_if',
  // virtual_server / real_server / checkers
  'persistence_engine', 'sorry_server_lvs_method',
  'UDP_CHECK', 'PING_CHECK', 'BFD_CHECK', 'FILE_CHECK', 'ip_family', 'smtp_alert_vs', 'retry_on_error',
  'regex', 'regex_no_match', 'regex_options', 'regex_stack', 'regex_min_offset', 'regex_max_offset',
  'enable_sni', 'tls_compliant', 'protocol_version', 'log_all_failures',
]);

export function applyBlock<T>(spec: BlockSpec<T>, statements: readonly Statement[], target: T, cx: ParseContext): void {
  for (const s of statements) {
    const keyword = s.keyword.text;
    const handler = Object.prototype.hasOwnProperty.call(spec.keywords, keyword) ? spec.keywords[keyword] : undefined;
    if (handler !== undefined) handler(s, target, cx);
    else if (spec.fallback?.(s, target, cx) === true) continue;
    else reportUnknown(spec, s, cx);
  }
}

function reportUnknown<T>(spec: BlockSpec<T>, s: Statement, cx: ParseContext): void {
  const blockName = spec.name;
  const keyword = s.keyword.text;
  const guess = closestKeyword(keyword, Object.keys(spec.keywords));
  const hint = guess === undefined ? '' : ` (did you mean '${guess}'?)`;
  const inBlock = blockName === 'top level' ? 'at the top level' : `in ${blockName}`;
  if (blockName !== 'top level' && topLevelBlocks.has(keyword)) {
    cx.diags.error(
      'HAD_CFG_UNKNOWN_BLOCK',
      `'${keyword}' is a top-level block but stands inside '${blockName}': is a '}' missing above it?`,
      s.where,
    );
  } else if (unsupportedKeywords.has(keyword)) {
    cx.diags.warn('HAD_CFG_UNSUPPORTED', `'${keyword}' (a keepalived keyword) is not supported by hadirector: ignored`, s.where);
  } else if (s.block !== undefined) {
    // keepalived warns and skips it; the name says which settings are lost.
    cx.diags.warn('HAD_CFG_UNKNOWN_BLOCK', `unknown block '${keyword}' ${inBlock}${hint}: it and its contents are ignored`, s.where);
  } else {
    cx.diags.warn('HAD_CFG_UNKNOWN_KEYWORD', `unknown keyword '${keyword}' ${inBlock}${hint}: ignored`, s.where);
  }
}

/** The known keyword nearest to a misspelt one, if it is close enough to be a typo. */
export function closestKeyword(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 4)) + 1;
  for (const candidate of known) {
    const d = editDistance(word, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `limit`) once it must reach it. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length] as number, limit);
}
