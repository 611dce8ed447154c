// npm run bench -w services/metering
//
// One month of usage in MinIO as the exporter lays it out — 744 hourly files for 1,000
// contracts and the 4 base dimensions, about 3 million records — sent to the Clazar stand-in
// answering every call after 50 ms. tickflow: the real metering process; the clock runs from
// the tick sent to its month.completed event read back, and its peak RSS is read from /proc.
// Beside it, in the same run and on the same files, the seed's approach (bench/seed-approach.ts:
// each file read whole, one contract sent after another) against a stand-in of its own.
// Both must deliver every contract's four dimensions. Sizes: BENCH_CONTRACTS (1000), BENCH_HOURS (744);
// the metering requests topic's partitions (contracts sent at once): BENCH_PARTITIONS (16, the default).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually, startClazarStandIn } from '@tickflow/testing';
import { writeMonthExport } from '../scripts/export-writer.ts';
import { monthWindow } from '../src/domain/month.ts';
import { exportPrefix, parsePlan } from '../src/domain/plan.ts';
import { CLIENT_ID, CLIENT_SECRET, db, MeteringBed, s3 } from '../test/metering-bed.ts';

const CONTRACTS = Number(process.env.BENCH_CONTRACTS ?? 1000);
const HOURS = Number(process.env.BENCH_HOURS ?? 744);
const PARTITIONS = process.env.BENCH_PARTITIONS ?? '16'; // the service's default
const REPLY_MS = 50;
const PLAN = parsePlan('bench:prod:plan-1');
const MONTH = '2026-10'; // 31 days: 744 hours

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

const bed = new MeteringBed({
  METERING_PLANS: PLAN.id,
  METERING_START_MONTH: MONTH,
  METERING_PARTITIONS: PARTITIONS,
  DIMENSION_cpu_core_hours: 'cpu_core_hours',
  DIMENSION_memory_gib_hours: 'memory_byte_hours / 1073741824',
  DIMENSION_storage_gib_hours: 'storage_allocated_byte_hours / 1073741824',
  DIMENSION_replica_hours: 'replica_hours',
});
try {
  await bed.startClazar({ replyDelayMs: REPLY_MS });
  // The bucket exists once the service starts; the export goes in before the tick.
  const service = await bed.start();
  const writing = performance.now();
  const written = await writeMonthExport(s3, bed.bucket, PLAN, MONTH, { contracts: CONTRACTS, hours: HOURS, concurrency: 16 });
  console.log(
    `export: ${written.files} files, ${written.records} records, written in ${((performance.now() - writing) / 1000).toFixed(1)} s`,
  );

  const events = await bed.tap.read(`${bed.instance}.events`);
  const ticked = performance.now();
  const tickedAt = Date.now();
  await bed.tick('2026-11-01T00:10:00.000Z');
  const completed = await eventually(
    'the month to complete',
    async () => events.find((e) => e.type === 'tickflow.metering.month.completed'),
    600_000,
  );
  const tickflowMs = performance.now() - ticked;
  const tickflowRss = peakRss(service.child.pid as number);
  // The month is read and totalled before the first contract is sent: the split of the time.
  const computedAt = Date.parse(String(service.logged('month computed')[0]?.time));
  const readingMs = computedAt - tickedAt;
  if (process.env.PROF_DIR) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  if (completed.payload.sent !== CONTRACTS || bed.clazar.accepted().length !== CONTRACTS * 4) {
    throw new Error(`tickflow sent ${String(completed.payload.sent)} contracts, ${bed.clazar.accepted().length} lines accepted`);
  }

  const seedClazar = await startClazarStandIn({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, replyDelayMs: REPLY_MS });
  const { start, end } = monthWindow(MONTH);
  const script = fileURLToPath(new URL('./seed-approach.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', script, bed.bucket, exportPrefix(PLAN, MONTH), seedClazar.url, CLIENT_ID, CLIENT_SECRET, start, end],
    { maxBuffer: 1 << 20, env: { ...process.env, TICKFLOW_ENV: 'local' } },
  );
  const seed = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { ms: number; records: number; maxRssBytes: number };
  const seedLines = seedClazar.accepted().length;
  await seedClazar.close();
  if (seedLines !== CONTRACTS * 4) throw new Error(`the seed's approach got ${seedLines} lines accepted`);

  const rate = (records: number, ms: number) => `${Math.round(records / (ms / 1000)).toLocaleString('en')} records/s`;
  console.log(
    `\nmetering, one month: ${written.files} files, ${written.records} records, ${CONTRACTS} contracts, Clazar replies after ${REPLY_MS} ms`,
  );
  console.log(
    `  tickflow          ${(tickflowMs / 1000).toFixed(1)} s  ${rate(written.records, tickflowMs)}  peak RSS ${mb(tickflowRss)}  (${PARTITIONS} partitions)`,
  );
  console.log(
    `    of which reading and totalling the month ${(readingMs / 1000).toFixed(1)} s, sending the contracts ${((tickflowMs - readingMs) / 1000).toFixed(1)} s`,
  );
  console.log(`  seed's approach   ${(seed.ms / 1000).toFixed(1)} s  ${rate(seed.records, seed.ms)}  peak RSS ${mb(seed.maxRssBytes)}`);
  console.log(`  ratio             ${(seed.ms / tickflowMs).toFixed(1)}× faster`);
} finally {
  await bed.stop();
  await db.end();
}
