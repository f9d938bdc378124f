/** The portal's bucket through the S3 API. */
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PortalBucket, PortalObject } from '../ports/portal.ts';
import { withAwsRetry } from './aws-retry.ts';

/** DeleteObjects takes at most 1,000 keys per call. */
const DELETE_BATCH = 1000;

export class S3PortalBucket implements PortalBucket {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async put(object: PortalObject): Promise<void> {
    await withAwsRetry(() =>
      this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: object.key, Body: object.body, ContentType: object.contentType, CacheControl: object.cacheControl })),
    );
  }

  async keys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await withAwsRetry(() => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, ...(token ? { ContinuationToken: token } : {}) })));
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const result = await withAwsRetry(() => this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
      const failed = result.Errors ?? [];
      if (failed.length) throw new Error(`S3 did not delete ${failed.length} object(s) of ${this.bucket}, e.g. ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ''}`.trim());
    }
  }
}
