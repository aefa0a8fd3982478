// A hostile VRRP sender for the namespace tests, run inside a namespace of the test's
// own (`ip netns exec NS node vrrp-flood.js IFACE TARGETS_JSON`). It reads one order per
// line on stdin, `{"kind": INDEX, "count": N, "seed": S, "me": ADDRESS}`, sends N packets
// of that kind of test/support/hostile-vrrp.ts out of IFACE on a raw socket, and answers
// `{"sent": N, "failed": F, "error": "..."}` on stdout, so that the test paces the flood
// by what the receivers have counted.
import readline from 'node:readline';
import { SeededRng } from '../../src/common/rng';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import { openRawIpv4Sender } from '../../src/vrrp/wire/raw-socket';
import { hostileKinds, type Targets } from './hostile-vrrp';

interface Order {
  readonly kind: number;
  readonly count: number;
  readonly seed: number;
  readonly me: string;
}

const address = (text: string): IpAddr => {
  const parsed = parseIpAddr(text);
  if (parsed === undefined) throw new Error(`not an address: ${text}`);
  return parsed;
};

function main(): void {
  const [iface, targetsJson] = process.argv.slice(2);
  if (iface === undefined || targetsJson === undefined) throw new Error('usage: vrrp-flood IFACE TARGETS_JSON');
  const t = JSON.parse(targetsJson) as Record<'stranger' | 'group' | 'vip', string> & { vrid: number };
  const base: Omit<Targets, 'me'> = { stranger: address(t.stranger), group: address(t.group), vip: address(t.vip), vrid: t.vrid };
  const sender = openRawIpv4Sender(iface);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const order = JSON.parse(line) as Order;
    const kind = hostileKinds({ ...base, me: address(order.me) })[order.kind];
    if (kind === undefined) throw new Error(`no kind ${order.kind}`);
    const rng = new SeededRng(order.seed);
    let failed = 0;
    let error = '';
    for (let i = 0; i < order.count; i++) {
      const packet = kind.make(rng);
      const dst = packet.length >= 20 ? address([16, 17, 18, 19].map((o) => packet[o]).join('.')) : base.group;
      const e = sender.send(packet, dst);
      if (e !== undefined) {
        failed++;
        error = e;
      }
    }
    process.stdout.write(`${JSON.stringify({ sent: order.count - failed, failed, error })}\n`);
  });
  lines.on('close', () => sender.close());
}

main();
