// What metering's tests share: the service as a real process with its own topics, PostgreSQL
// schema and S3 bucket; an export written into that bucket as the original exporter lays it
// out; a Clazar stand-in; and the events it writes, read back from Kafka.
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { schedulerTick } from '@tickflow/contracts';
import { createS3Client } from '@tickflow/runtime';
import {
  type ClazarStandIn,
  EventTap,
  type StartedServiceProcess,
  stack,
  startClazarStandIn,
  startServiceProcess,
  uniqueName,
} from '@tickflow/testing';
import pg from 'pg';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const s3 = createS3Client(stack.s3);
export const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });

export const CLIENT_ID = 'tickflow-test-client';
export const CLIENT_SECRET = 'clazar-secret-0123456789abcdef';

export interface UsageRecord {
  externalPayerId?: string;
  dimension?: string;
  value?: number | string;
  pricePerUnit?: number | string;
  timestamp?: string;
}

export class MeteringBed {
  readonly instance = uniqueName('meter');
  readonly schema = this.instance.replaceAll('-', '_');
  readonly bucket = this.instance;
  readonly tap = new EventTap();
  readonly processes: StartedServiceProcess[] = [];
  clazar!: ClazarStandIn;
  private bucketMade: Promise<unknown> | undefined;

  constructor(private readonly env: Record<string, string> = {}) {}

  async startClazar(options: { replyDelayMs?: number; unregisteredDimensions?: string[] } = {}): Promise<ClazarStandIn> {
    this.clazar = await startClazarStandIn({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...options });
    return this.clazar;
  }

  async start(env: Record<string, string> = {}): Promise<StartedServiceProcess> {
    await this.ensureBucket();
    const started = await startServiceProcess(main, {
      METERING_INSTANCE: this.instance,
      METERING_DB_SCHEMA: this.schema,
      METERING_S3_BUCKET: this.bucket,
      METERING_RETRY_TIERS: '1s,2s',
      METERING_PARTITIONS: '3',
      CLAZAR_API_URL: this.clazar?.url ?? 'http://127.0.0.1:9',
      CLAZAR_CLIENT_ID: CLIENT_ID,
      CLAZAR_CLIENT_SECRET: CLIENT_SECRET,
      CLAZAR_TIMEOUT: '2s',
      ...this.env,
      ...env,
    });
    this.processes.push(started);
    return started;
  }

  private ensureBucket(): Promise<unknown> {
    this.bucketMade ??= s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    return this.bucketMade;
  }

  /** Writes an object of the export: `records` as a JSON array, or `text` as it is (for malformed files). */
  async putFile(key: string, content: UsageRecord[] | string): Promise<void> {
    await this.ensureBucket();
    const body = typeof content === 'string' ? content : JSON.stringify(content);
    await s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  }

  /** The completeness marker: each plan exported through the given instant. */
  async putMarker(completeThrough: Record<string, string>): Promise<void> {
    const marker = Object.fromEntries(Object.entries(completeThrough).map(([plan, to]) => [plan, { last_processed_to: to }]));
    await this.putFile('omnistrate-metering/last_success_export.json', JSON.stringify(marker));
  }

  /** Sends a tick of the monthly schedule, as the scheduler would. */
  tick(scheduledTime = new Date().toISOString(), headers: Record<string, string> = {}) {
    return this.tap.send(
      `${this.instance}.requests`,
      schedulerTick,
      { schedule: 'metering-monthly', scheduledTime, payload: {} },
      'tick',
      headers,
    );
  }

  async status(url: string, plan: string, month: string, token?: string): Promise<MonthStatus> {
    const response = await fetch(`${url}/v1/metering/${encodeURIComponent(plan)}/${month}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (!response.ok) throw new Error(`status answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as MonthStatus;
  }

  async stop(): Promise<void> {
    for (const p of this.processes.splice(0)) p.child.kill('SIGKILL');
    await this.tap.close();
    await this.clazar?.close().catch(() => undefined);
    await db.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => undefined);
    if (this.bucketMade) await emptyAndDeleteBucket(this.bucket).catch(() => undefined);
  }
}

export interface MonthStatus {
  status: string;
  files: number;
  recordsRead: number;
  recordsSkipped: number;
  skippedByReason: Record<string, number>;
  error: string | null;
  lastProcessedMonth: string | null;
  counts: Record<string, number>;
  contracts: {
    contractId: string;
    status: string;
    bill: { dimension: string; quantity: string }[];
    accepted: { dimension: string; quantity: string; resultId: string | null; duplicate: boolean }[];
    warnings: { dimension: string; status: string }[];
    payload: { request: { dimension: string; quantity: string }[] } | null;
    skipReason: string | null;
    code: string | null;
    message: string | null;
    sends: number;
    retryCount: number;
  }[];
}

async function emptyAndDeleteBucket(bucket: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
    if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
