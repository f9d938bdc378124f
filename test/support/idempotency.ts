/** Idempotency claims that name no grant: what a failed write must never leave behind. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';

export async function claimsWithoutGrant(client: DynamoDBClient, tableName: string): Promise<string[]> {
  const doc = DynamoDBDocumentClient.from(client);
  const orphans: string[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: tableName, FilterExpression: 'begins_with(pk, :p)', ExpressionAttributeValues: { ':p': 'IDEMPOTENCY#' }, ExclusiveStartKey }),
    );
    for (const item of page.Items ?? []) {
      const grant = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: `GRANT#${String(item.grantId)}`, sk: 'GRANT' }, ConsistentRead: true }));
      if (!grant.Item) orphans.push(String(item.pk));
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return orphans;
}
