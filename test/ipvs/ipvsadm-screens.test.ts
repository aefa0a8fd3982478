// ipvsadm's screens other than the seed walk-through's (docs/ipvs-sim.md runs those),
// written out from ipvsadm 1.31's printf formats. Trailing blanks are part of them.
import assert from 'node:assert/strict';
import { parseIpAddr, type IpAddr } from '../../src/ipvs/address';
import { largeNumber } from '../../src/ipvs/ipvsadm/format';
import { IpvsadmSession } from './ipvsadm-session';

const header = 'IP Virtual Server version 1.2.1 (size=4096)\n';
const plainTitle = 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';

describe('ipvsadm screens', () => {
  it('lists sorted by protocol, address and port; --nosort keeps the newest first', () => {
    const s = new IpvsadmSession();
    s.setup('-A -t 10.0.0.9:80 -s wlc', '-A -u 10.0.0.1:53 -s rr', '-A -t 10.0.0.1:443 -s lc', '-a -t 10.0.0.1:443 -r 10.0.1.3 -g -w 0', '-a -t 10.0.0.1:443 -r 10.0.1.20 -g');
    assert.equal(
      s.out('-L -n'),
      header +
        plainTitle +
        'TCP  10.0.0.1:443 lc\n' +
        '  -> 10.0.1.3:443                 Route   0      0          0         \n' +
        '  -> 10.0.1.20:443                Route   1      0          0         \n' +
        'TCP  10.0.0.9:80 wlc\n' +
        'UDP  10.0.0.1:53 rr\n',
    );
    assert.equal(
      s.out('-L -n --nosort'),
      header +
        plainTitle +
        'TCP  10.0.0.1:443 lc\n' +
        '  -> 10.0.1.20:443                Route   1      0          0         \n' +
        '  -> 10.0.1.3:443                 Route   0      0          0         \n' +
        'UDP  10.0.0.1:53 rr\n' +
        'TCP  10.0.0.9:80 wlc\n',
    );
    // Without -n, ports take their service names; addresses stay numbers.
    assert.match(s.out('-L'), /^TCP {2}10\.0\.0\.1:https lc\n {2}-> 10\.0\.1\.3:https {15}Route/m);
  });

  it('shows persistence, its mask, scheduler flags and one-packet scheduling', () => {
    const s = new IpvsadmSession();
    s.setup('-A -t 10.0.0.1:443 -s sh -b sh-port,sh-fallback -p 600 -M 255.255.255.0', '-A -u 10.0.0.1:53 -s rr -o', '-A -f 7 -6 -s wrr -p');
    assert.equal(
      s.out('-L -n'),
      header + plainTitle + 'TCP  10.0.0.1:443 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n' + 'UDP  10.0.0.1:53 rr ops\n' + 'FWM  7 IPv6 wrr persistent 360\n',
    );
    assert.equal(
      s.out('-S -n'),
      '-A -t 10.0.0.1:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port\n' + '-A -u 10.0.0.1:53 -s rr -o\n' + '-A -f 7 -6 -s wrr -p 360\n',
    );
  });

  it('lists --thresholds, --persistent-conn and --tun-info columns', () => {
    const s = new IpvsadmSession();
    s.setup('-A -t 10.0.0.1:80 -s wlc', '-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 2 -x 100 -y 50', '-a -t 10.0.0.1:80 -r 10.0.0.3 -i --tun-type gue --tun-port 6080 --tun-remcsum');
    assert.equal(
      s.out('-L -n --thresholds'),
      header +
        'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80 wlc\n' +
        '  -> 10.0.0.2:8080                100        50         0          0         \n' +
        '  -> 10.0.0.3:80                  0          0          0          0         \n',
    );
    assert.equal(
      s.out('-L -n --persistent-conn'),
      header +
        'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n' +
        '  -> RemoteAddress:Port\n' +
        'TCP  10.0.0.1:80 wlc\n' +
        '  -> 10.0.0.2:8080                2         0           0          0         \n' +
        '  -> 10.0.0.3:80                  1         0           0          0         \n',
    );
    assert.equal(
      s.out('-L -n --tun-info'),
      header +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n' +
        'TCP  10.0.0.1:80 wlc\n' +
        '  -> 10.0.0.2:8080                Masq    n/a           2      0          0         \n' +
        '  -> 10.0.0.3:80                  Tunnel  gue:6080:r+c  1      0          0         \n',
    );
    assert.equal(
      s.out('-S -n'),
      '-A -t 10.0.0.1:80 -s wlc\n' + '-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 2 -x 100 -y 50\n' + '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum\n',
    );
  });

  it('brackets IPv6 addresses and does not cut their names', () => {
    const s = new IpvsadmSession();
    s.setup('-A -t [2001:db8:1234:5678:9abc:def0:1234:100]:80 -s rr', '-a -t [2001:db8:1234:5678:9abc:def0:1234:100]:80 -r 2001:db8:1234:5678::2 -m');
    // ipvsadm takes a bare IPv6 real server, or brackets with a port, never brackets alone.
    assert.equal(s.run('-a -t [2001:db8:1234:5678:9abc:def0:1234:100]:80 -r [2001:db8:1234:5678::3] -m').code, 2);
    assert.equal(
      s.out('-L -n'),
      header + plainTitle + 'TCP  [2001:db8:1234:5678:9abc:def0:1234:100]:80 rr\n' + '  -> [2001:db8:1234:5678::2]:80   Masq    1      0          0         \n',
    );
  });

  it('lists one service alone, without the version header', () => {
    const s = new IpvsadmSession();
    s.setup('-A -t 10.0.0.1:80 -s rr', '-A -t 10.0.0.2:80 -s rr');
    assert.equal(s.out('-L -n -t 10.0.0.2:80'), plainTitle + 'TCP  10.0.0.2:80 rr\n');
  });

  it('counts active and inactive connections as the kernel does, and the rate columns', () => {
    const s = new IpvsadmSession();
    s.setup('-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.0.0.2 -m');
    const vaddr = parseIpAddr('10.0.0.1') as IpAddr;
    for (let i = 0; i < 3; i++) {
      const r = s.engine.connect({ protocol: 'tcp', caddr: parseIpAddr(`192.168.0.${1 + i}`) as IpAddr, cport: 40000, vaddr, vport: 80 });
      assert.ok(r.ok);
      s.engine.setState(r.conn, i === 0 ? 'ESTABLISHED' : 'SYN_RECV');
      s.engine.countPackets(r.conn, 'input', 100, 150_000);
    }
    assert.match(s.out('-L -n'), /-> 10\.0\.0\.2:80 {18}Masq {4}1 {6}1 {10}2 {9}\n/);
    for (let t = 0; t < 10; t++) {
      s.clock.advance(1000);
      s.engine.tick();
    }
    const rate = s.out('-L -n --rate').split('\n');
    assert.equal(rate[1], 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS');
    assert.match(rate[3] as string, /^TCP {2}10\.0\.0\.1:80 {22}( +\d+){5}$/);
    assert.match(rate[4] as string, /^ {2}-> 10\.0\.0\.2:80 {17}( +\d+){5}$/);
  });

  it('scales large numbers as ipvsadm does, and --exact prints them whole', () => {
    assert.deepEqual(
      [99_999_999, 100_000_000, 999_999_999, 1_000_000_000, 99_999_999_999, 100_000_000_000, 123_456_789_012_345].map((n) => largeNumber(n, false)),
      [' 99999999', '  100000K', '  999999K', '    1000M', '   99999M', '     100G', '     123T'],
    );
    assert.deepEqual([1, 12_345_678, 123_456_789, 123_456_789_012].map((n) => largeNumber(n, true)), ['        1', ' 12345678', ' 123456789', ' 123456789012']);
  });

  it('prints the timeouts and both sync daemons', () => {
    const s = new IpvsadmSession();
    s.setup('--set 3600 60 120', '--start-daemon backup --mcast-interface eth1 --syncid 9 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 3', '--start-daemon master');
    assert.equal(s.out('-L --timeout'), 'Timeout (tcp tcpfin udp): 3600 60 120\n');
    assert.equal(
      s.out('-L --daemon'),
      'master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n' + 'backup sync daemon (mcast=eth1, syncid=9, maxlen=1472, group=239.1.1.1, port=9000, ttl=3)\n',
    );
    assert.deepEqual(s.run('--start-daemon master'), { stdout: '', stderr: 'Daemon has already run\n', code: 255 });
    s.setup('--stop-daemon master');
    assert.deepEqual(s.run('--stop-daemon master'), { stdout: '', stderr: 'No daemon is running\n', code: 255 });
  });
});
