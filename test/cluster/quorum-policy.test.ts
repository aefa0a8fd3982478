import assert from 'node:assert/strict';
import type { View } from '../../src/cluster/membership';
import { vipPermission } from '../../src/cluster/quorum-policy';

const view = (quorate: boolean): View => ({ id: 1, members: ['d1'], votes: 1, expectedVotes: 3, quorum: 2, quorate, waitingForAll: false });

describe('no_quorum_policy', () => {
  it('with quorum a director may hold VIPs, whatever the policy', () => {
    for (const policy of ['stop', 'freeze', 'ignore'] as const) assert.equal(vipPermission(view(true), policy, false), 'may-hold');
  });

  it('without quorum: stop releases, freeze keeps what it holds, ignore carries on', () => {
    assert.equal(vipPermission(view(false), 'stop', false), 'release');
    assert.equal(vipPermission(view(false), 'freeze', false), 'keep-only');
    assert.equal(vipPermission(view(false), 'ignore', false), 'may-hold');
  });

  it('a witness never holds a VIP', () => {
    assert.equal(vipPermission(view(true), 'ignore', true), 'release');
  });
});
