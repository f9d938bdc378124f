/**
 * The grants table as CreateTable input: its keys and indexes are lib/table's (the same
 * that serverless.yml declares for CloudFormation; test/infra checks the two agree).
 * Used by the local cloud and the integration tests to create the table.
 */
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS } from '../table/keys.ts';

export function grantsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: TABLE_KEYS.AttributeDefinitions.map((d) => ({ ...d })),
    KeySchema: TABLE_KEYS.KeySchema.map((k) => ({ ...k })),
    GlobalSecondaryIndexes: TABLE_KEYS.GlobalSecondaryIndexes.map((g) => ({ ...g, KeySchema: g.KeySchema.map((k) => ({ ...k })), Projection: { ...g.Projection } })),
  };
}

/** Creates the grants table if it does not exist and waits until it is ACTIVE. */
export function ensureGrantsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return ensureTable(client, grantsTableDefinition(tableName));
}

/** Creates a table if it does not exist and waits until it and its indexes are ACTIVE. */
export async function ensureTable(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<void> {
  const tableName = definition.TableName;
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesReady = (out.Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
    if (out.Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}
