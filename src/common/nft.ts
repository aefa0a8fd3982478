// nftables: a batch through `nft -f -` (applied atomically, or not at all), and whether
// nft can run here.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const nftPaths = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

/** Runs an nft batch; undefined when it applied, else nft's complaint. */
export function nftBatch(batch: string, wrap: readonly string[] = []): Promise<string | undefined> {
  return new Promise((resolve) => {
    const argv = [...wrap, 'nft', '-f', '-'];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code) => resolve(code === 0 ? undefined : stderr.trim() || `nft exited ${code}`));
    child.stdin.end(batch);
  });
}

/** `nft ARGS` as nft prints it; undefined when nft failed. */
export function nftText(args: readonly string[], wrap: readonly string[] = []): Promise<string | undefined> {
  return new Promise((resolve) => {
    const argv = [...wrap, 'nft', ...args];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 ? Buffer.concat(chunks).toString() : undefined));
  });
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
