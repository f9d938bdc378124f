/**
 * Errors the domain raises on purpose. Each maps to one HTTP status and an
 * RFC 9457 problem type; anything else reaching the edge is a 500.
 *
 * Every error's `name` is a string literal, never the class's own name: the deployed
 * bundles are minified (class names become one letter), and the name is what Step
 * Functions' Retry/Catch, the logs and callers match on.
 */
export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `target.accountId`. */
  field: string;
  message: string;
}

export abstract class AppError extends Error {
  /** Fixed per class (a literal): see the file comment. */
  abstract override readonly name: string;
  abstract readonly status: number;
  abstract readonly type: string;
  abstract readonly title: string;
  readonly fields?: FieldError[];
  constructor(message: string, fields?: FieldError[]) {
    super(message);
    if (fields) this.fields = fields;
  }
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly status = 400;
  readonly type = 'validation-error';
  readonly title = 'Request is not valid';
}

export class UnauthenticatedError extends AppError {
  override readonly name = 'UnauthenticatedError';
  readonly status = 401;
  readonly type = 'unauthenticated';
  readonly title = 'Not authenticated';
}

export class ForbiddenError extends AppError {
  override readonly name = 'ForbiddenError';
  readonly status = 403;
  readonly type = 'forbidden';
  readonly title = 'Not allowed';
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly type = 'not-found';
  readonly title = 'Not found';
}

/** A concurrent change won, or the grant is not in a status that allows this action. */
export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  readonly status = 409;
  readonly type = 'conflict';
  readonly title = 'Conflict with the current state';
}

/** Well-formed input that policy or the current state refuses (e.g. duration above the rule's max). */
export class UnprocessableError extends AppError {
  override readonly name = 'UnprocessableError';
  readonly status = 422;
  readonly type = 'unprocessable';
  readonly title = 'Request cannot be processed';
}

/**
 * A pagination cursor that cannot be used: not one this API issued, altered, expired, issued to
 * another caller or for another list, or pointing where the table no longer has a key. The
 * detail tells the caller the way out: start again from the first page.
 */
export function invalidCursorError(reason: string): ValidationError {
  return new ValidationError('cursor is not valid: start again from the first page (omit cursor)', [{ field: 'cursor', message: reason }]);
}

/** Start-up configuration is wrong: the function must not serve requests. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const PROBLEM_TYPE_BASE = 'https://identity-center-jit.dev/problems/';
