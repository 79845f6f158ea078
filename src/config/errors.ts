/**
 * An error the user can fix: bad input, a missing file, an unreachable server.
 * The CLI prints its message on one line, without a stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
