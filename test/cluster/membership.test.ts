import assert from 'node:assert/strict';
import { Membership, type MemberConfig } from '../../src/cluster/membership';
import { electDc } from '../../src/cluster/quorum';

const node = (name: string, priority = 100, votes = 1, witness = false): MemberConfig => ({ name, priority, votes, witness });
const three = [node('d1', 150), node('d2', 100), node('w1', 0, 1, true)];

describe('membership, quorum and DC', () => {
  it('three nodes: two is a majority, one is not; the DC is the highest priority present', () => {
    const m = new Membership('d2', three, { twoNode: false, waitForAll: false });
    assert.equal(m.view.quorate, false, 'alone at start');
    const all = m.update(['d1', 'w1'], true);
    assert.deepEqual([all?.view.members, all?.view.quorate, all?.view.dc, all?.view.quorum], [['d1', 'd2', 'w1'], true, 'd1', 2]);
    assert.equal(all?.dcReason, 'd1 elected: the view is quorate');
    const lostD1 = m.update(['w1'], true);
    assert.deepEqual([lostD1?.view.quorate, lostD1?.view.dc], [true, 'd2']);
    assert.equal(lostD1?.dcReason, 'd1 left the view; d2 is the next by priority and name');
    const alone = m.update([], true);
    assert.deepEqual([alone?.view.quorate, alone?.view.dc, alone?.dcReason], [false, undefined, 'quorum lost: no DC']);
  });

  it('view ids only grow, and a new view goes above the ids its members reported', () => {
    const m = new Membership('d1', three, { twoNode: false, waitForAll: false });
    const a = m.update(['d2'], true, new Map([['d2', 7]]));
    assert.equal(a?.view.id, 8);
    assert.equal(m.update(['d2'], true, new Map([['d2', 7]])), undefined, 'no change, no new view');
    const b = m.update(['d2', 'w1'], true);
    assert.equal(b?.view.id, 9);
  });

  it('breaks a priority tie by the lowest name', () => {
    assert.equal(electDc([node('d3'), node('d1'), node('d2')])?.name, 'd1');
    assert.equal(electDc([node('d3', 200), node('d1'), node('d2')])?.name, 'd3');
  });

  it('two_node: one of two has quorum, but with wait_for_all only after both were seen together', () => {
    const pair = [node('d1'), node('d2')];
    const m = new Membership('d1', pair, { twoNode: true, waitForAll: true });
    assert.deepEqual([m.view.quorate, m.view.waitingForAll], [false, true]);
    assert.equal(m.update([], true), undefined, 'still alone, still waiting');
    const both = m.update(['d2'], true);
    assert.equal(both?.view.quorate, true);
    const alone = m.update([], true);
    assert.deepEqual([alone?.view.quorate, alone?.view.quorum, alone?.view.dc], [true, 1, 'd1']);
    const noWait = new Membership('d1', pair, { twoNode: true, waitForAll: false });
    assert.equal(noWait.view.quorate, false, 'just started: not alone until initdead has passed');
    assert.equal(noWait.update([], false), undefined);
    assert.deepEqual([noWait.update([], true)?.view.quorate, noWait.view.dc], [true, 'd1'], 'two_node without wait_for_all: quorate alone once settled');
  });

  it('expected_votes overrides the sum, and votes count by weight', () => {
    const m = new Membership('d1', [node('d1', 100, 2), node('d2'), node('d3')], { twoNode: false, waitForAll: false, expectedVotes: 5 });
    const v = m.update(['d2'], true);
    assert.deepEqual([v?.view.votes, v?.view.expectedVotes, v?.view.quorum, v?.view.quorate], [3, 5, 3, true]);
  });
});
