// Checks that span blocks: names that must be unique, references that must resolve,
// settings that contradict each other. Each subsystem owns the checks of its own
// keywords; this file only runs them in order.
import { checkClusterConfig } from '../cluster/config-checks';
import { checkHostHealthConfig } from '../host/config-checks';
import { checkIpvsConfig } from '../ipvs/config-checks';
import { checkVrrpConfig } from '../vrrp/config-checks';
import type { ParseContext } from './keywords';
import type { HadConfig } from './model';
import { checkScriptSecurity, checkScriptsFound } from './script-security';

export function validateConfig(config: HadConfig, cx: ParseContext): void {
  checkVrrpConfig(config, cx);
  checkIpvsConfig(config, cx);
  checkClusterConfig(config, cx);
  checkHostHealthConfig(config, cx);
  checkScriptSecurity(config, cx);
  checkScriptsFound(config, cx);
}
