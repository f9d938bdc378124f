/**
 * Fault injection on the local cloud's DynamoDB path: a share of the matching requests "time out",
 * i.e. the edge drops the connection without an answer. The SDK's caller sees a socket hang-up
 * (ECONNRESET), which its standard retry strategy treats as a transient timeout. Settable at runtime.
 */

export interface DynamoFaultKnobs {
  /** Probability 0..1 that a matching request is dropped. */
  rate: number;
  /** Only requests naming an item whose partition key starts with this (default: any). */
  pkPrefix?: string;
  /** Only these operations (default: the writes). */
  operations?: readonly string[];
}

export const DYNAMO_WRITE_OPERATIONS = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'] as const;

type Attr = { S?: unknown } | undefined;
type Json = Record<string, any>;

/** The partition keys (`pk`) of the items a DynamoDB request names: its keys, items and, for a Query, the `:pk` value. */
export function requestPartitionKeys(operation: string, input: Json): string[] {
  const pk = (key: Json | undefined) => (key?.pk as Attr)?.S;
  const found: unknown[] = [];
  if (operation === 'Query') found.push((input.ExpressionAttributeValues?.[':pk'] as Attr)?.S);
  found.push(pk(input.Key), pk(input.Item));
  for (const t of (input.TransactItems ?? []) as Json[]) for (const part of Object.values(t)) found.push(pk((part as Json).Key), pk((part as Json).Item));
  for (const table of Object.values((input.RequestItems ?? {}) as Json)) {
    if (Array.isArray(table)) for (const r of table) found.push(pk(r.PutRequest?.Item), pk(r.DeleteRequest?.Key));
    else for (const k of ((table as Json).Keys ?? []) as Json[]) found.push(pk(k));
  }
  return found.filter((x): x is string => typeof x === 'string');
}

export class DynamoFaults {
  private knobs: DynamoFaultKnobs | undefined;
  /** Requests dropped so far. */
  injected = 0;

  /** Undefined turns injection off. */
  set(knobs: DynamoFaultKnobs | undefined): void {
    this.knobs = knobs;
  }

  /** Whether this request is to be dropped (counted when it is). */
  drops(operation: string, input: Json): boolean {
    const k = this.knobs;
    if (!k || !(k.operations ?? DYNAMO_WRITE_OPERATIONS).includes(operation)) return false;
    if (k.pkPrefix !== undefined && !requestPartitionKeys(operation, input).some((pk) => pk.startsWith(k.pkPrefix!))) return false;
    if (Math.random() >= k.rate) return false;
    this.injected++;
    return true;
  }
}
