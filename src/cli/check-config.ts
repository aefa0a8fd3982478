// `hadirector check-config`: every problem as FILE:LINE:COL: severity: message, then
// what the configuration will do. Exit 0 without errors, 1 with any.
import { checkConfig } from '../config/check';
import { formatDiagnostic } from '../config/diagnostics';
import { summarize } from '../config/summary';
import { secretOptionNames } from '../fencing/config';
import type { CliIo } from './io';

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
  io.stderr(`${options.file}: configuration OK (${counts})\n`);
  return 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
