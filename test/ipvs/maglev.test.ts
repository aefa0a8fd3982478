import assert from 'node:assert/strict';
import { maglevHash, MaglevScheduler, maglevTableSize } from '../../src/ipvs/schedulers/maglev';
import { hsiphash32 } from '../../src/ipvs/schedulers/siphash';
import { dest, ip, packet, serviceWith, settings } from './service-fixture';

const servers = ['192.168.10.1', '192.168.10.2', '192.168.10.3', '192.168.10.4'];

function table(svc: ReturnType<typeof serviceWith>): string[] {
  const mh = svc.scheduler as MaglevScheduler;
  return Array.from({ length: maglevTableSize }, (_, i) => mh.slot(i)?.address.text ?? '-');
}

function share(slots: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of slots) out[s] = (out[s] ?? 0) + 1;
  return out;
}

describe('mh (Maglev) scheduler', () => {
  it("computes the kernel's hsiphash: its self-test vector for 00 01 02 03", () => {
    assert.equal(hsiphash32(0x03020100, 0x0706050403020100n, 0x0f0e0d0c0b0a0908n), 0x88d38328);
  });

  it('hashes offset + port + address with the fixed keys', () => {
    assert.equal(maglevHash(ip('10.0.0.1'), 0, { k0: 2654435761n, k1: 2654435761n }, 0), hsiphash32(0x0a000001, 2654435761n, 2654435761n));
    assert.equal(maglevHash(ip('10.0.0.1'), 80, { k0: 1n, k1: 2n }, 3), hsiphash32(0x0a000001 + 83, 1n, 2n));
  });

  it('fills all 4093 slots, in proportion to weight', () => {
    const even = share(table(serviceWith('mh', servers)));
    for (const s of servers) assert.ok(Math.abs((even[s] ?? 0) - maglevTableSize / 4) <= 2, JSON.stringify(even));
    const weighted = share(table(serviceWith('mh', [{ addr: servers[0] as string, weight: 3 }, { addr: servers[1] as string, weight: 1 }])));
    assert.ok(Math.abs((weighted[servers[0] as string] ?? 0) - 0.75 * maglevTableSize) <= 3, JSON.stringify(weighted));
  });

  it('keeps a client kept, and quiescing a server reshuffles nobody else', () => {
    const svc = serviceWith('mh', servers);
    const clients = Array.from({ length: 300 }, (_, i) => packet(`10.9.${i >> 8}.${i & 255}`));
    const before = clients.map((p) => svc.schedule(p)?.address.text);
    const slots = table(svc);
    svc.editDestination(dest(svc, servers[2] as string), settings({ weight: 0 }));
    assert.deepEqual(table(svc), slots, 'the last non-zero weight still builds the table');
    const after = clients.map((p) => svc.schedule(p)?.address.text);
    assert.ok(before.includes(servers[2]), 'some clients were on the quiesced server');
    before.forEach((was, i) => assert.equal(after[i], was === servers[2] ? undefined : was, `client ${i}`));
  });

  it('removing one of four servers moves about a quarter of the slots, not the rest', () => {
    const svc = serviceWith('mh', servers);
    const before = table(svc);
    svc.removeDestination(dest(svc, servers[3] as string));
    const after = table(svc);
    const changed = before.filter((owner, i) => owner !== servers[3] && after[i] !== owner).length;
    assert.ok(changed < maglevTableSize * 0.05, `${changed} slots of surviving servers changed`);
  });

  it('mh-fallback finds another server for a client whose server is quiescent', () => {
    const plain = serviceWith('mh', servers);
    const fallback = serviceWith('mh', servers, { flags: { flag1: true } });
    const client = Array.from({ length: 100 }, (_, i) => packet(`10.8.0.${i}`)).find((p) => plain.schedule(p)?.address.text === servers[0]);
    assert.ok(client !== undefined);
    for (const svc of [plain, fallback]) svc.editDestination(dest(svc, servers[0] as string), settings({ weight: 0 }));
    assert.equal(plain.schedule(client), null);
    assert.notEqual(fallback.schedule(client)?.address.text ?? servers[0], servers[0]);
  });
});
