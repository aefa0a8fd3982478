// The file system as the config reader sees it. Tests substitute an in-memory one, so
// include, glob and cycle handling are tested without touching disk.
import fs from 'node:fs';

export interface ConfigFs {
  /** Throws an Error with a `code` (ENOENT, EACCES, EISDIR) when the file cannot be read. */
  readFile(absPath: string): string;
  /** Canonical path used to detect include cycles; throws like readFile. */
  realpath(absPath: string): string;
  /** Entry names of a directory; [] when it does not exist. */
  readdir(absDir: string): string[];
  isFile(absPath: string): boolean;
  /** The permission bits (0o644), when the file system has them. */
  mode?(absPath: string): number | undefined;
  /**
   * Whether a program is installed there (an executable file): on the host's file system
   * only, so that checks of what this host has (keepalived's script checks) run there.
   */
  isProgram?(absPath: string): boolean;
}

export const nodeConfigFs: ConfigFs = {
  readFile: (p) => fs.readFileSync(p, 'utf8'),
  realpath: (p) => fs.realpathSync(p),
  readdir: (d) => {
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  },
  isFile: (p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
  isProgram: (p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  },
  mode: (p) => {
    try {
      return fs.statSync(p).mode & 0o777;
    } catch {
      return undefined;
    }
  },
};

/** `ENOENT` → "no such file", and so on: the words an operator expects. */
export function describeFsError(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
