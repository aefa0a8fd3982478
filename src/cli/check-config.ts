// `hadirector check-config`: every problem as FILE:LINE:COL: severity: message, then
// what the configuration will do. Exit 0 without errors, 1 with any.
import { checkConfig } from '../config/check';
import { formatDiagnostic } from '../config/diagnostics';
import { summarize } from '../config/summary';
import { secretOptionNames } from '../fencing/config';
import type { CliIo } from './io';
import { isWitness, type HadConfig } from '../config/model';
import { choosePlane, hostPlaneFacts, type PlaneDecision } from '../director/plane-choice';
import { carriedPlan, planServices, type ServicePlan } from '../director/service-plan';
import { probeFor } from '../health/probes';

export interface CheckConfigOptions {
  readonly file: string;
  readonly strict: boolean;
  readonly json: boolean;
  readonly node?: string;
}

export function runCheckConfig(options: CheckConfigOptions, io: CliIo): number {
  const result = checkConfig(options.file, {
    strict: options.strict,
    cwd: io.cwd,
    env: io.env,
    ...(options.node !== undefined ? { node: options.node } : {}),
  });
  if (options.json) {
    const nodes = Object.fromEntries(result.configs.map((c) => [c.node, c]));
    // Fence device secrets (and vrrp auth_pass) stay in the file: the model shows that they are set, not what they are.
    const hideSecrets = (key: string, value: unknown): unknown => (typeof value === 'string' && (secretOptionNames.has(key) || key === 'pass') ? '***' : value);
    io.stdout(JSON.stringify({ diagnostics: result.diagnostics, nodes }, hideSecrets, 2) + '\n');
    return result.errorCount > 0 ? 1 : 0;
  }
  for (const d of result.diagnostics) io.stderr(formatDiagnostic(d) + '\n');
  const counts = `${plural(result.errorCount, 'error')}, ${plural(result.warningCount, 'warning')}`;
  if (result.errorCount > 0) {
    io.stderr(`${options.file}: ${counts}\n`);
    return 1;
  }
  for (const line of summarize(result.configs)) io.stdout(line + '\n');
  const { refused, notRun, planes } = whatRunLeaves(result.configs, io.root === true);
  for (const line of planes) io.stdout(`data plane: ${line}\n`);
  for (const line of notRun) io.stdout(`not run: ${line}\n`);
  if (refused.length > 0) {
    for (const line of refused) io.stderr(`run refuses: ${line}\n`);
    io.stderr(`${options.file}: valid, but 'hadirector run' refuses ${plural(refused.length, 'part')} of it (${counts})\n`);
    return 1;
  }
  io.stderr(notRun.length > 0 ? `${options.file}: valid; 'hadirector run' leaves out ${plural(notRun.length, 'checker')} (${counts})\n` : `${options.file}: configuration OK (${counts})\n`);
  return 0;
}

/**
 * Which data plane `run` would give each virtual server on this host and why, what it
 * would refuse (a service the plane cannot carry: DR or fwmark on the userspace relay,
 * TUN where the kernel has no ipip), and what it would leave out (checkers it does not
 * run), on every node that runs services.
 */
function whatRunLeaves(configs: readonly HadConfig[], root: boolean): { refused: string[]; notRun: string[]; planes: string[] } {
  const refused = new Set<string>();
  const notRun = new Set<string>();
  const planes = new Set<string>();
  for (const config of configs) {
    if (isWitness(config)) continue;
    const decision = choosePlane(config.global.dataPlane, hostPlaneFacts(config, root));
    if ('error' in decision) {
      refused.add(decision.error);
      continue;
    }
    for (const plan of planServices(config.virtualServers, config.virtualServerGroups).plans) {
      const refusals = carriedPlan(plan, decision).refusals;
      for (const r of refusals) refused.add(r);
      if (refusals.length === 0) planes.add(`${plan.id}: ${planeOf(plan, decision)} (${decision.why})`);
      for (const m of plan.members) {
        for (const c of m.checkers) if (probeFor(c, { address: m.address, port: m.port }) === undefined) notRun.add(`${c.where.file}:${c.where.line}:${c.where.col}: ${c.kind} of ${m.id} (not supported yet: the server counts as up)`);
      }
    }
  }
  return { refused: [...refused], notRun: [...notRun], planes: [...planes] };
}

function planeOf(plan: ServicePlan, decision: PlaneDecision): string {
  if (decision.plane === 'userspace') return 'the userspace relay, LVS-NAT';
  if (decision.plane === 'ipvs') return `the kernel's IPVS, LVS-${plan.source.method} (ipvsadm)`;
  return plan.source.method === 'DR' ? 'the kernel, LVS-DR (nftables netdev ingress and fwd)' : 'the kernel, LVS-NAT (nftables dnat and conntrack)';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
