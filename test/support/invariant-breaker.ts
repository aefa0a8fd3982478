// Loaded into a director under test with NODE_OPTIONS=--require: once the file named by
// HADIRECTOR_TEST_BREAK_FILE exists, the next step of any VRRP agent finds an invariant
// broken, as a bug would. Only the crash tests load it.
import fs from 'node:fs';
import { InvariantError } from '../../src/common/invariant';
import { VrrpAgent } from '../../src/vrrp/agent';

const trigger = process.env['HADIRECTOR_TEST_BREAK_FILE'];
const step = VrrpAgent.prototype.step;
VrrpAgent.prototype.step = function (this: VrrpAgent, event) {
  if (trigger !== undefined && fs.existsSync(trigger)) throw new InvariantError('broken on purpose by the crash test');
  return step.call(this, event);
};
