// `hadirector drill` against the loopback lab of config/hadirector.conf (no root): a
// killed or frozen master is fenced before the backup takes the VIP, a stopped one (or a
// rolling restart) is not fenced at all, a lost witness or a closed real server moves
// nothing; all pass, each writes a report.json
// whose events, director samples and requests say so, and the summary table names them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DrillReport } from '../../src/drill/report';
import { timelineGeometry } from '../../src/drill/timeline';
import { drillFigures } from '../../src/drill/verdict';
import { decodePng } from '../support/png';
import { bin } from '../support/director-process';
import { repoRoot } from '../support/paths';

describe('hadirector drill on the loopback lab (integration)', function () {
  this.timeout(240_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-drill-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('master-kill, master-term, master-freeze, witness-loss, rolling-restart, bad-reload and realserver-kill pass; the reports show the fence before the takeover, and no fence for a clean stop', () => {
    const r = spawnSync(bin, ['drill', 'master-kill', 'master-term', 'master-freeze', 'witness-loss', 'rolling-restart', 'bad-reload', 'realserver-kill', '--report', dir], { encoding: 'utf8', timeout: 230_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^scenario +detect +fence +takeover +outage +failed +double holder +verdict$/m);
    assert.match(r.stdout, /^master-kill +\d+ ms +\d+ ms +\d+ ms +\d+ ms +\d+\/\d+ +0 ms +pass$/m);
    assert.match(r.stdout, /^master-term +- +- +\d+ ms +\d+ ms +\d+\/\d+ +0 ms +pass$/m);
    assert.match(r.stdout, /^master-freeze +\d+ ms +\d+ ms +\d+ ms +\d+ ms +\d+\/\d+ +0 ms +pass$/m);
    assert.match(r.stdout, /^realserver-kill +- +- +- +\d+ ms +\d+\/\d+ +0 ms +pass$/m);
    assert.match(r.stdout, /^witness-loss +\d+ ms +- +- +\d+ ms +\d+\/\d+ +0 ms +pass$/m);
    assert.match(r.stdout, /^rolling-restart +- +- +\d+ ms +\d+ ms +\d+\/\d+ +0 ms +pass$/m);
    assert.match(r.stdout, /^bad-reload +- +- +- +\d+ ms +\d+\/\d+ +0 ms +pass$/m);
    const reload = JSON.parse(fs.readFileSync(path.join(dir, 'bad-reload', 'report.json'), 'utf8')) as DrillReport;
    assert.match(reload.events.find((e) => e.kind === 'heal')?.detail ?? '', /refused before by d[12], d[12]$/, 'both directors refused the broken file');
    assert.doesNotMatch(fs.readFileSync(path.join(repoRoot(), 'config', 'hadirector.conf'), 'utf8'), /VI_DRILL_BROKEN/, 'the original file is untouched');
    console.log(`      (${r.stdout.split('\n').filter((l) => /^(scenario|master-|realserver-|witness-|rolling-|bad-)/.test(l)).join('\n       ')})`);

    const kill = JSON.parse(fs.readFileSync(path.join(dir, 'master-kill', 'report.json'), 'utf8')) as DrillReport;
    const picture = decodePng(fs.readFileSync(path.join(dir, 'master-kill', 'timeline.png')));
    const g = timelineGeometry(kill);
    assert.ok(picture.width >= g.left + g.width && picture.height >= g.top + g.height, 'timeline.png holds every lane');
    assert.match(fs.readFileSync(path.join(dir, 'master-kill', 'timeline.svg'), 'utf8'), /^<svg[^>]*>[\s\S]*fault d1/);
    assert.deepEqual(kill.events.map((e) => `${e.kind} ${e.node}`), ['fault d1', 'fence d1', 'heal d1']);
    const fault = kill.events[0]?.tMs ?? 0;
    assert.ok(kill.directors.some((s) => s.node === 'd1' && s.tMs > fault && s.state === 'down'), 'd1 is sampled down after the kill');
    const f = drillFigures(kill);
    assert.ok(f.fenceMs !== undefined && f.takeoverMs !== undefined && f.fenceMs <= f.takeoverMs, JSON.stringify(f));
    assert.ok(kill.clients.some((c) => c.tMs < fault && c.ok && /^127\.0\.0\.2[12]:808[12]$/.test(c.server ?? '')), 'requests are answered by the real servers before the fault');
    assert.ok(kill.clients.some((c) => c.tMs > fault && !c.ok), 'and fail while no one holds the VIP');

    const term = JSON.parse(fs.readFileSync(path.join(dir, 'master-term', 'report.json'), 'utf8')) as DrillReport;
    assert.deepEqual(term.events.map((e) => e.kind), ['fault', 'heal']);
    assert.ok((drillFigures(term).takeoverMs ?? Infinity) < term.masterDownIntervalMs, 'a clean stop hands over before Master_Down_Interval');
  });

  it('an unknown scenario is a usage error that names the ones there are', () => {
    const r = spawnSync(bin, ['drill', 'cable-pull'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2);
    assert.match(r.stdout, /no scenario cable-pull; there are master-kill, master-term, master-freeze, witness-loss, rolling-restart, bad-reload, realserver-kill/);
  });
});
