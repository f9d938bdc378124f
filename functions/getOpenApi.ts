/** GET /openapi.json: generated from the zod schemas the handlers validate with. No authorizer, no AWS calls. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { openApiDocument } from '../lib/http/openapi.ts';

export const handler = async (): Promise<APIGatewayProxyStructuredResultV2> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' },
  body: JSON.stringify(openApiDocument()),
});
