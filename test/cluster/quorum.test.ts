import assert from 'node:assert/strict';
import { electDc, expectedVotes, quorumVotes, ranksAbove, vipPermission, winsFenceRace } from '../../src/cluster/quorum';

const nodes = (...votes: number[]) => votes.map((v, i) => ({ name: `n${i + 1}`, votes: v, priority: 0 }));

describe('quorum arithmetic', () => {
  it('is a strict majority of the expected votes, which are at least what the nodes carry', () => {
    assert.equal(quorumVotes(nodes(1, 1, 1), { twoNode: false }), 2);
    assert.equal(quorumVotes(nodes(1, 1, 1, 1), { twoNode: false }), 3);
    assert.equal(quorumVotes(nodes(1, 1, 1), { twoNode: false, expectedVotes: 5 }), 3);
    assert.equal(expectedVotes(nodes(1, 1, 1), { expectedVotes: 2 }), 3);
  });

  it('two_node: one vote of two is enough, and only with two votes in all', () => {
    assert.equal(quorumVotes(nodes(1, 1), { twoNode: true }), 1);
    assert.equal(quorumVotes(nodes(1, 1, 1), { twoNode: true }), 2);
  });

  it('the DC is the highest priority, then the lowest name; a fence race is won by the VIP holder first', () => {
    const a = { name: 'd1', priority: 100 };
    const b = { name: 'd2', priority: 150 };
    assert.equal(electDc([a, b])?.name, 'd2');
    assert.equal(electDc([a, { name: 'd0', priority: 100 }])?.name, 'd0');
    assert.equal(ranksAbove(b, a), true);
    assert.equal(winsFenceRace({ ...a, holdsVips: true }, { ...b, holdsVips: false }), true);
    assert.equal(winsFenceRace({ ...a, holdsVips: false }, { ...b, holdsVips: false }), false);
  });
});

describe('no_quorum_policy', () => {
  it('with quorum a director may hold VIPs, whatever the policy', () => {
    for (const policy of ['stop', 'freeze', 'ignore'] as const) assert.equal(vipPermission(true, policy, false), 'may-hold');
  });

  it('without quorum: stop releases, freeze keeps what it holds, ignore carries on', () => {
    assert.equal(vipPermission(false, 'stop', false), 'release');
    assert.equal(vipPermission(false, 'freeze', false), 'keep-only');
    assert.equal(vipPermission(false, 'ignore', false), 'may-hold');
  });

  it('a witness never holds a VIP', () => {
    assert.equal(vipPermission(true, 'ignore', true), 'release');
  });
});
