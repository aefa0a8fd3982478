// An SNTP client (RFC 4330): one request to an NTP server, and this host's clock offset
// from its answer. The daemon only measures: it never sets the clock. An answer is
// checked before it is believed: length, mode, a non-zero stratum (zero is a
// kiss-o'-death), our own transmit time echoed as its originate time, and a transmit
// time that is not zero.
import dgram from 'node:dgram';
import net from 'node:net';

export const ntpPacketBytes = 48;
/** Seconds from 1900 (NTP's era 0) to 1970 (the Unix epoch). */
const ntpEpochOffsetS = 2_208_988_800;

export interface SntpResult {
  readonly server: string;
  /** How far the server's clock is ahead of ours, in ms. */
  readonly offsetMs: number;
  readonly delayMs: number;
  readonly stratum: number;
}

export type SntpFailure = { readonly server: string; readonly error: string };

function writeTimestamp(buf: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + ntpEpochOffsetS;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 2 ** 32);
  buf.writeUInt32BE(seconds >>> 0, offset);
  buf.writeUInt32BE(fraction >>> 0, offset + 4);
}

function readTimestampMs(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset);
  const fraction = buf.readUInt32BE(offset + 4);
  return (seconds - ntpEpochOffsetS) * 1000 + (fraction / 2 ** 32) * 1000;
}

/** The checks of RFC 4330 section 5, and the offset; or why the answer is not believed. */
export function parseSntpAnswer(answer: Buffer, sentMs: number, sentBytes: Buffer, receivedMs: number): Omit<SntpResult, 'server'> | string {
  if (answer.length < ntpPacketBytes) return `answer of ${answer.length} bytes, ${ntpPacketBytes} expected`;
  const mode = (answer[0] as number) & 0x07;
  if (mode !== 4 && mode !== 5) return `answer in mode ${mode}, not a server's`;
  const stratum = answer[1] as number;
  if (stratum === 0) return `kiss-o'-death: ${answer.subarray(12, 16).toString('latin1')}`;
  if (!answer.subarray(24, 32).equals(sentBytes.subarray(40, 48))) return 'the answer does not echo our request (originate time mismatch)';
  const t2 = readTimestampMs(answer, 32);
  const t3 = readTimestampMs(answer, 40);
  if (answer.readUInt32BE(40) === 0) return 'the server sent no transmit time';
  return { offsetMs: (t2 - sentMs + (t3 - receivedMs)) / 2, delayMs: receivedMs - sentMs - (t3 - t2), stratum };
}

/** Asks one server once; `wallMs` reads this host's clock (injected for tests). */
export function querySntp(host: string, port: number, timeoutMs: number, wallMs: () => number = Date.now): Promise<SntpResult | SntpFailure> {
  const server = `${host}:${port}`;
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const request = Buffer.alloc(ntpPacketBytes);
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    let sentMs = 0;
    let settled = false;
    const done = (r: SntpResult | SntpFailure): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(() => done({ server, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on('error', (err) => done({ server, error: err.message }));
    socket.on('message', (msg, from) => {
      const receivedMs = wallMs();
      if (from.port !== port) return;
      const parsed = parseSntpAnswer(msg, sentMs, request, receivedMs);
      done(typeof parsed === 'string' ? { server, error: parsed } : { server, ...parsed });
    });
    sentMs = wallMs();
    writeTimestamp(request, 40, sentMs);
    socket.send(request, port, host, (err) => {
      if (err !== null && err !== undefined) done({ server, error: err.message });
    });
  });
}
