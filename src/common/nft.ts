// nftables: a batch through `nft -f -` (applied atomically, or not at all), and whether
// nft can run here.
import fs from 'node:fs';
import { runProgram } from './program';

const nftPaths = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

/** Runs an nft batch; undefined when it applied, else nft's complaint. */
export async function nftBatch(batch: string, wrap: readonly string[] = []): Promise<string | undefined> {
  const r = await runProgram([...wrap, 'nft', '-f', '-'], { stdin: batch });
  return r.code === 0 ? undefined : r.stderr.trim() || `nft exited ${r.code}`;
}

/** `nft ARGS` as nft prints it; undefined when nft failed. */
export async function nftText(args: readonly string[], wrap: readonly string[] = []): Promise<string | undefined> {
  const r = await runProgram([...wrap, 'nft', ...args]);
  return r.code === 0 ? r.stdout : undefined;
}

/** `nft -j ARGS`, parsed; undefined when nft failed or printed no JSON. */
export async function nftJson(args: readonly string[], wrap: readonly string[] = []): Promise<unknown> {
  const text = await nftText(['-j', ...args], wrap);
  try {
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** Why nftables cannot be used here, or undefined when it can; `purpose` says what needs it. */
export function nftUnavailable(purpose = 'the cut is an nftables rule'): string | undefined {
  if (process.getuid?.() !== 0) return `needs root (${purpose})`;
  if (!nftPaths.some((p) => fs.existsSync(p))) return 'needs nft (apt-get install nftables)';
  return undefined;
}
