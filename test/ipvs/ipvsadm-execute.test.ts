// What the kernel refuses, as ipvsadm reports it (libipvs's messages, exit 255 for a
// change and 1 for a listing), and that no input at all can make ipvsadm throw.
import assert from 'node:assert/strict';
import { SeededRng } from '../../src/common/rng';
import { IpvsadmSession } from './ipvsadm-session';

function session(): IpvsadmSession {
  const s = new IpvsadmSession();
  s.setup('-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.0.0.2 -m');
  return s;
}

describe('ipvsadm against the table', () => {
  const refusals: Array<[string, string, number]> = [
    ['-A -t 10.0.0.1:80 -s rr', 'Service already exists', 255],
    ['-A -t 10.0.0.9:80 -s fastest', 'Scheduler or persistence engine not found', 255],
    ['-E -t 10.0.0.1:80 -s fastest', 'Scheduler or persistence engine not found', 255],
    ['-E -t 10.0.0.9:80 -s rr', 'No such service', 255],
    ['-D -t 10.0.0.9:80', 'No such service', 255],
    ['-Z -t 10.0.0.9:80', 'No such service', 255],
    ['-L -t 10.0.0.9:80', 'No such service', 1],
    ['-a -t 10.0.0.9:80 -r 10.0.0.2', 'Service not defined', 255],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -m', 'Destination already exists', 255],
    ['-e -t 10.0.0.1:80 -r 10.0.0.3 -m -w 2', 'No such destination', 255],
    ['-d -t 10.0.0.1:80 -r 10.0.0.3', 'No such destination', 255],
    ['-d -t 10.0.0.9:80 -r 10.0.0.2', 'Service not defined', 255],
    ['-a -t 10.0.0.1:80 -r 10.0.0.4 -x 10 -y 20', 'Numerical result out of range', 255],
    ['-a -t 10.0.0.1:80 -r 224.0.0.5', 'Invalid operation.  Possibly wrong module version, address not unicast, ...', 255],
    ['--stop-daemon backup', 'No daemon is running', 255],
  ];
  for (const [line, message, code] of refusals) {
    it(`ipvsadm ${line}: ${message}`, () => {
      const s = session();
      const before = s.out('-S -n');
      assert.deepEqual(s.run(line), { stdout: '', stderr: `${message}\n`, code });
      assert.equal(s.out('-S -n'), before, 'a refused command leaves the table as it was');
    });
  }

  it('applies what the kernel accepts: edit, delete, zero, clear', () => {
    const s = session();
    s.setup('-e -t 10.0.0.1:80 -r 10.0.0.2 -m -w 5', '-a -t 10.0.0.1:80 -r 10.0.0.3 -m', '-d -t 10.0.0.1:80 -r 10.0.0.2', '-E -t 10.0.0.1:80 -s wlc -p 30');
    assert.equal(s.out('-S -n'), '-A -t 10.0.0.1:80 -s wlc -p 30\n-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1\n');
    s.setup('-Z', '-Z -t 10.0.0.1:80', '-D -t 10.0.0.1:80');
    assert.equal(s.out('-S -n'), '');
    s.setup('-A -t 10.0.0.1:80', '-C');
    assert.equal(s.out('-S -n'), '');
  });

  it('never throws, whatever the arguments: 5,000 random command lines', () => {
    const words = [
      '-A', '-E', '-D', '-C', '-R', '-S', '-a', '-e', '-d', '-L', '-l', '-Z', '--set', '--start-daemon', '--stop-daemon', '-h',
      '-t', '-u', '-f', '-6', '-s', '-p', '-M', '-r', '-g', '-i', '-m', '-w', '-x', '-y', '-c', '-n', '-o', '-b',
      '--stats', '--rate', '--thresholds', '--persistent-conn', '--timeout', '--daemon', '--nosort', '--exact', '--tun-info',
      '--tun-type', '--tun-port', '--tun-csum', '--mcast-group', '--syncid', '--sync-maxlen', '--pe',
      '10.0.0.1:80', '10.0.0.2', '[2001:db8::1]:80', '2001:db8::2', '[::1]', '10.0.0.1:http', ':80', '10.0.0.1:', '0', '1', '65535', '65536', '-1',
      'rr', 'wrr', 'sh', 'mh', 'bogus', 'master', 'backup', 'gue', 'sh-port', 'flag-1,flag-9', '255.255.255.0', '224.0.0.81', '', '\u0000', 'x'.repeat(300),
    ];
    const rng = new SeededRng(7);
    const s = session();
    for (let i = 0; i < 5000; i++) {
      const args = Array.from({ length: rng.below(8) }, () => words[rng.below(words.length)] as string);
      const line = args.join(' ');
      let r;
      try {
        r = s.run(line, '-A -t 10.0.0.5:80\n-a -t 10.0.0.5:80 -r 10.0.0.6\n');
      } catch (err) {
        assert.fail(`ipvsadm ${line}: threw ${String(err)}`);
      }
      assert.ok([0, 1, 2, 255].includes(r.code), `ipvsadm ${line}: exit ${r.code}`);
      assert.ok(!/\bat .*\.js:\d+/.test(r.stderr), `ipvsadm ${line}: ${r.stderr}`);
    }
  });
});
