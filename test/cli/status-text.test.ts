import assert from 'node:assert/strict';
import { formatStatus } from '../../src/cli/status-text';

describe('hadirector status, as text', () => {
  it('shows the view, quorum, DC, standing down, peers with their clocks and links, drops, NTP, fencing, sync and services', () => {
    const text = formatStatus({
      node: 'd2',
      pid: 4242,
      uptimeS: 3723,
      configFile: '/etc/hadirector/hadirector.conf',
      connectionEntries: 17,
      vips: 'may-hold',
      cluster: {
        view: { id: 9, members: ['d2', 'w1'], votes: 2, expectedVotes: 3, quorum: 2, quorate: true, waitingForAll: false, dc: 'd2' },
        settled: true,
        peers: [
          { peer: 'd1', state: 'dead', skew: 'ok', lastHeardAgoMs: 12_034, links: [{ link: 'ring0', up: false, lossRate: 1 }] },
          { peer: 'w1', state: 'up', skew: 'critical', rttMs: 0.42, offsetMs: 1503.7, lastHeardAgoMs: 310, links: [{ link: 'ring0', up: true, lossRate: 0.03 }] },
        ],
        dropped: { 'bad-tag': 12, replay: 0, 'old-epoch': 1 },
        accepted: 5000,
        deposed: 'd3 is fencing this node',
        ntp: [{ server: '10.0.0.123:123', offsetMs: -20.4, delayMs: 1.25, skew: 'ok' }, { server: 'ntp2:123', error: 'no answer within 5000 ms' }],
      },
      fencing: { mode: 'power', leading: true, pending: ['d1'], marks: [{ node: 'd1', epoch: 7, state: 'fencing' }] },
      sync: {
        epoch: 1,
        lastSeq: 812,
        pendingChanges: 40,
        peers: [{ peer: 'd1', ackedSeq: 800, batches: 12, changes: 3072, ms: 41.6 }],
        copies: [
          { peer: 'd1', epoch: 5, entries: 1502, appliedSeq: 90, lagBatches: 0, inSync: true, gaps: 1, snapshots: 1, refused: 0 },
          { peer: 'd3', epoch: undefined, entries: 0, appliedSeq: 0, lagBatches: 0, inSync: false, snapshot: { received: 3, pages: 40 }, gaps: 0, snapshots: 0, refused: 7 },
        ],
        sent: { batches: 812, resent: 3, snapshots: 1, coalesced: 100 },
      },
      services: [{ service: 'TCP 10.0.0.100:80', quorum: { held: false, liveWeight: 0, needed: 1 }, realServers: [{ server: 'a', up: false }, { server: 'b', up: false }] }],
    });
    assert.equal(
      text,
      [
        'node d2 (pid 4242), up 1h 2m 3s, 17 connection entries, /etc/hadirector/hadirector.conf',
        'view 9: [d2, w1] quorate, 2/3 votes (quorum 2), DC d2',
        '  STANDING DOWN: d3 is fencing this node (no VIP, no fencing; hadirector fence clear, docs/fencing.md)',
        '  peer d1: dead, heard 12034 ms ago; ring0 DOWN loss 100%',
        '  peer w1: up, heard 310 ms ago, rtt 0.4 ms, clock +1504 ms (CRITICAL); ring0 up loss 3%',
        '  VIPs: may be held',
        '  datagrams: 5000 accepted, dropped bad-tag 12, old-epoch 1',
        '  ntp 10.0.0.123:123: this host +20 ms, delay 1.3 ms (ok)',
        '  ntp ntp2:123: no answer within 5000 ms',
        'fencing (mode power): this node is the DC: it fences; d1 fencing',
        'sync: 812 batches sent (3 resent, 1 snapshot served), 40 changes waiting',
        '  to d1: 12 batches behind (3072 changes, 42 ms)',
        '  copy of d1: 1502 entries, in sync',
        '  copy of d3: snapshot 3 of 40 pages, 7 refused at max_entries',
        'service TCP 10.0.0.100:80: 0/2 real servers up, live weight 0 (quorum 1, SORRY SERVER)',
        '',
      ].join('\n'),
    );
  });

  it('says why a view has no quorum: starting, waiting for all, or lost', () => {
    const view = (quorate: boolean, waitingForAll: boolean, settled: boolean) =>
      formatStatus({ cluster: { view: { id: 1, members: ['d1'], votes: 1, expectedVotes: 2, quorum: 1, quorate, waitingForAll }, settled, peers: [], dropped: {}, accepted: 0 } }).split('\n')[1];
    assert.match(view(false, false, false) ?? '', / starting,/);
    assert.match(view(false, true, true) ?? '', / waiting for all nodes,/);
    assert.match(view(false, false, true) ?? '', / WITHOUT QUORUM,/);
  });
});

