// Scenario files: a drill of the operator's own, in YAML, composed of steps (wait, fault,
// heal, assert) with the built-in scenarios' faults and heals, and expectations that
// tighten the defaults. Every problem names its place (file:line:col).
//
//     name: freeze-then-check
//     expect:
//       outage_margin_ms: 500
//       fence_before_takeover: true
//     steps:
//       - fault: master-freeze
//       - wait: takeover
//       - assert: { holder: backup, quorate: [d2, w1] }
//       - wait: 2s
//       - heal
//       - wait: settled
import fs from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { Drillable, Step } from './steps';
import { defaultExpectations, type Expectations } from './verdict';

export interface ScenarioFile extends Drillable {
  readonly summary: string;
}

const expectationKeys: Readonly<Record<string, { key: keyof Expectations; type: 'number' | 'boolean' }>> = {
  double_holder_ms: { key: 'maxDoubleHolderMs', type: 'number' },
  outage_margin_ms: { key: 'outageMarginMs', type: 'number' },
  fence_before_takeover: { key: 'fenceBeforeTakeover', type: 'boolean' },
  no_fence: { key: 'noFence', type: 'boolean' },
  takeover: { key: 'takeover', type: 'boolean' },
  skew_alert: { key: 'skewAlert', type: 'boolean' },
  returns_after_hold: { key: 'returnsAfterHold', type: 'boolean' },
};

const stepsMax = 100;
const waitMaxMs = 600_000;

/** A duration as a step writes it: `2s`, `500ms`, or a number of milliseconds. */
export function durationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(text.trim());
  if (m === null) return undefined;
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  return Number.isFinite(ms) && ms <= waitMaxMs ? Math.round(ms) : undefined;
}

/**
 * The scenario a file describes, or the problems in it. `faults` are the names of the
 * scenarios whose fault a step may use.
 */
export function parseScenarioFile(file: string, text: string, faults: readonly string[]): { scenario?: ScenarioFile; problems: string[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (node: YamlNode | null | undefined): string => {
    const offset = node?.range?.[0] ?? 0;
    const p = lines.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  const problems: string[] = doc.errors.map((e) => {
    const p = lines.linePos(e.pos[0]);
    return `${file}:${p.line}:${p.col}: ${e.message.split('\n')[0]}`;
  });
  if (problems.length > 0) return { problems };
  const root = doc.contents;
  if (!isMap(root)) return { problems: [`${at(root)}: a scenario file is a mapping (name, summary, expect, steps)`] };
  const name = root.get('name', true);
  const summary = root.get('summary', true);
  const expect = root.get('expect', true);
  const steps = root.get('steps', true);
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!['name', 'summary', 'expect', 'steps'].includes(key)) problems.push(`${at(pair.key as YamlNode)}: unknown key '${key}' (there are name, summary, expect, steps)`);
  }
  const nameText = isScalar(name) && typeof name.value === 'string' ? name.value : '';
  if (!/^[\w.-]{1,64}$/.test(nameText)) problems.push(`${at(name ?? root)}: name: a word of letters, digits, '.', '-' or '_', at most 64`);
  const expectations: Record<string, number | boolean> = { ...defaultExpectations };
  if (expect !== undefined) {
    if (!isMap(expect)) problems.push(`${at(expect as YamlNode)}: expect: a mapping of ${Object.keys(expectationKeys).join(', ')}`);
    else
      for (const pair of expect.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const known = expectationKeys[key];
        const value = isScalar(pair.value) ? pair.value.value : undefined;
        if (known === undefined) problems.push(`${at(pair.key as YamlNode)}: expect: no expectation '${key}' (there are ${Object.keys(expectationKeys).join(', ')})`);
        else if (known.type === 'number' ? typeof value !== 'number' || !(value >= 0) : typeof value !== 'boolean') problems.push(`${at(pair.value as YamlNode)}: expect: ${key} is ${known.type === 'number' ? 'a number of milliseconds' : 'true or false'}`);
        else expectations[known.key] = value as number | boolean;
      }
  }
  const parsed: Step[] = [];
  if (!isSeq(steps) || steps.items.length === 0 || steps.items.length > stepsMax) problems.push(`${at(steps ?? root)}: steps: a list of 1 to ${stepsMax} steps`);
  else for (const item of steps.items) {
    const step = parseStep(item as YamlNode, at(item as YamlNode), faults);
    if (typeof step === 'string') problems.push(step);
    else parsed.push(step);
  }
  if (problems.length > 0) return { problems };
  return {
    scenario: { name: nameText, summary: isScalar(summary) ? String(summary.value) : `steps from ${file}`, expectations: expectations as unknown as Expectations, steps: parsed },
    problems,
  };
}

function parseStep(item: YamlNode, where: string, faults: readonly string[]): Step | string {
  if (isScalar(item) && item.value === 'heal') return { kind: 'heal', where };
  if (!isMap(item) || item.items.length !== 1) return `${where}: a step is 'heal' or one of wait: DURATION|takeover|settled, fault: SCENARIO, assert: { holder, quorate }`;
  const pair = item.items[0] as { key: unknown; value: unknown };
  const kind = isScalar(pair.key) ? String(pair.key.value) : '';
  const value = pair.value as YamlNode | null;
  if (kind === 'wait') {
    const text = isScalar(value) ? String(value.value) : '';
    if (text === 'takeover' || text === 'settled') return { kind: 'wait', until: text, where };
    const ms = durationMs(text);
    return ms === undefined ? `${where}: wait: a duration (2s, 500ms) up to ${waitMaxMs / 1000}s, 'takeover' or 'settled', not '${text}'` : { kind: 'wait', ms, where };
  }
  if (kind === 'fault') {
    const scenario = isScalar(value) ? String(value.value) : '';
    return faults.includes(scenario) ? { kind: 'fault', scenario, where } : `${where}: fault: no scenario '${scenario}' (there are ${faults.join(', ')})`;
  }
  if (kind === 'assert') {
    if (!isMap(value)) return `${where}: assert: a mapping of holder, quorate`;
    const check: { holder?: string; quorate?: string[] } = {};
    for (const p of value.items) {
      const key = isScalar(p.key) ? String(p.key.value) : '';
      if (key === 'holder' && isScalar(p.value)) check.holder = String(p.value.value);
      else if (key === 'quorate' && isSeq(p.value) && p.value.items.every((i) => isScalar(i))) check.quorate = p.value.items.map((i) => String((i as { value: unknown }).value));
      else return `${where}: assert: '${key}' is not holder: NODE|master|backup|none nor quorate: [NODES]`;
    }
    return { kind: 'assert', check, where };
  }
  return `${where}: no step '${kind}' (there are wait, fault, heal, assert)`;
}

export function loadScenarioFile(file: string, faults: readonly string[]): { scenario?: ScenarioFile; problems: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return { problems: [`${file}: ${(err as Error).message}`] };
  }
  return parseScenarioFile(file, text, faults);
}
