// The S3 client every service uses, made from the common S3 settings (infrastructure.ts). Path
// style, because MinIO and most S3-compatible stores serve buckets under the path, and an
// endpoint without a bucket host name works with them all.
import { S3Client } from '@aws-sdk/client-s3';
import type { Infrastructure } from './infrastructure.ts';

export function createS3Client(s3: Infrastructure['s3'], options: { maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    maxAttempts: options.maxAttempts ?? 3,
  });
}
