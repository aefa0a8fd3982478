import assert from 'node:assert/strict';
import { dest, ip, picks, serviceWith, settings } from './service-fixture';

const A = '192.168.10.1';
const B = '192.168.10.2';
const C = '192.168.10.3';

describe('rr scheduler', () => {
  it('starts at the newest destination and walks the list in kernel order', () => {
    assert.deepEqual(picks(serviceWith('rr', [A, B, C]), 7), [C, B, A, C, B, A, C]);
  });

  it('skips a quiescent (weight 0) destination and takes it back when its weight returns', () => {
    const svc = serviceWith('rr', [A, B, C]);
    svc.editDestination(dest(svc, B), settings({ weight: 0 }));
    assert.deepEqual(picks(svc, 4), [C, A, C, A]);
    svc.editDestination(dest(svc, B), settings({ weight: 1 }));
    // The cursor stayed on A, the end of the list: on to C, then B again.
    assert.deepEqual(picks(svc, 3), [C, B, A]);
  });

  it('after deleting the destination under the cursor, goes on with the one after it', () => {
    const svc = serviceWith('rr', [A, B, C]);
    assert.deepEqual(picks(svc, 2), [C, B]);
    svc.removeDestination(dest(svc, B));
    assert.deepEqual(picks(svc, 3), [A, C, A]);
  });

  it('after deleting the first destination while the cursor is on it, starts over from the head', () => {
    const svc = serviceWith('rr', [A, B, C]);
    assert.deepEqual(picks(svc, 1), [C]);
    svc.removeDestination(dest(svc, C));
    assert.deepEqual(picks(svc, 3), [B, A, B]);
  });

  it('a destination added later goes to the head of the list, ahead of the cursor', () => {
    const svc = serviceWith('rr', [A, B]);
    assert.deepEqual(picks(svc, 1), [B]);
    svc.addDestination(ip(C), 80, settings());
    assert.deepEqual(picks(svc, 4), [A, C, B, A]);
  });

  it('skips an overloaded destination and finds none when all are quiescent or overloaded', () => {
    const svc = serviceWith('rr', [A, { addr: B, upper: 1 }]);
    dest(svc, B).bindConnection('active');
    assert.deepEqual(picks(svc, 2), [A, A]);
    svc.editDestination(dest(svc, A), settings({ weight: 0 }));
    assert.deepEqual(picks(svc, 1), ['-']);
  });

  it('finds nothing in an empty service', () => {
    assert.deepEqual(picks(serviceWith('rr', []), 1), ['-']);
  });
});
