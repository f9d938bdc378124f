/** RFC 9457 problem details: the one error format the HTTP API speaks. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ZodError } from 'zod';
import { AppError, PROBLEM_TYPE_BASE, ValidationError, type FieldError } from '../errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: problem.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify(problem),
  };
}

export function problemFromError(err: AppError, instance?: string): Problem {
  return {
    type: PROBLEM_TYPE_BASE + err.type,
    title: err.title,
    status: err.status,
    detail: err.message,
    ...(instance ? { instance } : {}),
    ...(err.fields?.length ? { errors: err.fields } : {}),
  };
}

export const INTERNAL_PROBLEM: Problem = {
  type: PROBLEM_TYPE_BASE + 'internal',
  title: 'Internal error',
  status: 500,
  detail: 'the request failed on our side; it is safe to retry, and the request id in the logs identifies it',
};

/** Turns a zod error on one part of the request into a 400 that names every bad field. */
export function validationErrorFrom(part: 'body' | 'query' | 'path' | 'header', error: ZodError): ValidationError {
  const fields = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    return { field: [part, path].filter(Boolean).join('.'), message };
  });
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new ValidationError(`invalid ${part}: ${summary}`, fields);
}
