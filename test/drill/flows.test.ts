// The drill's UDP flows against a UDP server on loopback: each flow a socket of its own
// source address and port, each datagram answered with the server's name (a sample that
// names it) or given up after the timeout (a failed one), nothing left pending at stop.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { flowAnswer, flowSources, UdpFlows } from '../../src/drill/flows';
import { waitFor } from '../support/director-process';

describe('drill UDP flows', function () {
  this.timeout(10_000);

  it('each flow from its own address and port; answers name the server; a silent server gives failed samples', async () => {
    const server = dgram.createSocket('udp4');
    let answering = true;
    const seen = new Set<string>();
    server.on('message', (msg, from) => {
      seen.add(`${from.address}:${from.port}`);
      if (answering) server.send(flowAnswer('rs1', msg.toString()), from.port, from.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const t0 = Date.now();
    const flows = new UdpFlows('127.0.0.1', server.address().port, flowSources(3), { nowMs: () => Date.now() - t0, t0Wall: t0 }, 20);
    try {
      flows.start();
      await waitFor('answers on every flow', () => (new Set(flows.samples.filter((s) => s.ok).map((s) => s.client)).size === 3 ? true : undefined), 5000, 20);
      answering = false;
      const okBefore = flows.samples.filter((s) => s.ok).length;
      await waitFor('a datagram given up', () => (flows.samples.some((s) => !s.ok) ? true : undefined), 5000, 20);
      await flows.stop();
      assert.deepEqual([...new Set(flows.samples.map((s) => s.client.split(':')[0]))].sort(), ['127.0.3.1', '127.0.3.2', '127.0.3.3']);
      assert.equal(seen.size, 3, 'three flows, each one source address and port');
      assert.ok(flows.samples.filter((s) => s.ok).every((s) => s.server === 'rs1' && (s.latencyMs ?? -1) >= 0));
      assert.ok(flows.samples.filter((s) => s.ok).length >= okBefore);
      assert.ok(flows.samples.filter((s) => !s.ok).every((s) => s.error === 'no answer'));
      assert.ok(flows.samples.every((s, i) => i === 0 || (flows.samples[i - 1]?.tMs ?? 0) <= s.tMs), 'in the order sent');
    } finally {
      server.close();
    }
  });
});
