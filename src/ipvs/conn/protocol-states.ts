// IPVS connection states and their timeouts (ip_vs_proto_tcp.c, ip_vs_proto_udp.c).
// TCP moves through the kernel's state table by direction and by the first of RST, SYN,
// FIN, ACK set on the packet; each state has its own timeout, of which `ipvsadm --set`
// changes ESTABLISHED (tcp), FIN_WAIT (tcpfin) and UDP's single state (udp).

export const tcpStates = ['NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK'] as const;
export type TcpState = (typeof tcpStates)[number];
/** UDP has one state, which ipvsadm prints as "UDP". */
export type ConnState = TcpState | 'UDP';
export const connStates: readonly ConnState[] = [...tcpStates, 'UDP'];

/**
 * input: client to director; output: a reply through the director (NAT only);
 * input-only: client to director on a connection whose replies bypass us (DR, TUN).
 */
export type Direction = 'input' | 'output' | 'input-only';

export interface TcpFlags {
  readonly syn?: boolean;
  readonly fin?: boolean;
  readonly ack?: boolean;
  readonly rst?: boolean;
}

export const tcpTimeoutsDefaultMs: Readonly<Record<TcpState, number>> = {
  NONE: 2000,
  ESTABLISHED: 15 * 60_000,
  SYN_SENT: 2 * 60_000,
  SYN_RECV: 60_000,
  FIN_WAIT: 2 * 60_000,
  TIME_WAIT: 2 * 60_000,
  CLOSE: 10_000,
  CLOSE_WAIT: 60_000,
  LAST_ACK: 30_000,
  LISTEN: 2 * 60_000,
  SYNACK: 120_000,
};
export const udpTimeoutDefaultMs = 5 * 60_000;
/** A new entry lives this long until its first state transition. */
export const newConnectionTimeoutMs = 3000;

// Rows: syn, fin, ack, rst; columns in tcpStates order. From the kernel's tcp_states[] (the
// secure_tcp table, tcp_states_dos, is not modelled).
type Row = readonly TcpState[];
const ES = 'ESTABLISHED', SS = 'SYN_SENT', SR = 'SYN_RECV', FW = 'FIN_WAIT', TW = 'TIME_WAIT';
const CL = 'CLOSE', CW = 'CLOSE_WAIT', LA = 'LAST_ACK', LI = 'LISTEN';
const table: Readonly<Record<Direction, readonly [Row, Row, Row, Row]>> = {
  input: [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
    [CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
  ],
  output: [
    [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  ],
  'input-only': [
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ],
};

/** The next TCP state; a packet with none of the four flags closes the entry, as in the kernel. */
export function nextTcpState(state: TcpState, direction: Direction, flags: TcpFlags): TcpState {
  const row = flags.rst === true ? 3 : flags.syn === true ? 0 : flags.fin === true ? 1 : flags.ack === true ? 2 : -1;
  if (row === -1) return 'CLOSE';
  return (table[direction][row] as Row)[tcpStates.indexOf(state)] as TcpState;
}

/** The timeouts `ipvsadm --set` and `-L --timeout` speak of, in seconds. */
export interface ProtocolTimeouts {
  readonly tcpMs: Readonly<Record<TcpState, number>>;
  readonly udpMs: number;
}

export const defaultTimeouts: ProtocolTimeouts = { tcpMs: tcpTimeoutsDefaultMs, udpMs: udpTimeoutDefaultMs };

/** `--set tcp tcpfin udp`: a zero leaves that timeout as it is. */
export function setTimeouts(current: ProtocolTimeouts, tcpS: number, tcpfinS: number, udpS: number): ProtocolTimeouts {
  return {
    tcpMs: {
      ...current.tcpMs,
      ...(tcpS > 0 ? { ESTABLISHED: tcpS * 1000 } : {}),
      ...(tcpfinS > 0 ? { FIN_WAIT: tcpfinS * 1000 } : {}),
    },
    udpMs: udpS > 0 ? udpS * 1000 : current.udpMs,
  };
}
