// The usage export in S3, as the original exporter writes it: per plan and month, every
// `.json` object under `omnistrate-metering/{service}/{environment}/{plan}/{YYYY}/{MM}/`
// (nested `DD/HH/` folders included), each a JSON array of usage records; and the completeness
// marker saying how far each plan is exported. Objects are streamed (json-stream.ts): a month
// of hourly files is never in memory, only the totals are.
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { FatalError, JsonStreamError, RetryableError, streamJsonBatches } from '@tickflow/runtime';
import type { Month } from '../domain/month.ts';
import { COMPLETENESS_MARKER, exportPrefix, type Plan } from '../domain/plan.ts';

/** An object of the export that is not what the export writes: the plan-month fails, naming it. */
export class MalformedExportError extends FatalError {
  override name = 'MalformedExportError';
}

export interface UsageExport {
  /** How far each plan is exported (`last_processed_to`), by `service:environment:plan`. */
  completeness(): Promise<Map<string, Date>>;
  /** The keys of the month's `.json` objects, in key order. */
  listFiles(plan: Plan, month: Month, signal?: AbortSignal): Promise<string[]>;
  /** The records of one object, a batch at a time (numbers as their text). */
  recordBatches(key: string, signal?: AbortSignal): AsyncGenerator<unknown[]>;
}

export class S3UsageExport implements UsageExport {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async completeness(): Promise<Map<string, Date>> {
    let text: string;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: COMPLETENESS_MARKER }));
      text = (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (error instanceof NoSuchKey) return new Map();
      throw storageError(`reading s3://${this.bucket}/${COMPLETENESS_MARKER}`, error);
    }
    let marker: unknown;
    try {
      marker = JSON.parse(text);
    } catch (error) {
      throw new MalformedExportError(`s3://${this.bucket}/${COMPLETENESS_MARKER} is not JSON: ${(error as Error).message}`);
    }
    if (typeof marker !== 'object' || marker === null || Array.isArray(marker)) {
      throw new MalformedExportError(`s3://${this.bucket}/${COMPLETENESS_MARKER} is not an object of plans`);
    }
    const complete = new Map<string, Date>();
    for (const [plan, entry] of Object.entries(marker)) {
      const to = (entry as { last_processed_to?: unknown } | null)?.last_processed_to;
      const instant = typeof to === 'string' ? new Date(to) : undefined;
      // A plan whose entry cannot be read is not complete anywhere: nothing of it is sent.
      if (instant && !Number.isNaN(instant.getTime())) complete.set(plan, instant);
    }
    return complete;
  }

  async listFiles(plan: Plan, month: Month, signal?: AbortSignal): Promise<string[]> {
    const prefix = exportPrefix(plan, month);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      try {
        const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), {
          abortSignal: signal,
        });
        for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } catch (error) {
        throw storageError(`listing s3://${this.bucket}/${prefix}`, error);
      }
    } while (token);
    return keys.sort();
  }

  async *recordBatches(key: string, signal?: AbortSignal): AsyncGenerator<unknown[]> {
    let body: AsyncIterable<Uint8Array>;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      body = object.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      throw storageError(`reading s3://${this.bucket}/${key}`, error);
    }
    const batches = streamJsonBatches(body, {
      select: (path) => path.length === 1,
      root: 'array',
      source: `s3://${this.bucket}/${key}`,
      maxValueChars: 1024 * 1024,
    });
    try {
      for await (const batch of batches) yield batch.map((item) => item.value);
    } catch (error) {
      if (error instanceof JsonStreamError) throw new MalformedExportError(error.message, { cause: error });
      throw storageError(`reading s3://${this.bucket}/${key}`, error);
    }
  }
}

/** S3 unreachable or failing: worth retrying. Access denied or a missing bucket is a setting to fix, but retrying costs little and heals once fixed. */
function storageError(what: string, error: unknown): RetryableError {
  const name = (error as { name?: string }).name ?? 'Error';
  return new RetryableError(`${what}: ${name}: ${(error as Error).message}`, { cause: error });
}
