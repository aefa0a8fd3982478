import { formatWhere, type Where } from './where';

/**
 * An error a user can act on: a stable code (documented in docs/errors.md) and a place.
 * Bugs are not HadErrors: they are failed assertions.
 */
export class HadError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly where?: Where,
  ) {
    super(message);
    this.name = 'HadError';
  }

  describe(): string {
    const place = this.where === undefined ? '' : `${formatWhere(this.where)}: `;
    return `${place}${this.message} [${this.code}]`;
  }
}
