/**
 * The grants table's key schema, as CreateTable input. serverless.yml declares
 * the same table for CloudFormation; test/infra checks that the two agree.
 * Used by the local cloud and the integration tests to create the table.
 */
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { INDEX } from './dynamo-store.ts';

const gsi = (name: string, n: number) => ({
  IndexName: name,
  KeySchema: [
    { AttributeName: `gsi${n}pk`, KeyType: 'HASH' as const },
    { AttributeName: `gsi${n}sk`, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
});

export function grantsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'gsi4pk', 'gsi4sk'].map((AttributeName) => ({
      AttributeName,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi(INDEX.byPrincipal, 1), gsi(INDEX.byStatus, 2), gsi(INDEX.byPendingRule, 3), gsi(INDEX.all, 4)],
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
