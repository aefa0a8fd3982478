// The sync benchmark's two directors, each in its own process: one UDP socket on
// loopback, sync messages in the authenticated cluster envelope as the daemon sends
// them, and a ClusterSync over an engine. No heartbeats: only replication is measured.
import dgram from 'node:dgram';
import { RealClock } from '../src/common/clock';
import { silentLogger } from '../src/common/log';
import { systemRng } from '../src/common/rng';
import { ClusterSync, type SyncTransport } from '../src/director/cluster-sync';
import { decodeEnvelope, encodeEnvelope, protocolVersion } from '../src/heartbeat/envelope';
import { linkReceiveBufferBytes } from '../src/heartbeat/udp-links';
import { ipv4FromWord } from '../src/ipvs/address';
import { IpvsEngine } from '../src/ipvs/engine';
import { noSchedulerFlags } from '../src/ipvs/schedulers/scheduler';

export const benchKey = Buffer.from('sync-benchmark-key-0123456789abcdef');
export const vip = ipv4FromWord(0x0a090001);

export interface SyncSide {
  readonly engine: IpvsEngine;
  readonly sync: ClusterSync;
  close(): void;
}

/** A director named `self` on 127.0.0.1:`port`, copying `peer` at 127.0.0.1:`peerPort`. */
export async function syncSide(self: string, port: number, peer: string, peerPort: number): Promise<SyncSide> {
  const clock = new RealClock();
  const engine = new IpvsEngine({ clock, rng: systemRng, connEntriesMax: 4_000_000 });
  const svc = engine.addService({ kind: 'address', protocol: 'tcp', address: vip, port: 80 }, { scheduler: 'rr', flags: noSchedulerFlags, onePacket: false });
  for (let i = 1; i <= 4; i++) engine.addDestination(svc, ipv4FromWord(0x0a090100 + i), 8080, { forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 });
  const sync = new ClusterSync(engine, self, [peer], clock, silentLogger(), { copyEntriesMax: 4_000_000 });
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', () => resolve()));
  socket.setSendBufferSize(4 << 20);
  socket.setRecvBufferSize(linkReceiveBufferBytes);
  const bootEpoch = Date.now();
  let sequence = 0;
  const transport: SyncTransport = {
    sendSync: (body) => {
      const datagram = encodeEnvelope({ version: protocolVersion, clusterId: 'bench', sender: self, bootEpoch, sequence: ++sequence, sentWallUs: Date.now() * 1000, sync: body }, benchKey);
      socket.send(datagram, peerPort, '127.0.0.1');
    },
    syncReceiveBufferBytes: () => socket.getRecvBufferSize(),
  };
  socket.on('message', (msg) => {
    const envelope = decodeEnvelope(msg, benchKey);
    if (typeof envelope !== 'string' && envelope.sync !== undefined) sync.receive(envelope.sender, envelope.sync);
  });
  sync.start(transport);
  let closed = false;
  return {
    engine,
    sync,
    close: () => {
      if (closed) return;
      closed = true;
      sync.stop();
      socket.close();
    },
  };
}
