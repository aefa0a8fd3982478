// The fence agents against real programs and servers: Debian's fence_dummy (the
// fence-agent protocol, when installed), a protocol agent of our own, the exec agent, the
// signal agent on a real process, and the http agent against a small Redfish-like server.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { RealClock } from '../../src/common/clock';
import type { FenceDeviceConfig } from '../../src/fencing/config';
import { agentInput, findAgent, metadataParameters, readMetadata, unknownOptions } from '../../src/fencing/agents/fence-agent';
import { httpRequestFor } from '../../src/fencing/agents/http-agent';
import { netnsCommands } from '../../src/fencing/agents/netns-agent';
import { AgentRunner } from '../../src/fencing/agents/runner';
import { NetnsLab, netnsUnavailable } from '../../src/lab/netns';

const where = { file: 'c.conf', line: 1, col: 1 };
const device = (agent: string, options: Record<string, string>): FenceDeviceConfig => ({ name: 'dev', where, agent, timeoutMs: 10_000, retries: 0, hosts: [], options, optionWhere: {} });
const run = (d: FenceDeviceConfig, target: string, action: 'off' | 'reboot' | 'on' | 'status') => new AgentRunner(new RealClock()).run(d, target, action, new AbortController().signal);

describe('fence agents', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-fence-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('the fence-agent protocol', () => {
    it('puts the action, the plug (the node unless configured) and every option on stdin', () => {
      assert.equal(agentInput('off', 'd2', { ip: '10.0.0.9', password: 's3cret' }), 'action=off\nplug=d2\nip=10.0.0.9\npassword=s3cret\n');
      assert.equal(agentInput('reboot', 'd2', { plug: '7' }), 'action=reboot\nplug=7\n');
    });

    it('reads the parameters from metadata and names the options an agent does not take', () => {
      const xml = '<resource-agent name="fence_x"><parameters><parameter name="action" unique="0"/><parameter name="ip" required="1"/></parameters></resource-agent>';
      assert.deepEqual(metadataParameters(xml), ['action', 'ip']);
      assert.deepEqual(unknownOptions(['action', 'ip'], { ip: 'x', pasword: 'typo' }), ['pasword']);
    });

    it('drives a protocol agent of our own: options on stdin, never in argv; exit codes; secrets blanked', async () => {
      const agent = path.join(dir, 'fence_test');
      fs.writeFileSync(agent, `#!/bin/sh\ncat > "${dir}/stdin"\necho "$@" > "${dir}/argv"\necho "login failed for password=$(sed -n 's/^password=//p' "${dir}/stdin")" >&2\nexit $(sed -n 's/^exitcode=//p' "${dir}/stdin")\n`, { mode: 0o755 });
      const ok = await run(device(agent, { exitcode: '0', password: 'hunter2' }), 'd2', 'off');
      assert.equal(ok.ok, true);
      assert.equal(fs.readFileSync(path.join(dir, 'stdin'), 'utf8'), 'action=off\nplug=d2\nexitcode=0\npassword=hunter2\n');
      assert.equal(fs.readFileSync(path.join(dir, 'argv'), 'utf8'), '\n');
      const failed = await run(device(agent, { exitcode: '1', password: 'hunter2' }), 'd2', 'reboot');
      assert.deepEqual(failed, { ok: false, detail: 'exit 1: login failed for password=***' });
    });

    it('fences with Debian\'s fence_dummy: off, status and on', async function () {
      const program = findAgent('fence_dummy');
      if (program === undefined) {
        console.log('      (skipped: fence_dummy not installed: apt-get install fence-agents)');
        this.skip();
      }
      const statusFile = path.join(dir, 'power');
      const d = device('fence_dummy', { type: 'file', status_file: statusFile });
      assert.equal((await run(d, 'd2', 'on')).ok, true);
      assert.equal(fs.readFileSync(statusFile, 'utf8').trim(), 'on');
      assert.equal((await run(d, 'd2', 'off')).ok, true);
      assert.equal(fs.readFileSync(statusFile, 'utf8').trim(), 'off');
      assert.match((await run(d, 'd2', 'status')).detail, /^off/);
      const meta = await readMetadata(program as string);
      assert.ok('parameters' in meta && meta.parameters.includes('status_file'), JSON.stringify(meta));
      assert.deepEqual('parameters' in meta ? unknownOptions(meta.parameters, { status_file: 'x', statusfile: 'y' }) : [], ['statusfile']);
    });

    it('says when an agent is not installed', async () => {
      assert.match((await run(device('fence_nosuchagent', {}), 'd2', 'off')).detail, /fence_nosuchagent is not installed/);
    });
  });

  it('exec: runs COMMAND ACTION TARGET with the options in the environment', async () => {
    const script = path.join(dir, 'fence.sh');
    fs.writeFileSync(script, `#!/bin/sh\necho "$1 $2 $HADIRECTOR_FENCE_ACTION $HADIRECTOR_FENCE_TARGET $HADIRECTOR_FENCE_OUTLET" > "${dir}/seen"\n[ "$2" = d2 ]\n`, { mode: 0o755 });
    assert.equal((await run(device('exec', { command: script, outlet: '4' }), 'd2', 'off')).ok, true);
    assert.equal(fs.readFileSync(path.join(dir, 'seen'), 'utf8'), 'off d2 off d2 4\n');
    assert.equal((await run(device('exec', { command: script }), 'd3', 'off')).ok, false);
  });

  it('signal: kills the process of the pid file and waits until it is gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    fs.writeFileSync(path.join(dir, 'd2.pid'), `${child.pid}\n`);
    const d = device('signal', { pid_file: path.join(dir, '%n.pid') });
    const r = await run(d, 'd2', 'off');
    assert.deepEqual(r, { ok: true, detail: `killed pid ${child.pid} (SIGKILL)` });
    await exited;
    assert.equal((await run(d, 'd9', 'off')).ok, true, 'no pid file: nothing of d9 runs here');
    assert.equal((await run(device('signal', {}), 'd2', 'off')).ok, false);
  });

  it('http: POSTs a Redfish reset with basic authentication, and reads PowerState', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''} ${body}`);
        if (req.headers.authorization !== `Basic ${Buffer.from('admin:pw').toString('base64')}`) res.writeHead(401).end();
        else res.writeHead(req.method === 'POST' ? 204 : 200, { 'content-type': 'application/json' }).end(req.method === 'GET' ? '{"PowerState": "Off"}' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as { port: number }).port;
      const d = device('http', { url: `http://127.0.0.1:${port}/redfish/v1/Systems/%n`, username: 'admin', password: 'pw' });
      assert.deepEqual(await run(d, 'd2', 'off'), { ok: true, detail: 'POST /redfish/v1/Systems/d2/Actions/ComputerSystem.Reset: HTTP 204' });
      assert.match((await run(d, 'd2', 'status')).detail, /^off PowerState Off/);
      const bad = await run(device('http', { url: `http://127.0.0.1:${port}/redfish/v1/Systems/%n`, username: 'admin', password: 'wrong' }), 'd2', 'reboot');
      assert.deepEqual(bad, { ok: false, detail: 'exit 1: POST /redfish/v1/Systems/d2/Actions/ComputerSystem.Reset: HTTP 401' });
      assert.equal(seen[0]?.endsWith('{"ResetType":"ForceOff"}'), true);
      assert.equal(seen[2]?.endsWith('{"ResetType":"ForceRestart"}'), true);
    } finally {
      server.close();
    }
    assert.deepEqual(httpRequestFor({}, 'd2', 'off'), { error: 'the http agent needs url' });
    assert.deepEqual(httpRequestFor({ url: 'ftp://x' }, 'd2', 'off'), { error: "url 'ftp://x' is neither http nor https" });
  });

  it('netns (root): cuts the links of a namespace of its own, and restores them', async function () {
    const why = netnsUnavailable();
    if (why !== undefined) {
      console.log(`      (skipped: ${why})`);
      this.skip();
    }
    const net = new NetnsLab('10.215.0');
    try {
      net.create({ d1: 1 });
      const linkUp = () => /<[^>]*\bUP\b[^>]*>/.test(execFileSync('ip', ['-n', net.ns('d1'), 'link', 'show', 'eth0'], { encoding: 'utf8' }));
      const d = device('netns', { namespace: net.ns('%n') });
      assert.equal(linkUp(), true);
      assert.deepEqual(await run(d, 'd1', 'off'), { ok: true, detail: `off done in ${net.ns('d1')}` });
      assert.equal(linkUp(), false);
      assert.equal((await run(d, 'd1', 'on')).ok, true);
      assert.equal(linkUp(), true);
      assert.match((await run(device('netns', { namespace: 'no-such-namespace-%n' }), 'd1', 'off')).detail, /^exit \d+: ip -n no-such-namespace-d1 link set eth0 down: /);
    } finally {
      net.destroy();
    }
  });

  it('netns: cuts (or restores) the node namespace\'s links', () => {
    assert.deepEqual(netnsCommands({ namespace: 'lab-%n', interfaces: 'eth0 eth1' }, 'd2', 'off'), [
      ['-n', 'lab-d2', 'link', 'set', 'eth0', 'down'],
      ['-n', 'lab-d2', 'link', 'set', 'eth1', 'down'],
    ]);
    assert.deepEqual(netnsCommands({}, 'd2', 'on'), [['-n', 'd2', 'link', 'set', 'eth0', 'up']]);
  });
});
