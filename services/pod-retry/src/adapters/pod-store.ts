// POD documents in S3 (MinIO locally): one object per claim, `pods/<carrier>/<claimId>.<ext>`,
// with its content type and its SHA-256 — sent as the object's checksum, so S3 refuses bytes
// that changed on the way, and kept in the claim. Writing it again on a redelivery writes the
// same bytes to the same key: nothing to undo.
import { createHash } from 'node:crypto';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RetryableError } from '@tickflow/runtime';
import type { PodDocument } from './carrier-client.ts';

export interface StoredPod {
  /** `s3://<bucket>/<key>`. */
  location: string;
  contentType: string;
  /** Hex SHA-256 of the document. */
  sha256: string;
  bytes: number;
}

const EXTENSIONS: Record<string, string> = {
  'application/pdf': 'pdf',
  'application/json': 'json',
  'image/png': 'png',
  'image/jpeg': 'jpg',
};

export class PodStore {
  private bucketReady: Promise<void> | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(claim: { claimId: string; carrier: string }, document: PodDocument, signal?: AbortSignal): Promise<StoredPod> {
    await this.ensureBucket();
    const contentType = document.contentType.split(';')[0]?.trim().toLowerCase() || 'application/octet-stream';
    const key = `pods/${claim.carrier}/${encodeURIComponent(claim.claimId)}.${EXTENSIONS[contentType] ?? 'bin'}`;
    const digest = createHash('sha256').update(document.content).digest();
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: document.content,
          ContentType: contentType,
          ChecksumSHA256: digest.toString('base64'),
          Metadata: { 'claim-id': claim.claimId, carrier: claim.carrier },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw new RetryableError(
        `storing the POD of claim ${claim.claimId} in s3://${this.bucket}/${key}: ${(error as Error).name}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return { location: `s3://${this.bucket}/${key}`, contentType, sha256: digest.toString('hex'), bytes: document.content.length };
  }

  /** The bucket, made once if it is not there (a deployment usually has it already, and may not allow creating one). */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      try {
        await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
        await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((created: unknown) => {
          if ((created as Error).name !== 'BucketAlreadyOwnedByYou') throw created;
        });
      }
    })().catch((error: unknown) => {
      this.bucketReady = undefined;
      throw new RetryableError(`the POD bucket ${this.bucket} cannot be reached: ${(error as Error).name}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    return this.bucketReady;
  }
}
