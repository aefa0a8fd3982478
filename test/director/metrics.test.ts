// The VRRP wire metrics, read from WireVrrp's statistics at scrape time.
import assert from 'node:assert/strict';
import { RealClock } from '../../src/common/clock';
import { SeededRng } from '../../src/common/rng';
import { directorMetrics } from '../../src/director/metrics';
import { IpvsEngine } from '../../src/ipvs/engine';
import { settledPair } from '../support/wire-segment';

describe('metrics of VRRP on the wire', () => {
  it("exports adverts, priority 0, drops by keepalived's reason, transitions and state per instance", async () => {
    const { a, b } = settledPair();
    a.wire.release();
    const registry = directorMetrics({
      engine: new IpvsEngine({ clock: new RealClock(), rng: new SeededRng(1) }),
      plane: () => ({ accepted: 0, noDestination: 0, upstreamRefused: 0, upstreamTimeout: 0, upstreamError: 0, udpDropped: 0 }),
      health: () => [],
      quorum: () => [],
      wire: () => ({ instances: a.wire.status(), sockets: [{ socket: 'eth0/IPv4/224.0.0.18', drops: { vrid_err: 4 } }] }),
    });
    const text = await registry.metrics();
    const sent = a.wire.status()[0]?.stats.advert_sent ?? 0;
    assert.ok(sent > 5);
    assert.match(text, new RegExp(`hadirector_vrrp_adverts_total\\{instance="VI_1",direction="sent"\\} ${sent}`));
    assert.match(text, /hadirector_vrrp_priority_zero_total\{instance="VI_1",direction="sent"\} 1/);
    assert.match(text, /hadirector_vrrp_transitions_total\{instance="VI_1",to="master"\} 1/);
    assert.match(text, /hadirector_vrrp_transitions_total\{instance="VI_1",to="released"\} 1/);
    assert.match(text, /hadirector_vrrp_state\{instance="VI_1",state="init"\} 1/);
    assert.match(text, /hadirector_vrrp_packets_dropped_total\{instance="",reason="vrid_err",socket="eth0\/IPv4\/224.0.0.18"\} 4/);
    assert.equal(b.wire.status()[0]?.state, 'backup');
  });
});
