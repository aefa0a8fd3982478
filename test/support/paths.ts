import fs from 'node:fs';
import path from 'node:path';

/** The repository root: found from this file when built in place, else the working directory. */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hadirector') return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** shared/ sits beside the repository in CI and on developer machines; a bare clone has none. */
export function sharedDir(): string {
  return path.resolve(repoRoot(), '..', 'shared');
}
