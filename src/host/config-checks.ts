// Checks of `host_health { ... }` that look at the block as a whole: settings that are
// valid alone but do nothing together. Warnings: the host is still watched and shown.
import type { ParseContext } from '../config/keywords';
import type { HadConfig } from '../config/model';
import { hostFactNames } from './facts';

export function checkHostHealthConfig(config: HadConfig, cx: ParseContext): void {
  const health = config.global.hostHealth;
  if (health.where === undefined) return;
  const rules = hostFactNames.flatMap((name) => {
    const rule = health.rules[name];
    return rule === undefined ? [] : [{ name, rule }];
  });
  if (health.strategy !== 'none' && rules.length === 0) {
    cx.diags.warn('HAD_CFG_MISSING_KEYWORD', `host_health: strategy ${health.strategy} has no fact to judge, so it never acts: give one thresholds (memory 90 95)`, health.where);
  }
  for (const { name, rule } of rules) {
    if (rule.weight !== undefined && health.strategy !== 'progressive') {
      cx.diags.warn('HAD_CFG_CONFLICT', `host_health: ${name}'s weight counts only under strategy progressive (this one is ${health.strategy}): ignored`, rule.where);
    }
    if (rule.red === undefined && health.strategy === 'migrate_on_red') {
      cx.diags.warn('HAD_CFG_CONFLICT', `host_health: ${name} yellow never makes the host red, so migrate_on_red never acts on it`, rule.where);
    }
  }
}
