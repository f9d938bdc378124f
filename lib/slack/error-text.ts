/** Turns errors into what a Slack user reads. Internal errors reveal nothing but a reference. */
import { AppError, ForbiddenError, UnauthenticatedError } from '../errors.ts';

export function errorText(e: unknown, reference?: string): string {
  if (e instanceof UnauthenticatedError || (e instanceof ForbiddenError && /Identity Center user/.test(e.message))) {
    return `:no_entry: ${e.message} Ask an administrator to check that your Slack email matches your IAM Identity Center user.`;
  }
  if (e instanceof AppError) {
    const fields = e.fields?.length ? '\n' + e.fields.map((f) => `• \`${f.field}\`: ${f.message}`).join('\n') : '';
    return `:warning: ${e.title}: ${e.message}${fields}`;
  }
  return `:boom: Something went wrong on our side${reference ? ` (reference \`${reference}\`)` : ''}. Please try again, or use the portal.`;
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
