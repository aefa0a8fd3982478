// libfaketime, which shifts a process's wall clock from outside: preloaded into a node,
// it reads the offset from a file that can be rewritten while the node runs.
import fs from 'node:fs';
import path from 'node:path';

const libraryDirs = ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime', '/usr/local/lib/faketime'];

/** Where libfaketime is, if installed. */
export function faketimeLibrary(): string | undefined {
  return libraryDirs.map((d) => path.join(d, 'libfaketime.so.1')).find((f) => fs.existsSync(f));
}
