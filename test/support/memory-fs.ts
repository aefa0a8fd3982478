import path from 'node:path';
import type { ConfigFs } from '../../src/config/config-fs';

/** An in-memory file system for the config reader: absolute paths to contents, plus symlinks. */
export function memoryFs(files: Record<string, string>, links: Record<string, string> = {}): ConfigFs {
  const resolveLink = (p: string): string => {
    let current = p;
    for (let i = 0; i < 16 && current in links; i++) current = links[current] as string;
    return current;
  };
  const enoent = (p: string): Error => Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  return {
    readFile: (p) => {
      const real = resolveLink(p);
      const text = files[real];
      if (text === undefined) throw enoent(p);
      return text;
    },
    realpath: (p) => {
      const real = resolveLink(p);
      if (!(real in files)) throw enoent(p);
      return real;
    },
    readdir: (dir) => {
      const names = new Set<string>();
      for (const f of [...Object.keys(files), ...Object.keys(links)]) {
        if (path.dirname(f) === dir) names.add(path.basename(f));
        else if (f.startsWith(dir === '/' ? '/' : dir + '/')) names.add(f.slice(dir.length + (dir === '/' ? 0 : 1)).split('/')[0] as string);
      }
      return [...names];
    },
    isFile: (p) => resolveLink(p) in files,
  };
}
