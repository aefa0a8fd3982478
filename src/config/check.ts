// "Is this file valid, and what will you do with it?" A file with a cluster block is
// one configuration per node once `@node` lines apply, so without a node named it is
// checked for every node of the cluster, and a problem seen on some nodes only says so.
import { defaultNodeName, loadConfig, type LoadOptions } from './load';
import { sortDiagnostics, type Diagnostic } from './diagnostics';
import type { HadConfig } from './model';

export interface CheckResult {
  readonly configs: HadConfig[];
  readonly diagnostics: Diagnostic[];
  readonly errorCount: number;
  readonly warningCount: number;
}

export function checkConfig(file: string, options: LoadOptions = {}): CheckResult {
  const first = loadConfig(file, { ...options, node: options.node ?? defaultNodeName() });
  const nodes = first.config.cluster?.nodes.map((n) => n.name) ?? [];
  if (options.node !== undefined || nodes.length === 0) {
    return { configs: [first.config], diagnostics: first.diagnostics, errorCount: first.errorCount, warningCount: first.warningCount };
  }
  const results = nodes.map((node) => loadConfig(file, { ...options, node }));
  const merged = new Map<string, { d: Diagnostic; nodes: string[] }>();
  for (const r of results) {
    for (const d of r.diagnostics) {
      const key = `${d.where?.file}:${d.where?.line}:${d.where?.col}:${d.severity}:${d.code}:${d.message}`;
      const seen = merged.get(key);
      if (seen === undefined) merged.set(key, { d, nodes: [r.config.node] });
      else if (!seen.nodes.includes(r.config.node)) seen.nodes.push(r.config.node);
    }
  }
  const diagnostics = sortDiagnostics([...merged.values()].map(({ d, nodes: on }) =>
    on.length === results.length ? d : { ...d, message: `${d.message} (on node${on.length > 1 ? 's' : ''} ${on.join(', ')})` },
  ));
  return {
    configs: results.map((r) => r.config),
    diagnostics,
    errorCount: diagnostics.filter((d) => d.severity === 'error').length,
    warningCount: diagnostics.filter((d) => d.severity === 'warning').length,
  };
}
