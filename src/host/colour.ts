// A fact's colour from its value, with hysteresis: it turns worse as soon as it reaches a
// threshold, and better only once it is below that threshold by the margin, so a value
// hovering at a threshold does not flap the colour (and with it a VIP) on every sample.
import type { FactRule, HostColour } from './config';

export const colourRank: Readonly<Record<HostColour, number>> = { green: 0, yellow: 1, red: 2 };

export function worseColour(a: HostColour, b: HostColour): HostColour {
  return colourRank[a] >= colourRank[b] ? a : b;
}

/** The colour of `value` under `rule`, for a fact that was `previous`; `marginPoints` ≥ 0. */
export function judgeColour(value: number, rule: FactRule, previous: HostColour, marginPoints: number): HostColour {
  const holds = (threshold: number, was: HostColour): boolean =>
    value >= threshold || (colourRank[previous] >= colourRank[was] && value >= threshold - marginPoints);
  if (rule.red !== undefined && holds(rule.red, 'red')) return 'red';
  if (holds(rule.yellow, 'yellow')) return 'yellow';
  return 'green';
}
