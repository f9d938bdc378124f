/**
 * DynamoDB Streams for the local cloud. dynalite has no streams, so writes that
 * pass through the edge (PutItem, UpdateItem, DeleteItem) are tapped: the item
 * is read before and after the write and a stream record (NEW_AND_OLD_IMAGES)
 * goes to the functions whose serverless.yml `stream` event subscribes, in order,
 * after the write has been answered — as Lambda's event source mapping would.
 */
import { DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendDynamoInternalError } from './dynamodb.ts';
import type { DynamoHandler } from './edge.ts';
import { readText, replayRequest } from './protocol/http.ts';

type AttributeMap = Record<string, unknown>;

export interface StreamRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: { Keys: AttributeMap; NewImage?: AttributeMap; OldImage?: AttributeMap; SequenceNumber: string; StreamViewType: 'NEW_AND_OLD_IMAGES' };
}

export interface StreamConsumer {
  name: string;
  /** serverless.yml `filterPatterns` (the `{ dynamodb: { Keys: { pk: { S: [{ prefix }] } } } }` forms). */
  filterPatterns?: unknown[];
  /**
   * serverless.yml `maximumRetryAttempts`: how many more times a record is delivered when the
   * function fails or (ReportBatchItemFailures) names it in `batchItemFailures`. Default 0.
   */
  maximumRetryAttempts?: number;
  handle(event: { Records: StreamRecord[] }): Promise<unknown>;
}

/** Whether a stream function's answer asks for its record again: a batch item failure (ReportBatchItemFailures). */
const reportsFailure = (result: unknown): boolean =>
  Array.isArray((result as { batchItemFailures?: unknown } | undefined)?.batchItemFailures) && (result as { batchItemFailures: unknown[] }).batchItemFailures.length > 0;

/** The pause before a stream record is delivered again: 100 ms doubling, at most 2 s. */
const redeliveryDelayMs = (attempt: number) => Math.min(2_000, 100 * 2 ** attempt);

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const FORWARDED_HEADERS = ['content-type', 'x-amz-target', 'authorization', 'x-amz-date', 'x-amz-security-token'];

/** The subset of Lambda event filtering our serverless.yml uses: string equality and prefix on key and image fields. */
export function matchesFilter(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((p) => (p && typeof p === 'object' && 'prefix' in p ? typeof value === 'string' && value.startsWith(String((p as { prefix: unknown }).prefix)) : p === value));
  }
  if (pattern && typeof pattern === 'object') {
    if (!value || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([k, p]) => matchesFilter(p, (value as Record<string, unknown>)[k]));
  }
  return pattern === value;
}

/** Whether a filter pattern looks at nothing but the record's keys (so the keys alone decide it). */
function keysOnly(pattern: unknown): boolean {
  if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern)) return false;
  const top = Object.keys(pattern);
  if (top.length !== 1 || top[0] !== 'dynamodb') return false;
  const inner = (pattern as { dynamodb: unknown }).dynamodb;
  return !!inner && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length === 1 && 'Keys' in inner;
}

/**
 * Whether some consumer may want the record of a write to `Keys`. Lambda drops records that
 * no filter matches before any invocation; when every filter of every consumer reads only the
 * keys, a write none of them matches needs no stream record, so its images are not read
 * (the table's slot, holder and audit items would otherwise cost two extra reads a write).
 */
export function mayConcern(consumers: StreamConsumer[], Keys: AttributeMap): boolean {
  return consumers.some((consumer) => {
    const filters = consumer.filterPatterns ?? [];
    if (filters.length === 0 || !filters.every(keysOnly)) return true;
    return filters.some((f) => matchesFilter(f, { dynamodb: { Keys } }));
  });
}

export function withStreams(dynamo: DynamoHandler & { url: string }, consumers: () => StreamConsumer[], log: (line: string) => void): DynamoHandler {
  let sequence = 0;
  const queues = new Map<string, Promise<unknown>>();

  // Images are read straight from dynalite with the real SDK client (not through the edge: no tap loop).
  const reader = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const image = async (TableName: string, Key: AttributeMap) =>
    (await reader.send(new GetItemCommand({ TableName, Key: Key as Record<string, AttributeValue>, ConsistentRead: true }))).Item as AttributeMap | undefined;

  const deliver = (record: StreamRecord) => {
    for (const consumer of consumers()) {
      const filters = consumer.filterPatterns ?? [];
      if (filters.length && !filters.some((f) => matchesFilter(f, record))) continue;
      const previous = queues.get(consumer.name) ?? Promise.resolve();
      // In order per consumer: a record being retried holds back the ones after it, as on a shard.
      const attempt = async (n: number): Promise<void> => {
        let failure: string | undefined;
        try {
          if (reportsFailure(await consumer.handle({ Records: [record] }))) failure = 'reported a batch item failure';
        } catch (err) {
          failure = `failed: ${(err as Error).message}`;
        }
        if (failure === undefined) return;
        if (n >= (consumer.maximumRetryAttempts ?? 0)) {
          log(`[stream] ${consumer.name} ${failure}; record ${record.eventID} dropped after ${n + 1} attempts`);
          return;
        }
        log(`[stream] ${consumer.name} ${failure}; delivering record ${record.eventID} again`);
        await new Promise((r) => setTimeout(r, redeliveryDelayMs(n)));
        return attempt(n + 1);
      };
      const next = previous.then(() => attempt(0));
      queues.set(consumer.name, next);
    }
  };

  return {
    handle(req: IncomingMessage, res: ServerResponse) {
      const target = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      if (!WRITES.has(target) || consumers().length === 0) return dynamo.handle(req, res);
      void (async () => {
        const raw = await readText(req);
        const input = JSON.parse(raw || '{}') as { TableName?: string; Key?: AttributeMap; Item?: AttributeMap };
        const key = input.Key ?? (input.Item ? { pk: input.Item.pk, sk: input.Item.sk } : undefined);
        if (key && !mayConcern(consumers(), key)) {
          const replay = replayRequest(req, raw);
          return dynamo.handle(replay, res);
        }
        const before = key && input.TableName ? await image(input.TableName, key) : undefined;
        const headers = Object.fromEntries(FORWARDED_HEADERS.filter((h) => req.headers[h]).map((h) => [h, String(req.headers[h])]));
        const answer = await fetch(dynamo.url, { method: 'POST', headers, body: raw });
        const text = await answer.text();
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.0' });
        res.end(text);
        if (!answer.ok || !key || !input.TableName) return;
        const after = await image(input.TableName, key);
        if (!before && !after) return;
        deliver({
          eventID: String(++sequence),
          eventName: !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY',
          eventSource: 'aws:dynamodb',
          awsRegion: 'us-east-1',
          dynamodb: { Keys: key, ...(after ? { NewImage: after } : {}), ...(before ? { OldImage: before } : {}), SequenceNumber: String(sequence).padStart(21, '0'), StreamViewType: 'NEW_AND_OLD_IMAGES' },
        });
      })().catch((err: unknown) => {
        if (!res.headersSent) sendDynamoInternalError(res, 500, (err as Error).message);
        else res.end();
      });
    },
  };
}
