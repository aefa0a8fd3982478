// The linux VIP driver without root: the command lines it builds from keepalived's
// virtual_ipaddress options, when its gratuitous ARPs go out, and how it takes what
// iproute2 answers.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/common/clock';
import { garpArgs, ipAddrArgs, unsolicitedNaArgs, vipDevice } from '../../src/vip/commands';
import { GarpSchedule } from '../../src/vip/garp-schedule';
import { LinuxAddressDriver, type CommandResult } from '../../src/vip/linux-driver';
import type { VirtualAddress } from '../../src/vrrp/config';

const where = { file: 'test.conf', line: 1, col: 1 };
const v4 = (extra: Partial<VirtualAddress> = {}): VirtualAddress => ({ address: '192.168.200.16', family: 4, prefix: 24, where, ...extra });
const garp = { masterDelayMs: 5000, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 };

describe('VIP command lines', () => {
  it('carry every virtual_ipaddress option, in iproute2 order', () => {
    const vip = v4({ brd: '192.168.200.255', dev: 'eth1', scope: 'global', label: 'eth1:vip' });
    assert.deepEqual(ipAddrArgs('add', vip, vipDevice(vip, 'eth0')), ['addr', 'add', '192.168.200.16/24', 'brd', '192.168.200.255', 'dev', 'eth1', 'scope', 'global', 'label', 'eth1:vip']);
    assert.deepEqual(ipAddrArgs('del', vip, 'eth1'), ['addr', 'del', '192.168.200.16/24', 'brd', '192.168.200.255', 'dev', 'eth1', 'scope', 'global', 'label', 'eth1:vip']);
  });

  it('put a VIP on its dev, else the instance interface, else lo', () => {
    assert.equal(vipDevice(v4({ dev: 'eth1' }), 'eth0'), 'eth1');
    assert.equal(vipDevice(v4(), 'eth0'), 'eth0');
    assert.equal(vipDevice(v4(), undefined), 'lo');
  });

  it('add an IPv6 VIP without duplicate address detection, and without IPv4-only options', () => {
    const vip: VirtualAddress = { address: '2001:db8::16', family: 6, prefix: 64, where, label: 'x', brd: '1.2.3.4' };
    assert.deepEqual(ipAddrArgs('add', vip, 'eth0'), ['-6', 'addr', 'add', '2001:db8::16/64', 'dev', 'eth0', 'nodad']);
    assert.deepEqual(ipAddrArgs('del', vip, 'eth0'), ['-6', 'addr', 'del', '2001:db8::16/64', 'dev', 'eth0']);
  });

  it('send gratuitous ARP as unsolicited requests from the VIP, for the VIP', () => {
    assert.deepEqual(garpArgs(v4(), 'eth0', 5), ['-U', '-q', '-c', '5', '-I', 'eth0', '-s', '192.168.200.16', '192.168.200.16']);
  });

  it('advertise an IPv6 VIP as an unsolicited neighbour advert for it', () => {
    const vip: VirtualAddress = { address: '2001:db8::16', family: 6, prefix: 64, where };
    assert.deepEqual(unsolicitedNaArgs(vip, 'eth0'), ['send', '-t', 'na', '-U', '-i', 'eth0', '-T', '2001:db8::16']);
  });
});

describe('gratuitous ARP schedule', () => {
  it('sends a burst at once, a second after garp_master_delay, then one per refresh', () => {
    const clock = new VirtualClock();
    const bursts: string[] = [];
    const schedule = new GarpSchedule(clock, { masterDelayMs: 5000, masterRepeat: 3, masterRefreshMs: 60_000, masterRefreshRepeat: 2 }, (n) => bursts.push(`${clock.nowMs()}:${n}`));
    schedule.start();
    clock.advance(130_000);
    assert.deepEqual(bursts, ['0:3', '5000:3', '65000:2', '125000:2']);
    schedule.stop();
    clock.advance(600_000);
    assert.equal(bursts.length, 4, 'nothing after stop');
  });

  it('sends one burst with no delay and no refresh, and starts over on a new start', () => {
    const clock = new VirtualClock();
    const bursts: number[] = [];
    const schedule = new GarpSchedule(clock, { masterDelayMs: 0, masterRepeat: 5, masterRefreshMs: 0, masterRefreshRepeat: 1 }, (n) => bursts.push(n));
    schedule.start();
    clock.advance(60_000);
    schedule.start();
    assert.deepEqual(bursts, [5, 5]);
    assert.equal(clock.pendingTimers(), 0);
  });
});

