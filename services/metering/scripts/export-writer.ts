// Writes a month of usage into S3 as the original exporter lays it out: one JSON array per
// hour under `{plan prefix}/{DD}/{HH}/usage.json`, every contract with a record per dimension
// and hour, and the completeness marker moved through the month's last second. For the demo
// (`npm run demo-export -w services/metering`) and the benchmark; the values are fractional on
// purpose, so summing first and truncating each record give different bills.
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Month, monthWindow } from '../src/domain/month.ts';
import { COMPLETENESS_MARKER, exportPrefix, type Plan } from '../src/domain/plan.ts';

export const BASE_DIMENSIONS = ['cpu_core_hours', 'memory_byte_hours', 'storage_allocated_byte_hours', 'replica_hours'] as const;

export interface ExportShape {
  contracts: number;
  /** Hours of the month written, from its first; all of them unless given. */
  hours?: number;
  /** Files written at once. */
  concurrency?: number;
}

/** The value of one record: deterministic, so a run can be compared with another. */
export function recordValue(contract: number, dimension: number, hour: number): string {
  const base = [0.25, 2147483648.5, 10737418240.75, 0.5][dimension] ?? 1;
  return String(base * (1 + ((contract + hour) % 3)));
}

export const contractId = (n: number) => `contract-${String(n).padStart(5, '0')}`;

/** Writes the month; resolves with the number of files and records written. */
export async function writeMonthExport(
  s3: S3Client,
  bucket: string,
  plan: Plan,
  month: Month,
  shape: ExportShape,
): Promise<{ files: number; records: number }> {
  const prefix = exportPrefix(plan, month);
  const start = new Date(monthWindow(month).start).getTime();
  const end = new Date(monthWindow(month).end).getTime() + 1000;
  const hours = Math.min(shape.hours ?? Number.POSITIVE_INFINITY, (end - start) / 3_600_000);
  let next = 0;
  let records = 0;
  const writeOne = async (hour: number) => {
    const at = new Date(start + hour * 3_600_000);
    const timestamp = at.toISOString().replace('.000Z', 'Z');
    const lines: string[] = [];
    for (let c = 0; c < shape.contracts; c += 1) {
      for (const [d, dimension] of BASE_DIMENSIONS.entries()) {
        lines.push(
          JSON.stringify({ externalPayerId: contractId(c), dimension, value: recordValue(c, d, hour), pricePerUnit: '0.0125', timestamp }),
        );
      }
    }
    records += lines.length;
    const key = `${prefix}${timestamp.slice(8, 10)}/${timestamp.slice(11, 13)}/usage.json`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `[${lines.join(',\n')}]`, ContentType: 'application/json' }));
  };
  const worker = async () => {
    while (next < hours) await writeOne(next++);
  };
  await Promise.all(Array.from({ length: shape.concurrency ?? 8 }, worker));
  await markComplete(s3, bucket, plan, monthWindow(month).end);
  return { files: hours, records };
}

/** Moves the plan's entry of the completeness marker to `through`, keeping the other plans'. */
async function markComplete(s3: S3Client, bucket: string, plan: Plan, through: string): Promise<void> {
  let marker: Record<string, unknown> = {};
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: COMPLETENESS_MARKER }));
    marker = JSON.parse((await object.Body?.transformToString('utf-8')) ?? '{}') as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof NoSuchKey)) throw error;
  }
  marker[plan.id] = { last_processed_to: through };
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: COMPLETENESS_MARKER,
      Body: JSON.stringify(marker, null, 2),
      ContentType: 'application/json',
    }),
  );
}
