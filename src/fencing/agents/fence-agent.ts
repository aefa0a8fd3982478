// The standard fence-agent protocol (ClusterLabs fence-agents, as Pacemaker drives it):
// the agent reads `key=value` lines on stdin (`action`, `plug`, `ip`, `username`,
// `password`, ...), and its exit code answers: 0 done (or, for `status`, on), 2 off
// (for `status`), anything else an error. `-o metadata` prints the parameters it takes,
// which configured options are checked against. Options go on stdin, never on the
// command line, so no password shows in the process list.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FenceAction } from '../config';

export type AgentAction = FenceAction | 'on' | 'status' | 'monitor';

/** Where fence_* programs live when PATH does not say (Debian puts them in /usr/sbin). */
const agentDirs = ['/usr/sbin', '/sbin', '/usr/bin', '/usr/local/sbin'];

export function findAgent(agent: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (agent.includes('/')) return fs.existsSync(agent) ? agent : undefined;
  for (const dir of [...(env['PATH'] ?? '').split(':').filter((d) => d.length > 0), ...agentDirs]) {
    const candidate = path.join(dir, agent);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** stdin for the agent: the action, the plug (the target node unless configured), then every option. */
export function agentInput(action: AgentAction, target: string, options: Readonly<Record<string, string>>): string {
  const lines = [`action=${action}`];
  if (options['plug'] === undefined && options['port'] === undefined) lines.push(`plug=${target}`);
  for (const [key, value] of Object.entries(options)) lines.push(`${key}=${value.replace(/\n/g, ' ')}`);
  return lines.join('\n') + '\n';
}

/** The parameter names an agent's metadata lists. */
export function metadataParameters(xml: string): string[] {
  return [...xml.matchAll(/<parameter\s+name="([^"]+)"/g)].map((m) => m[1] as string);
}

/** Configured options the agent does not take. */
export function unknownOptions(parameters: readonly string[], options: Readonly<Record<string, string>>): string[] {
  const known = new Set(parameters);
  return Object.keys(options).filter((o) => !known.has(o));
}

export interface AgentResult {
  /** The exit code, or undefined when it was killed (timeout, abort) or could not start. */
  readonly code: number | undefined;
  readonly detail: string;
}

/** Hides secrets in what an agent printed. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}

/**
 * Runs an agent program, `input` (if any) on its stdin, and answers its exit code and the
 * last line it printed, secrets blanked. Aborting `signal` kills it.
 */
export function runAgent(program: string, args: readonly string[], how: { readonly input?: string; readonly env?: NodeJS.ProcessEnv }, signal: AbortSignal, secrets: readonly string[]): Promise<AgentResult> {
  return new Promise((resolve) => {
    const child = spawn(program, [...args], { stdio: [how.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], signal, ...(how.env !== undefined ? { env: how.env } : {}) });
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-4096);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    if (how.input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(how.input);
    }
    child.once('error', (err) => resolve({ code: undefined, detail: err.name === 'AbortError' ? 'killed' : err.message }));
    child.once('close', (code) => {
      const last = redact(output, secrets).trim().split('\n').filter((l) => l.length > 0).at(-1) ?? '';
      resolve({ code: code ?? undefined, detail: last.slice(0, 300) });
    });
  });
}

/** `AGENT -o metadata`: the parameters, or why they could not be read. */
export function readMetadata(program: string, timeoutMs = 10_000): Promise<{ parameters: string[] } | { error: string }> {
  return new Promise((resolve) => {
    execFile(program, ['-o', 'metadata'], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => {
      if (err !== null) return resolve({ error: `${path.basename(program)} -o metadata: ${err.message.split('\n')[0]}` });
      const parameters = metadataParameters(stdout);
      resolve(parameters.length > 0 ? { parameters } : { error: `${path.basename(program)} -o metadata listed no parameters` });
    });
  });
}
