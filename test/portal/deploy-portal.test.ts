/**
 * The deployPortal custom resource end to end, with the real S3 client against an S3
 * endpoint (moto_server, or CONFORMANCE_ENDPOINT) and CloudFormation's response URL as a
 * local HTTP server: what lands in the bucket with which headers, what CloudFormation is
 * told, and that every failure is answered with a reason.
 */
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendCustomResourceResponse } from '../../lib/adapters/cloudformation-response.ts';
import { DirectoryPortalBuild } from '../../lib/adapters/portal-build-directory.ts';
import { S3PortalBucket } from '../../lib/adapters/s3-portal-bucket.ts';
import { portalResourceHandler } from '../../lib/composition/portal.ts';
import { UNCREATED_PORTAL_ID, type CustomResourceEvent, type PortalResourceDeps } from '../../lib/portal/custom-resource.ts';
import { startExternalEndpoint, type ExternalEndpoint } from '../conformance/moto.ts';

let endpoint: ExternalEndpoint;
let s3: S3Client;
let buildDir: string;
let responses: Server;
let responseUrl: string;
/** What CloudFormation received: each PUT's content type and body. */
let received: Array<{ contentType: string | undefined; body: Record<string, any> }>;
/** Answers the next PUTs with these statuses (then 200). */
let failNext: number[];

const INDEX = '<!doctype html><html lang="en"><head><script type="module" src="/assets/app-9c1f.js"></script></head><body></body></html>';

