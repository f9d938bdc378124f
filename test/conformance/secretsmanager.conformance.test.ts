/**
 * Conformance: the local Secrets Manager against moto_server (or CONFORMANCE_ENDPOINT). The same
 * calls go through the real SecretsManagerClient to both, and the observable results (fields,
 * error codes), with account ids, the run id and the ARNs' random suffixes normalised, must be
 * equal: CreateSecret (with and without a value, a retry with the same token, a duplicate),
 * GetSecretValue by name, full ARN and partial ARN, DescribeSecret, and the missing cases.
 *
 * Compared only on the local cloud: HTTP status codes. AWS (and the service model's awsJson
 * errors) answer 400 for ResourceNotFoundException; moto 5.2.1 sends 404. Error codes are compared
 * on both; the local 400s are checked on their own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startEdge, type Edge } from '../../local/edge.ts';
import { LocalSecretsManager } from '../../local/secretsmanager.ts';
import { startExternalEndpoint, type ExternalEndpoint } from './moto.ts';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const REGION = 'us-east-1';
/** AWS's shape: the name, a hyphen and six random alphanumeric characters. */
const ARN = /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:(.+)-[A-Za-z0-9]{6}$/;

async function observe(endpoint: string, runId: string, statuses = new Map<string, number | undefined>()): Promise<unknown[]> {
  const client = new SecretsManagerClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  const out: unknown[] = [];
  const record = async <T>(step: string, call: () => Promise<T>, pick: (r: T) => unknown = () => 'ok'): Promise<T | undefined> => {
    try {
      const result = await call();
      out.push([step, pick(result)]);
      return result;
    } catch (e) {
      out.push([step, 'error', (e as Error).name]);
      statuses.set(step, (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode);
      return undefined;
    }
  };
  /** An ARN as a shape: the name it carries, with the random suffix checked and dropped. */
  const arnShape = (arn: string | undefined) => (arn && ARN.test(arn) ? `ARN(${ARN.exec(arn)![1]})` : `not an ARN: ${arn}`);
  const name = `conf-${runId}/cursor-key`;
  const token = randomUUID();

  const created = await record(
    'create',
    () => client.send(new CreateSecretCommand({ Name: name, SecretString: 'first-value', Description: 'conformance', ClientRequestToken: token })),
    (r) => ({ ARN: arnShape(r.ARN), Name: r.Name, VersionId: r.VersionId === token }),
  );
  const arn = created?.ARN ?? '';
  await record(
    'create retried with the same token and value',
    () => client.send(new CreateSecretCommand({ Name: name, SecretString: 'first-value', Description: 'conformance', ClientRequestToken: token })),
    (r) => ({ sameArn: r.ARN === arn, Name: r.Name }),
  );
  await record('create duplicate', () => client.send(new CreateSecretCommand({ Name: name, SecretString: 'other-value' })));
  const value = (r: { ARN?: string; Name?: string; SecretString?: string; VersionStages?: string[]; VersionId?: string; CreatedDate?: Date }) => ({
    sameArn: r.ARN === arn,
    Name: r.Name,
    SecretString: r.SecretString,
    VersionStages: r.VersionStages,
    VersionId: r.VersionId === token,
    hasCreatedDate: r.CreatedDate instanceof Date,
  });
  await record('get by name', () => client.send(new GetSecretValueCommand({ SecretId: name })), value);
  await record('get by ARN', () => client.send(new GetSecretValueCommand({ SecretId: arn })), value);
  await record('get by partial ARN', () => client.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) })), value);
  await record('get AWSCURRENT', () => client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' })), value);
  await record('get by ARN with another suffix', () => client.send(new GetSecretValueCommand({ SecretId: `${arn.slice(0, -6)}${arn.endsWith('zzzzzz') ? 'yyyyyy' : 'zzzzzz'}` })));
  await record('get missing', () => client.send(new GetSecretValueCommand({ SecretId: `missing-${runId}` })));
  await record(
    'describe',
    () => client.send(new DescribeSecretCommand({ SecretId: name })),
    (r) => ({
      ARN: arnShape(r.ARN),
      sameArn: r.ARN === arn,
      Name: r.Name,
      Description: r.Description,
      stages: Object.entries(r.VersionIdsToStages ?? {}).map(([id, stages]) => [id === token, stages]),
      hasCreatedDate: r.CreatedDate instanceof Date,
    }),
  );
  await record('describe by ARN', () => client.send(new DescribeSecretCommand({ SecretId: arn })), (r) => ({ sameArn: r.ARN === arn, Name: r.Name }));
  await record('describe missing', () => client.send(new DescribeSecretCommand({ SecretId: `missing-${runId}` })));
  await record('create without a value', () => client.send(new CreateSecretCommand({ Name: `conf-${runId}/empty` })), (r) => ({ ARN: arnShape(r.ARN), Name: r.Name, VersionId: r.VersionId }));
  await record('get value of a secret without one', () => client.send(new GetSecretValueCommand({ SecretId: `conf-${runId}/empty` })));
  await record('describe a secret without a value', () => client.send(new DescribeSecretCommand({ SecretId: `conf-${runId}/empty` })), (r) => ({ Name: r.Name, VersionIdsToStages: r.VersionIdsToStages }));
  client.destroy();
  return JSON.parse(JSON.stringify(out).replaceAll(runId, 'RUN').replace(/:\d{12}:/g, ':ACCOUNT:'));
}

describe('Secrets Manager conformance: local cloud vs moto_server', () => {
  let external: ExternalEndpoint;
  let edge: Edge;

  beforeAll(async () => {
    external = await startExternalEndpoint();
    edge = await startEdge({ port: 0, jsonServices: [new LocalSecretsManager()], log: () => {} });
  }, 120_000);
  afterAll(async () => {
    await edge?.close();
    await external?.stop();
  });

  it('answers CreateSecret, GetSecretValue and DescribeSecret the same way', async () => {
    const runId = randomUUID().slice(0, 8);
    const localStatuses = new Map<string, number | undefined>();
    const [local, reference] = await Promise.all([observe(edge.url, runId, localStatuses), observe(external.url, runId)]);
    expect(local).toEqual(reference);
    // The comparison is only worth something if the scenario did what it says.
    expect(local).toContainEqual(['create', { ARN: 'ARN(conf-RUN/cursor-key)', Name: 'conf-RUN/cursor-key', VersionId: true }]);
    expect(local).toContainEqual(['create duplicate', 'error', 'ResourceExistsException']);
    expect(local).toContainEqual([
      'get by partial ARN',
      { sameArn: true, Name: 'conf-RUN/cursor-key', SecretString: 'first-value', VersionStages: ['AWSCURRENT'], VersionId: true, hasCreatedDate: true },
    ]);
    expect(local).toContainEqual(['get missing', 'error', 'ResourceNotFoundException']);
    expect(local).toContainEqual(['get value of a secret without one', 'error', 'ResourceNotFoundException']);
    for (const step of ['get missing', 'describe missing', 'get by ARN with another suffix', 'get value of a secret without one']) expect(localStatuses.get(step), step).toBe(400);
  }, 60_000);
});
