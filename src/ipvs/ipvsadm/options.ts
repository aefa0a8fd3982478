// ipvsadm 1.31's vocabulary: its options (short and long, with or without a value), its
// commands, and which options each command requires, allows or refuses. The names are
// the ones its error messages use ("You need to supply the 'real-server' option for the
// 'add-server' command").

export const commandNames = [
  'add-service',
  'edit-service',
  'delete-service',
  'flush',
  'list',
  'add-server',
  'delete-server',
  'edit-server',
  'set',
  'start-daemon',
  'stop-daemon',
  'restore',
  'save',
  'zero',
] as const;
export type CommandName = (typeof commandNames)[number];

/** Option names in ipvsadm's order; the order decides which of two conflicts is named. */
export const optionNames = [
  'numeric',
  'connection',
  'service-address',
  'scheduler',
  'persistent',
  'netmask',
  'real-server',
  'forwarding-method',
  'weight',
  'u-threshold',
  'l-threshold',
  'mcast-interface',
  'timeout',
  'daemon',
  'stats',
  'rate',
  'thresholds',
  'persistent-conn',
  'nosort',
  'syncid',
  'exact',
  'ops',
  'pe',
  'sched-flags',
  'mcast-group',
  'mcast-port',
  'mcast-ttl',
  'sync-maxlen',
  'tun-info',
  'tun-type',
  'tun-port',
  'tun-nocsum',
  'tun-csum',
  'tun-remcsum',
] as const;
export type OptionName = (typeof optionNames)[number];

/** How a command treats each option: required, optional, or one of a mutually exclusive set. */
interface CommandRule {
  readonly required?: readonly OptionName[];
  readonly optional?: readonly OptionName[];
  readonly exclusive?: readonly OptionName[];
}

const serviceEditOptions: readonly OptionName[] = ['scheduler', 'persistent', 'netmask', 'ops', 'pe', 'sched-flags'];
const serverEditOptions: readonly OptionName[] = ['forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];

export const commandRules: Readonly<Record<CommandName, CommandRule>> = {
  'add-service': { required: ['service-address'], optional: serviceEditOptions },
  'edit-service': { required: ['service-address'], optional: serviceEditOptions },
  'delete-service': { required: ['service-address'] },
  flush: {},
  list: {
    exclusive: ['connection', 'service-address', 'timeout', 'daemon'],
    optional: ['numeric', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'tun-info'],
  },
  'add-server': { required: ['service-address', 'real-server'], optional: serverEditOptions },
  'delete-server': { required: ['service-address', 'real-server'] },
  'edit-server': { required: ['service-address', 'real-server'], optional: serverEditOptions },
  set: {},
  'start-daemon': { optional: ['mcast-interface', 'syncid', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen'] },
  'stop-daemon': { optional: ['syncid'] },
  restore: {},
  save: { optional: ['numeric'] },
  zero: { optional: ['service-address'] },
};

/** One accepted spelling of an option, as popt reads it. */
export interface OptionSpec {
  readonly long: string;
  readonly short?: string;
  readonly value: 'none' | 'required' | 'optional';
}

export const optionSpecs: readonly OptionSpec[] = [
  { long: 'add-service', short: 'A', value: 'none' },
  { long: 'edit-service', short: 'E', value: 'none' },
  { long: 'delete-service', short: 'D', value: 'none' },
  { long: 'clear', short: 'C', value: 'none' },
  { long: 'list', short: 'L', value: 'none' },
  { long: 'list', short: 'l', value: 'none' },
  { long: 'zero', short: 'Z', value: 'none' },
  { long: 'add-server', short: 'a', value: 'none' },
  { long: 'edit-server', short: 'e', value: 'none' },
  { long: 'delete-server', short: 'd', value: 'none' },
  { long: 'set', value: 'none' },
  { long: 'help', short: 'h', value: 'none' },
  { long: 'version', short: 'v', value: 'none' },
  { long: 'restore', short: 'R', value: 'none' },
  { long: 'save', short: 'S', value: 'none' },
  { long: 'start-daemon', value: 'required' },
  { long: 'stop-daemon', value: 'required' },
  { long: 'tcp-service', short: 't', value: 'required' },
  { long: 'udp-service', short: 'u', value: 'required' },
  { long: 'sctp-service', value: 'required' },
  { long: 'fwmark-service', short: 'f', value: 'required' },
  { long: 'scheduler', short: 's', value: 'required' },
  { long: 'persistent', short: 'p', value: 'optional' },
  { long: 'netmask', short: 'M', value: 'required' },
  { long: 'real-server', short: 'r', value: 'required' },
  { long: 'masquerading', short: 'm', value: 'none' },
  { long: 'ipip', short: 'i', value: 'none' },
  { long: 'gatewaying', short: 'g', value: 'none' },
  { long: 'weight', short: 'w', value: 'required' },
  { long: 'u-threshold', short: 'x', value: 'required' },
  { long: 'l-threshold', short: 'y', value: 'required' },
  { long: 'numeric', short: 'n', value: 'none' },
  { long: 'connection', short: 'c', value: 'none' },
  { long: 'mcast-interface', value: 'required' },
  { long: 'syncid', value: 'required' },
  { long: 'timeout', value: 'none' },
  { long: 'daemon', value: 'none' },
  { long: 'stats', value: 'none' },
  { long: 'rate', value: 'none' },
  { long: 'thresholds', value: 'none' },
  { long: 'persistent-conn', value: 'none' },
  { long: 'nosort', value: 'none' },
  { long: 'sort', value: 'none' },
  { long: 'exact', short: 'X', value: 'none' },
  { long: 'ipv6', short: '6', value: 'none' },
  { long: 'ops', short: 'o', value: 'none' },
  { long: 'pe', value: 'required' },
  { long: 'sched-flags', short: 'b', value: 'required' },
  { long: 'mcast-group', value: 'required' },
  { long: 'mcast-port', value: 'required' },
  { long: 'mcast-ttl', value: 'required' },
  { long: 'sync-maxlen', value: 'required' },
  { long: 'tun-info', value: 'none' },
  { long: 'tun-type', value: 'required' },
  { long: 'tun-port', value: 'required' },
  { long: 'tun-nocsum', value: 'none' },
  { long: 'tun-csum', value: 'none' },
  { long: 'tun-remcsum', value: 'none' },
];

/** The long option that starts each command (the first option must be one). */
export const commandOptions: Readonly<Record<string, CommandName | 'help' | 'version'>> = {
  'add-service': 'add-service',
  'edit-service': 'edit-service',
  'delete-service': 'delete-service',
  clear: 'flush',
  list: 'list',
  zero: 'zero',
  'add-server': 'add-server',
  'edit-server': 'edit-server',
  'delete-server': 'delete-server',
  set: 'set',
  restore: 'restore',
  save: 'save',
  'start-daemon': 'start-daemon',
  'stop-daemon': 'stop-daemon',
  help: 'help',
  version: 'version',
};

export const schedulerList = 'rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh';
export const maxTimeoutS = 86400 * 31;
/** libipvs's IPVS_SVC_PERSISTENT_TIMEOUT: what `-p` alone gives (ipvsadm(8) says 300; the code, 360). */
export const persistentTimeoutDefaultS = 360;
export const ipvsadmVersionLine = 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)';
