/** The OpenAPI 3.1 document, generated from the zod schemas the handlers validate with (only GET /openapi.json loads this). */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { decisionBodySchema, emptyBodySchema, idempotencyKeySchema, OPERATIONS, problemSchema } from './schemas.ts';

const PROBLEM_STATUSES: Record<number, string> = {
  400: 'The request is malformed; `errors` names each bad field',
  401: 'Missing or invalid bearer token',
  403: 'Policy does not allow this caller to do this',
  404: 'No such grant',
  409: 'The grant changed concurrently or is in a status that does not allow this',
  422: 'Well-formed, but policy or the current state refuses it',
  503: 'AWS throttled the service (quotas are shared; nothing changed) or did not answer in time (repeat with the same Idempotency-Key); retry after Retry-After seconds',
};

let cachedDocument: unknown;

export function openApiDocument(): unknown {
  if (cachedDocument) return cachedDocument;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'jwt', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const op of OPERATIONS) {
    const problems = Object.fromEntries(
      Object.entries(PROBLEM_STATUSES)
        .filter(([s]) => op.auth || s === '400')
        .map(([s, description]) => [s, { description, content: { 'application/problem+json': { schema: problemSchema } } }]),
    );
    registry.registerPath({
      method: op.method,
      path: op.path,
      operationId: op.functionName,
      summary: op.summary,
      ...(op.auth ? { security: [{ jwt: [] }] } : {}),
      request: {
        ...(op.params ? { params: op.params } : {}),
        ...(op.query ? { query: op.query } : {}),
        ...(op.idempotencyKey ? { headers: z.object({ 'idempotency-key': idempotencyKeySchema }) } : {}),
        ...(op.body ? { body: { content: { 'application/json': { schema: op.body } }, required: op.body !== decisionBodySchema && op.body !== emptyBodySchema } } : {}),
      },
      responses: {
        [op.success.status]: { description: op.success.description, content: { 'application/json': { schema: op.success.schema } } },
        ...problems,
      },
    });
  }
  cachedDocument = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Identity Center JIT',
      version: '1',
      description: 'Just-in-time, expiring access to AWS accounts and Identity Store groups through IAM Identity Center.',
    },
  });
  return cachedDocument;
}