describe('linux VIP driver', () => {
  function driver(answer: (program: string, args: readonly string[]) => CommandResult) {
    const clock = new VirtualClock();
    const ran: string[] = [];
    const warnings: string[] = [];
    const d = new LinuxAddressDriver(
      clock,
      {
        run: (program, args) => {
          ran.push(`${program} ${args.join(' ')}`);
          return Promise.resolve(answer(program, args));
        },
      },
      (m) => warnings.push(m),
    );
    return { clock, ran, warnings, d };
  }
  const set = { instance: 'VI_1', addresses: [v4(), { ...v4(), address: '2001:db8::16', family: 6 as const, prefix: 128 }], interface: 'eth0', garp };

  it('adds every address, announces IPv4 by gratuitous ARP and IPv6 by unsolicited neighbour adverts, and removes them all', async () => {
    const { clock, ran, d } = driver(() => ({ code: 0, stderr: '' }));
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await d.add(set), []);
    d.announce(set);
    await settle();
    clock.advance(5000);
    await settle();
    assert.deepEqual(await d.remove(set), []);
    clock.advance(60_000);
    assert.deepEqual(ran, [
      'ip addr add 192.168.200.16/24 dev eth0',
      'ip -6 addr add 2001:db8::16/128 dev eth0 nodad',
      'arping -U -q -c 5 -I eth0 -s 192.168.200.16 192.168.200.16',
      ...Array<string>(5).fill('ndptool send -t na -U -i eth0 -T 2001:db8::16'),
      'arping -U -q -c 5 -I eth0 -s 192.168.200.16 192.168.200.16',
      ...Array<string>(5).fill('ndptool send -t na -U -i eth0 -T 2001:db8::16'),
      'ip addr del 192.168.200.16/24 dev eth0',
      'ip -6 addr del 2001:db8::16/128 dev eth0',
    ]);
  });

  it('takes an address already there, or already gone, as done; reports any other refusal', async () => {
    const exists = driver(() => ({ code: 2, stderr: 'RTNETLINK answers: File exists\n' }));
    assert.deepEqual(await exists.d.add(set), []);
    const gone = driver(() => ({ code: 2, stderr: 'RTNETLINK answers: Cannot assign requested address\n' }));
    assert.deepEqual(await gone.d.remove(set), []);
    const noDevice = driver(() => ({ code: 1, stderr: 'Cannot find device "eth0"\n' }));
    assert.deepEqual(await noDevice.d.add({ ...set, addresses: [v4()] }), ['VI_1: ip addr add 192.168.200.16/24 dev eth0: Cannot find device "eth0"']);
  });

  it('warns when arping fails, and goes on', async () => {
    const { warnings, d } = driver((program) => (program === 'arping' ? { code: 2, stderr: 'arping: interface "eth0" is down\n' } : { code: 0, stderr: '' }));
    d.announce(set);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings, ['VI_1: arping -U -q -c 5 -I eth0 -s 192.168.200.16 192.168.200.16: arping: interface "eth0" is down']);
  });

  it('stops the announcements still running when it lets the addresses go, without a warning', async () => {
    const clock = new VirtualClock();
    const warnings: string[] = [];
    const running: string[] = [];
    const d = new LinuxAddressDriver(
      clock,
      {
        run: (program, _args, _timeoutMs, signal) =>
          new Promise((resolve) => {
            if (program === 'ip') return resolve({ code: 0, stderr: '' });
            // A burst that lasts until it is killed.
            running.push(program);
            signal?.addEventListener('abort', () => {
              running.splice(running.indexOf(program), 1);
              resolve({ code: -1, stderr: 'killed' });
            });
          }),
      },
      (m) => warnings.push(m),
    );
    d.announce(set);
    assert.deepEqual(running.sort(), ['arping', 'ndptool']);
    await d.remove(set);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(running, []);
    assert.deepEqual(warnings, []);
    clock.advance(60_000);
    assert.deepEqual(running, [], 'no second burst after the release');
  });
});
