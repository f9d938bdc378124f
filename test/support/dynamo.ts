/**
 * A DynamoDB endpoint for integration tests: dynalite on loopback, or the
 * endpoint in AWS_ENDPOINT_URL_DYNAMODB when one is given (e.g. moto_server or
 * DynamoDB Local), so the same suite holds the store honest against another server.
 */
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureGrantsTable } from '../../lib/adapters/table-schema.ts';
import { startDynamo } from '../../local/dynamodb.ts';
import { setTestAwsEnv } from './aws-env.ts';

export interface TestTable {
  endpoint: string;
  client: DynamoDBClient;
  tableName: string;
  stop(): Promise<void>;
}

let counter = 0;

/** A fresh grants table on `endpoint`, else AWS_ENDPOINT_URL_DYNAMODB, else a dynalite started here. */
export async function startTestTable(endpointUrl?: string): Promise<TestTable> {
  setTestAwsEnv();
  const external = endpointUrl ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const local = external ? undefined : await startDynamo();
  const endpoint = external ?? (local as { url: string }).url;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const tableName = `grants-test-${process.pid}-${Date.now()}-${counter++}`;
  await ensureGrantsTable(client, tableName);
  return {
    endpoint,
    client,
    tableName,
    async stop() {
      if (external) await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      client.destroy();
      await local?.close();
    },
  };
}