describe('hadirector status, as text, with no cluster block', () => {
  it('shows each instance and its wire statistics by keepalived\'s names, and what no instance took', () => {
    const text = formatStatus({
      node: 'lb2',
      pid: 7,
      uptimeS: 61,
      connectionEntries: 0,
      vrrp: [
        {
          instance: 'VI_1 backup priority=100 interval=1000ms gate=open',
          stats: { advert_sent: 0, advert_rcvd: 58, become_master: 0, release_master: 0, pri_zero_sent: 0, pri_zero_rcvd: 1, chk_err: 3, ip_ttl_err: 0 },
        },
      ],
      vrrpSockets: [{ socket: 'eth0/IPv4/224.0.0.18', drops: { vrid_err: 12 } }],
    });
    assert.equal(
      text,
      [
        'node lb2 (pid 7), up 1m 1s, 0 connection entries',
        'vrrp VI_1 backup priority=100 interval=1000ms gate=open',
        '  adverts sent 0, heard 58; priority 0 sent 0, heard 1; became master 0, released 0; dropped chk_err 3',
        'vrrp socket eth0/IPv4/224.0.0.18: dropped vrid_err 12',
        '',
      ].join('\n'),
    );
  });
});

describe('hadirector status, as text: the host', () => {
  it('shows the colour and what it does, the hold, each fact (judged or not, read or not), the last sample and each watched file system and link', () => {
    const text = formatStatus({
      node: 'd1',
      pid: 1,
      uptimeS: 5,
      connectionEntries: 0,
      host: {
        strategy: 'migrate_on_red',
        colour: 'yellow',
        since: '2026-01-01T00:00:10.000Z',
        fault: true,
        priorityDelta: 0,
        heldUntil: '2026-01-01T00:01:10.000Z',
        reasons: [],
        facts: [
          { fact: 'memory', value: 84, colour: 'yellow', since: '2026-01-01T00:00:10.000Z' },
          { fact: 'swap', value: 0 },
          { fact: 'disk', value: 91, detail: '/var/log on /', colour: 'yellow', since: '2026-01-01T00:00:00.000Z' },
          { fact: 'interface_down', colour: 'green', since: '2026-01-01T00:00:00.000Z' },
        ],
        intervalMs: 5000,
        holdMs: 60_000,
        paths: ['/var/log'],
        interfaces: ['eth0'],
        samples: 3,
        skipped: 1,
        failed: 0,
        lastSample: {
          at: '2026-01-01T00:00:10.000Z',
          durationMs: 41.5,
          heapDeltaBytes: 2048,
          loadPerCpu: [0.5, 0.25, 0.1],
          uptimeS: 90_061,
          fileSystems: [{ path: '/var/log', mount: '/', usedPercent: 91 }],
          interfaces: [{ name: 'eth0', link: 'down', addresses: [] }],
        },
      },
      vrrp: [{ instance: 'VI_1 fault priority=100 interval=1000ms', faults: ['host health yellow: held until 2026-01-01T00:01:10.000Z'] }],
    });
    assert.equal(
      text,
      [
        'node d1 (pid 1), up 5s, 0 connection entries',
        'host YELLOW since 2026-01-01T00:00:10.000Z, strategy migrate_on_red: instances in FAULT',
        '  held until 2026-01-01T00:01:10.000Z (hold 60 s)',
        '  memory 84%: yellow since 2026-01-01T00:00:10.000Z',
        '  swap 0%: not judged',
        '  disk 91% (/var/log on /): yellow since 2026-01-01T00:00:00.000Z',
        '  interface_down unread: green since 2026-01-01T00:00:00.000Z',
        '  sampled 2026-01-01T00:00:10.000Z in 41.5 ms, heap +2.0 KiB; 3 samples every 5 s, 1 skipped (still sampling), 0 failed; load per CPU 0.5 0.25 0.1; host up 1d 1h 1m 1s',
        '  file system of /var/log: / 91% used',
        '  link eth0: down',
        'vrrp VI_1 fault priority=100 interval=1000ms',
        '  FAULT: host health yellow: held until 2026-01-01T00:01:10.000Z',
        '',
      ].join('\n'),
    );
  });
});
