import assert from 'node:assert/strict';
import { parseIpvsadm, type PortNames } from '../../src/ipvs/ipvsadm/parse';

const ports: PortNames = { portOf: (name) => ({ http: 80, https: 443, domain: 53 })[name] };
const parse = (line: string) => parseIpvsadm(line.split(' ').filter((w) => w !== ''), ports);

function failure(line: string): { stderr: string; code: number } {
  const r = parse(line);
  assert.ok(!r.ok, `${line} should fail`);
  return { stderr: r.exit.stderr, code: r.exit.code };
}

function command(line: string) {
  const r = parse(line);
  assert.ok(r.ok, r.ok ? '' : `${line}: ${r.exit.stderr}`);
  return r.command;
}

describe('ipvsadm command line', () => {
  it('reads the seed notes\' commands', () => {
    const add = command('-A -t 172.16.100.1:80 -s rr');
    assert.deepEqual([add.name, add.service.address?.text, add.service.port, add.scheduler], ['add-service', '172.16.100.1', 80, 'rr']);
    const real = command('-a -t 172.16.100.1:80 -r 192.168.10.8 -m');
    assert.deepEqual([real.name, real.dest.address?.text, real.dest.port, real.dest.forward, real.dest.weight], ['add-server', '192.168.10.8', 80, 'masq', 1]);
    const edit = command('-e -t 172.16.100.1:80 -r 192.168.10.8 -m -w 3');
    assert.equal(edit.dest.weight, 3);
    assert.equal(command('-E -t 172.16.100.1:80 -s wrr').scheduler, 'wrr');
  });

  it('accepts clustered short options, long options and --name=value', () => {
    const list = command('-Ln --stats');
    assert.deepEqual([list.name, list.format.numeric, list.format.stats], ['list', true, true]);
    const long = command('--add-server --tcp-service=10.0.0.1:http --real-server 10.0.0.2:8080 --masquerading --weight=5');
    assert.deepEqual([long.service.port, long.dest.port, long.dest.weight], [80, 8080, 5]);
  });

  it('defaults: wlc, direct routing, weight 1, and -p alone is 360 s as libipvs has it', () => {
    const add = command('-A -u 10.0.0.1:53 -p');
    assert.deepEqual([add.scheduler, add.persistentS, add.service.protocol], ['wlc', 360, 'udp']);
    const real = command('-a -u 10.0.0.1:53 -r 10.0.0.2:5353');
    assert.deepEqual([real.dest.forward, real.dest.weight, real.dest.port], ['route', 1, 53], 'DR keeps the service port');
  });

  it('reads IPv6 services and real servers in brackets, fwmark services with -6', () => {
    const v6 = command('-a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -m');
    assert.deepEqual([v6.service.family, v6.service.address?.text, v6.dest.address?.text], [6, '2001:db8::1', '2001:db8::2']);
    const fw = command('-A -f 7 -6 -p 60');
    assert.deepEqual([fw.service.kind, fw.service.mark, fw.service.family, fw.persistentS], ['fwmark', 7, 6, 60]);
  });

  it('reads --set with three timeouts, and scheduler flags', () => {
    assert.deepEqual(command('--set 900 120 300').timeouts, [900, 120, 300]);
    assert.deepEqual(command('-A -t 10.0.0.1:80 -s sh -b sh-port,sh-fallback').schedFlags, { flag1: true, flag2: true, flag3: false });
  });

  describe('refuses bad input with ipvsadm\'s message and exit code', () => {
    const cases: Array<[string, string, number]> = [
      ['-A -t 10.0.0.1:80 -s rr --bogus', '--bogus: unknown option\n', 255],
      ['-A -t 10.0.0.1:80 -q', '-q: unknown option\n', 255],
      ['-a -t 300.0.0.1:80 -r 10.0.0.2', 'illegal virtual server address[:port] specified\n', 2],
      ['-a -t 10.0.0.1:70000 -r 10.0.0.2', 'illegal virtual server address[:port] specified\n', 2],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2:http2x', 'illegal real server address[:port] specified\n', 2],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w 70000', 'illegal weight specified\n', 2],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2 -x -1', 'illegal u_threshold specified\n', 2],
      ['-a -t 10.0.0.1:80', "You need to supply the 'real-server' option for the 'add-server' command\n", 2],
      ['-A -t 10.0.0.1:80 -r 10.0.0.2', "Illegal 'real-server' option with the 'add-service' command\n", 2],
      ['-L -c --timeout', "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n", 2],
      ['-L -c --stats', 'options conflicts in the list command\n', 2],
      ['-A -t 10.0.0.1 -s rr', 'Zero port specified for non-persistent service\n', 2],
      ['-A -t 10.0.0.1:80 -o', 'One-Packet Scheduling is only for UDP virtual services\n', 2],
      ['-A -t 10.0.0.1:80 -p abc', "invalid timeout value `abc' specified\n", 2],
      ['-A -f 0', "invalid fwmark value `0' specified\n", 2],
      ['-A -t 10.0.0.1:80 -s rr -b sh-port', "incompatible scheduler flag `sh-port'\n", 2],
      ['-A -t 10.0.0.1:80 -M 255.255.x.0 -p', 'illegal virtual server persistent mask specified\n', 2],
      ['-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -m', 'Different address family is allowed only for tunneling servers\n', 2],
      ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w 1 -w 2', "multiple 'weight' options specified\n", 2],
      ['-A -t 10.0.0.1:80 -a', 'multiple commands specified\n', 2],
      ['--set 900 120', '--set option requires 3 timeout values\n', 2],
      ['-C extra', 'unexpected argument extra\n', 2],
      ['-A -t', '-t: missing argument\n', 255],
      ['-t 10.0.0.1:80 -A', "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255],
      ['--start-daemon primary', 'illegal start-daemon parameter specified\n', 2],
    ];
    for (const [line, stderr, code] of cases) {
      it(`ipvsadm ${line}`, () => assert.deepEqual(failure(line), { stderr, code }));
    }
  });

  it('prints help to stdout with exit 0, and the version', () => {
    const help = parse('-h');
    assert.ok(!help.ok);
    assert.equal(help.exit.code, 0);
    assert.match(help.exit.stdout, /^ipvsadm v1\.31 2019\/12\/24 \(compiled with popt and IPVS v1\.2\.1\)\nUsage:\n/);
    const version = parse('--version');
    assert.ok(!version.ok);
    assert.equal(version.exit.stdout, 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n');
  });
});
