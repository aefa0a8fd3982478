// `hadirector genkey`: a new cluster key, 48 random bytes as base64, for auth_key_file.
// Written with mode 0600 (the key is a secret: whoever reads it can forge heartbeats);
// an existing file is kept unless --force.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CliIo } from './io';

export interface GenkeyOptions {
  readonly output?: string;
  readonly force: boolean;
}

function newClusterKey(): string {
  return `${crypto.randomBytes(48).toString('base64')}\n`;
}

export function runGenkey(o: GenkeyOptions, io: CliIo): number {
  const key = newClusterKey();
  if (o.output === undefined) {
    io.stdout(key);
    return 0;
  }
  const file = path.resolve(io.cwd, o.output);
  try {
    fs.writeFileSync(file, key, { mode: 0o600, flag: o.force ? 'w' : 'wx' });
    // A file that existed keeps its old mode through writeFileSync: make it 0600 all the same.
    fs.chmodSync(file, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr(`hadirector genkey: ${o.output}: ${code === 'EEXIST' ? 'exists (--force replaces it; every node must then get the new key)' : (code ?? (err as Error).message)}\n`);
    return 1;
  }
  io.stderr(`hadirector genkey: wrote a new key to ${o.output} (mode 0600): copy it to every node of the cluster, as auth_key_file\n`);
  return 0;
}