beforeAll(async () => {
  endpoint = await startExternalEndpoint();
  s3 = new S3Client({ endpoint: endpoint.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  responses = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = failNext.shift() ?? 200;
      if (status === 200) received.push({ contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any> });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => responses.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(responses.address() as AddressInfo).port}/cloudformation-response?X-Amz-Signature=abc`;
}, 60_000);

afterAll(async () => {
  responses?.closeAllConnections();
  await new Promise((resolve) => responses?.close(resolve));
  s3?.destroy();
  await endpoint?.stop();
});

beforeEach(async () => {
  received = [];
  failNext = [];
  buildDir = await mkdtemp(path.join(tmpdir(), 'portal-build-'));
  await mkdir(path.join(buildDir, 'assets'), { recursive: true });
  await writeFile(path.join(buildDir, 'index.html'), INDEX);
  await writeFile(path.join(buildDir, 'assets', 'app-9c1f.js'), 'console.log("portal")');
  await writeFile(path.join(buildDir, 'assets', 'app-9c1f.css'), 'body{margin:0}');
  return () => rm(buildDir, { recursive: true, force: true });
});

async function newBucket(): Promise<string> {
  const name = `portal-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

const logs: string[] = [];
function handler(dir = buildDir) {
  const deps: PortalResourceDeps = {
    bucketNamed: (name) => new S3PortalBucket(s3, name),
    build: new DirectoryPortalBuild(dir),
    respond: sendCustomResourceResponse,
    log: (message) => logs.push(message),
  };
  return portalResourceHandler(() => deps);
}

function event(requestType: CustomResourceEvent['RequestType'], properties: Record<string, unknown>, physicalId?: string): CustomResourceEvent {
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/jit/1',
    RequestId: randomUUID(),
    LogicalResourceId: 'PortalContent',
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:deployPortal', ...properties },
  };
}

const settings = (bucket: string) => ({
  Release: '1',
  BucketName: bucket,
  ApiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com',
  Issuer: 'https://idp.example.com/',
  ClientId: 'portal-client',
  SsoStartUrl: 'https://d-1234567890.awsapps.com/start',
});

const keysOf = async (bucket: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();
const text = async (bucket: string, key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

describe('deployPortal on Create and Update', () => {
  it('writes the build with its cache headers and portal-config.json with the stack values, and tells CloudFormation', async () => {
    const bucket = await newBucket();
    const e = event('Create', settings(bucket));
    const response = await handler()(e);

    expect(await keysOf(bucket)).toEqual(['assets/app-9c1f.css', 'assets/app-9c1f.js', 'index.html', 'portal-config.json']);
    const asset = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'assets/app-9c1f.js' }));
    expect(asset.ContentType).toBe('text/javascript; charset=utf-8');
    expect(asset.CacheControl).toBe('public, max-age=31536000, immutable');
    const page = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'index.html' }));
    expect(page.ContentType).toBe('text/html; charset=utf-8');
    expect(page.CacheControl).toBe('no-cache');
    expect(await text(bucket, 'index.html')).toBe(INDEX);
    expect(JSON.parse(await text(bucket, 'portal-config.json'))).toEqual({
      apiUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com',
      issuer: 'https://idp.example.com',
      clientId: 'portal-client',
      ssoStartUrl: 'https://d-1234567890.awsapps.com/start',
      scopes: 'openid email profile',
    });

    expect(received).toHaveLength(1);
    // The response URL is pre-signed without a content type.
    expect(received[0]!.contentType).toBe('');
    expect(received[0]!.body).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: bucket,
      StackId: e.StackId,
      RequestId: e.RequestId,
      LogicalResourceId: 'PortalContent',
      Data: { Objects: 4 },
    });
    expect(response.Status).toBe('SUCCESS');
  });

  it('changes the settings without a rebuild, keeps the assets an open page may still load, and never ships a built portal-config.json', async () => {
    const bucket = await newBucket();
    await handler()(event('Create', settings(bucket)));
    await writeFile(path.join(buildDir, 'portal-config.json'), '{"apiUrl":"http://baked-in"}');
    await rm(path.join(buildDir, 'assets', 'app-9c1f.js'));
    await writeFile(path.join(buildDir, 'assets', 'app-77aa.js'), 'console.log("next")');

    await handler()(event('Update', { ...settings(bucket), Release: '2', ClientId: 'other-client' }, bucket));
    expect(received.at(-1)!.body.Status).toBe('SUCCESS');
    expect(await keysOf(bucket)).toEqual(['assets/app-77aa.js', 'assets/app-9c1f.css', 'assets/app-9c1f.js', 'index.html', 'portal-config.json']);
    const config = JSON.parse(await text(bucket, 'portal-config.json')) as { clientId: string; apiUrl: string };
    expect(config.clientId).toBe('other-client');
    expect(config.apiUrl).toBe('https://abc123.execute-api.us-east-1.amazonaws.com');
  });

  it('fails with every reason when the settings are wrong, writing nothing', async () => {
    const bucket = await newBucket();
    const response = await handler()(event('Create', { ...settings(bucket), ApiUrl: 'http://abc123.execute-api.us-east-1.amazonaws.com', ClientId: '', SsoStartUrl: 'not a url' }));
    expect(response.Status).toBe('FAILED');
    expect(received[0]!.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: UNCREATED_PORTAL_ID });
    const reason = String(received[0]!.body.Reason);
    expect(reason).toMatch(/^Portal create failed: /);
    expect(reason).toContain('ApiUrl (the HTTP API URL) must be an https:// URL');
    expect(reason).toContain('ClientId (the portalClientId deploy parameter) must not be empty');
    expect(reason).toContain('SsoStartUrl (the ssoStartUrl deploy parameter) must be a URL');
    expect(await keysOf(bucket)).toEqual([]);
  });

  it('fails, saying how to build it, when the package carries no portal build', async () => {
    const bucket = await newBucket();
    const empty = await mkdtemp(path.join(tmpdir(), 'portal-empty-'));
    try {
      const response = await handler(path.join(empty, 'portal-dist'))(event('Create', settings(bucket)));
      expect(response.Status).toBe('FAILED');
      expect(received[0]!.body.Reason).toMatch(/holds no portal build \(index\.html missing\): run `npm run build:portal` before `sls deploy`/);
      expect(await keysOf(bucket)).toEqual([]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('answers FAILED with the S3 error when the bucket does not exist', async () => {
    const response = await handler()(event('Create', settings(`portal-missing-${randomUUID().slice(0, 8)}`)));
    expect(response.Status).toBe('FAILED');
    expect(String(received[0]!.body.Reason)).toMatch(/bucket/i);
  });

  it('retries the response when the response URL answers 5xx', async () => {
    const bucket = await newBucket();
    failNext = [503, 500];
    await handler()(event('Create', settings(bucket)));
    expect(received).toHaveLength(1);
    expect(received[0]!.body.Status).toBe('SUCCESS');
  });
});

describe('deployPortal on Delete', () => {
  it('empties the bucket (every page of it, earlier releases included) so the stack can delete it', async () => {
    const bucket = await newBucket();
    await handler()(event('Create', settings(bucket)));
    // More than one page of ListObjectsV2 and one DeleteObjects batch (1,000 keys each).
    for (let i = 0; i < 1050; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `assets/old-${i + j}.js`, Body: 'x' }))));
    const response = await handler()(event('Delete', settings(bucket), bucket));
    expect(response.Status).toBe('SUCCESS');
    expect(received.at(-1)!.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: bucket, Data: { Removed: 1054 } });
    expect(await keysOf(bucket)).toEqual([]);
  });

  it('succeeds without touching S3 when the resource was never created', async () => {
    const response = await handler()(event('Delete', {}, UNCREATED_PORTAL_ID));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: UNCREATED_PORTAL_ID });
    expect(received[0]!.body.Status).toBe('SUCCESS');
  });
});
