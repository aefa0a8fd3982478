// Where a problem lies: a place in a file, a peer on the network, or a named field.
// Every error and diagnostic the project reports carries one, so that an operator can go
// straight to the line, the host or the setting at fault.

export interface SourcePos {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, counted in characters of the original line. */
  readonly col: number;
}

export type Where = SourcePos | { readonly peer: string } | { readonly field: string };

export function isSourcePos(where: Where): where is SourcePos {
  return 'file' in where;
}

export function formatWhere(where: Where): string {
  if (isSourcePos(where)) return `${where.file}:${where.line}:${where.col}`;
  if ('peer' in where) return `peer ${where.peer}`;
  return `field ${where.field}`;
}
