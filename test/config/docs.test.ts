import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { clusterSpec, linkSpec, nodeSpec, quorumSpec } from '../../src/cluster/config';
import { configErrorCodes } from '../../src/config/errors';
import { runtimeErrorCodes } from '../../src/director/errors';
import { globalDefsSpec } from '../../src/config/global-defs';
import type { BlockSpec } from '../../src/config/keywords';
import { fenceDeviceSpec, fencingSpec } from '../../src/fencing/config';
import { hostHealthSpec } from '../../src/host/config';
import { dnsCheckSpec, httpCheckSpec, miscCheckSpec, smtpCheckSpec, tcpCheckSpec, urlSpec } from '../../src/health/config';
import { realServerSpec, virtualServerSpec } from '../../src/ipvs/config';
import { timeCheckSpec } from '../../src/time/config';
import { authenticationSpec, vrrpInstanceSpec, vrrpScriptSpec, vrrpSyncGroupSpec, vrrpTrackFileSpec, vrrpTrackProcessSpec } from '../../src/vrrp/config';
import { repoRoot } from '../support/paths';

const doc = (name: string): string => fs.readFileSync(path.join(repoRoot(), 'docs', name), 'utf8');

describe('user documentation', () => {
  it('docs/errors.md explains every diagnostic and runtime code, in the order of src/config/errors.ts and src/director/errors.ts', () => {
    const headings = doc('errors.md')
      .split('\n')
      .filter((l) => l.startsWith('## '))
      .map((l) => l.slice(3).trim());
    assert.deepEqual(headings, [...configErrorCodes, ...runtimeErrorCodes]);
  });

  it('every runtime code is one the source logs', () => {
    const source = (dir: string): string[] => fs.readdirSync(path.join(repoRoot(), dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(path.join(repoRoot(), dir, f), 'utf8'));
    const text = source('src').join('\n');
    for (const code of runtimeErrorCodes) assert.ok(text.split(`'${code}'`).length > 2, `${code} is never logged`);
  });

  it('docs/configuration.md documents every keyword of every block', () => {
    const text = doc('configuration.md');
    const specs: Array<BlockSpec<never>> = [
      globalDefsSpec,
      hostHealthSpec,
      vrrpScriptSpec,
      vrrpTrackFileSpec,
      vrrpTrackProcessSpec,
      vrrpInstanceSpec,
      vrrpSyncGroupSpec,
      authenticationSpec,
      virtualServerSpec,
      realServerSpec,
      tcpCheckSpec,
      httpCheckSpec('HTTP_GET'),
      urlSpec,
      miscCheckSpec,
      dnsCheckSpec,
      smtpCheckSpec,
      clusterSpec,
      linkSpec,
      nodeSpec,
      quorumSpec,
      fencingSpec,
      fenceDeviceSpec,
      timeCheckSpec,
    ] as unknown as Array<BlockSpec<never>>;
    const missing: string[] = [];
    for (const spec of specs) {
      for (const keyword of Object.keys(spec.keywords)) if (!text.includes(`\`${keyword}\``)) missing.push(`${spec.name}: ${keyword}`);
    }
    assert.deepEqual(missing, []);
  });
});
