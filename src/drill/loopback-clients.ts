// The drill's clients on this host: HTTP through the TCP VIP, sessions from source
// addresses of their own, UDP flows through the UDP VIP. Sessions and flows need
// sources on the VIP's network, which only loopback gives for free (every 127/8 address
// is this host's): elsewhere they are not run.
import type { DrillTime, DrillTraffic, Endpoint, SessionTraffic } from './cluster';
import { flowSources, UdpFlows } from './flows';
import { PersistentClients, sessionSources } from './sessions';
import { HttpTraffic } from './traffic';

const persistentClients = 8;
const longLivedClients = 4;
const udpFlows = 4;

const onLoopback = (at: Endpoint): boolean => at.host.startsWith('127.');

export class LoopbackClients {
  constructor(
    private readonly vip: Endpoint,
    private readonly udpVip: Endpoint | undefined,
  ) {}

  traffic(time: DrillTime, everyMs: number): DrillTraffic {
    return new HttpTraffic(this.vip.host, this.vip.port, time.nowMs, everyMs);
  }

  sessions(time: DrillTime, everyMs: number, longLived: boolean): SessionTraffic | undefined {
    if (!onLoopback(this.vip)) return undefined;
    return new PersistentClients(this.vip.host, this.vip.port, sessionSources(longLived ? longLivedClients : persistentClients, longLived), time, everyMs, longLived);
  }

  flows(time: DrillTime, everyMs: number): SessionTraffic | undefined {
    if (this.udpVip === undefined || !onLoopback(this.udpVip)) return undefined;
    return new UdpFlows(this.udpVip.host, this.udpVip.port, flowSources(udpFlows), time, everyMs);
  }
}
