import assert from 'node:assert/strict';
import { ServicePool, type PoolMember } from '../../src/health/pool';

const member = (id: string, weight: number, inhibitOnFailure = false): PoolMember => ({
  id,
  address: `10.0.0.${id.charCodeAt(0) - 96}`,
  port: 80,
  settings: { forward: 'masq', weight, upperThreshold: 0, lowerThreshold: 0 },
  inhibitOnFailure,
});
const sorry = member('s', 1);
const weights = (pool: ServicePool) => pool.desired().map((d) => `${d.id}=${d.settings.weight}`);

describe('which real servers a service holds (keepalived\'s pool rules)', () => {
  it('removes a server that is down, and keeps it at weight 0 with inhibit_on_failure', () => {
    const pool = new ServicePool([member('a', 3), member('b', 1, true)], { quorum: 1, hysteresis: 0, sorryInhibit: false }, () => true);
    assert.deepEqual(weights(pool), ['a=3', 'b=1']);
    pool.setUp('a', false);
    pool.setUp('b', false);
    assert.deepEqual(weights(pool), ['b=0']);
  });

  it('brings in the sorry server when the live weight falls below quorum, and the servers back with hysteresis', () => {
    const pool = new ServicePool([member('a', 2), member('b', 2), member('c', 2)], { quorum: 4, hysteresis: 1, sorry, sorryInhibit: false }, () => true);
    assert.equal(pool.setUp('a', false), undefined, '4 live is not below 4 - 1');
    assert.equal(pool.setUp('b', false), 'quorum-lost');
    assert.deepEqual(weights(pool), ['s=1'], 'the live server gives way to the sorry server');
    assert.equal(pool.setUp('a', true), undefined, '4 live is below 4 + 1');
    assert.deepEqual(weights(pool), ['s=1']);
    assert.equal(pool.setUp('b', true), 'quorum-gained');
    assert.deepEqual(weights(pool), ['a=2', 'b=2', 'c=2']);
  });

  it('sorry_server_inhibit keeps the sorry server at weight 0 while it is not needed', () => {
    const pool = new ServicePool([member('a', 1)], { quorum: 1, hysteresis: 0, sorry, sorryInhibit: true }, () => true);
    assert.deepEqual(weights(pool), ['a=1', 's=0']);
    pool.setUp('a', false);
    assert.deepEqual(weights(pool), ['s=1']);
  });

  it('a misc_dynamic weight replaces the configured one and counts for quorum', () => {
    const pool = new ServicePool([member('a', 5)], { quorum: 3, hysteresis: 0, sorry, sorryInhibit: false }, () => true);
    assert.equal(pool.setWeight('a', 2), 'quorum-lost');
    assert.equal(pool.setWeight('a', 4), 'quorum-gained');
    assert.deepEqual(weights(pool), ['a=4']);
  });

  it('alpha: servers that start down leave the sorry server in until they pass', () => {
    const pool = new ServicePool([member('a', 1)], { quorum: 1, hysteresis: 0, sorry, sorryInhibit: false }, () => false);
    assert.equal(pool.hasQuorum, false);
    assert.deepEqual(weights(pool), ['s=1']);
  });
});
