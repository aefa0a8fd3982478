// The lab's `netns` agent: a director in a network namespace is fenced by cutting its
// links (`ip -n NAMESPACE link set IF down`), as pulling its cables would. `namespace`
// (`%n` for the node) and `interfaces` (default eth0) say which; `on` puts them back up.
import { execFile } from 'node:child_process';
import type { AgentAction, AgentResult } from './fence-agent';

export function netnsCommands(options: Readonly<Record<string, string>>, target: string, action: AgentAction): string[][] {
  const ns = (options['namespace'] ?? '%n').split('%n').join(target);
  const interfaces = (options['interfaces'] ?? 'eth0').split(/[\s,]+/).filter((i) => i.length > 0);
  if (action === 'status' || action === 'monitor') return [['-n', ns, 'link', 'show']];
  return interfaces.map((dev) => ['-n', ns, 'link', 'set', dev, action === 'on' ? 'up' : 'down']);
}

export async function netnsFence(options: Readonly<Record<string, string>>, target: string, action: AgentAction, signal: AbortSignal): Promise<AgentResult> {
  for (const args of netnsCommands(options, target, action)) {
    const r = await new Promise<AgentResult>((resolve) => {
      execFile('ip', args, { signal, encoding: 'utf8' }, (err, _out, stderr) => resolve(err === null ? { code: 0, detail: '' } : { code: typeof err.code === 'number' ? err.code : undefined, detail: (stderr || err.message).trim() }));
    });
    if (r.code !== 0) return { code: r.code, detail: `ip ${args.join(' ')}: ${r.detail}` };
  }
  return { code: 0, detail: `${action} done in ${(options['namespace'] ?? '%n').split('%n').join(target)}` };
}
