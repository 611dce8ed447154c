// Metering end to end on the real stack: an export in MinIO, the service as a process, the
// Clazar stand-in; what the stand-in accepted is compared with the expected bill, exactly.

import { randomBytes } from 'node:crypto';
import { eventually, stack } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { MeteringBed, type UsageRecord } from './metering-bed.ts';

const PLAN = 'svc:prod:plan-1';
const NEIGHBOUR = 'svc:prod:plan-10';
const MONTH = '2026-09';
const DIMENSIONS = {
  DIMENSION_cpu_core_hours: 'cpu_core_hours',
  DIMENSION_memory_gb_hours: 'memory_byte_hours / 1073741824',
  DIMENSION_cost_cents: 'cpu_core_hours_total_price * 100',
};

const rec = (externalPayerId: string, dimension: string, value: number | string, pricePerUnit: number | string = 0): UsageRecord => ({
  externalPayerId,
  dimension,
  value,
  pricePerUnit,
  timestamp: `${MONTH}-01T00:00:00Z`,
});

let bed: MeteringBed;
afterEach(async () => {
  await bed?.stop();
});

describe('metering', () => {
  it('sends each contract of a complete month once, summed exactly, and announces the month', async () => {
    bed = new MeteringBed({ ...DIMENSIONS, METERING_PLANS: `${PLAN},${NEIGHBOUR}`, METERING_START_MONTH: MONTH });
    await bed.startClazar();
    const prefix = 'omnistrate-metering/svc/prod/plan-1/2026/09/';
    // c1: 740 records of 0.5 core-hours over nested day/hour folders (370 in all, where truncating each gives 0).
    for (let day = 1; day <= 2; day += 1) {
      for (let hour = 0; hour < 10; hour += 1) {
        const records = Array.from({ length: 37 }, () => rec('c1', 'cpu_core_hours', 0.5, '0.013'));
        await bed.putFile(`${prefix}${String(day).padStart(2, '0')}/${String(hour).padStart(2, '0')}/usage.json`, records);
      }
    }
    await bed.putFile(`${prefix}c2.json`, [
      rec('c2', 'memory_byte_hours', 3 * 1073741824 + 5),
      rec('c2', 'cpu_core_hours', '0.1'),
      ...Array.from({ length: 9 }, () => rec('c2', 'cpu_core_hours', '0.1')),
      { dimension: 'cpu_core_hours', value: 5 },
      { externalPayerId: 'c2', value: 5 },
    ]);
    await bed.putFile(`${prefix}notes.txt`, 'not usage');
    // plan-10's files share plan-1's prefix but for its trailing slash: never part of plan-1.
    await bed.putFile('omnistrate-metering/svc/prod/plan-10/2026/09/usage.json', [rec('c9', 'cpu_core_hours', 1000)]);
    await bed.putMarker({ [PLAN]: `${MONTH}-30T23:59:59Z` });
    const service = await bed.start();
    const events = await bed.tap.read(`${bed.instance}.events`);
    const traceId = randomBytes(16).toString('hex');
    await bed.tick('2026-10-01T00:10:00.000Z', { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });

    const completed = await eventually(
      'the month to complete',
      async () => events.find((e) => e.type === 'tickflow.metering.month.completed'),
      30_000,
    );
    expect(completed.payload).toMatchObject({
      plan: PLAN,
      month: MONTH,
      contracts: 2,
      sent: 2,
      failed: 0,
      skipped: 0,
      files: 21,
      recordsRead: 753,
      recordsSkipped: 2,
      dryRun: false,
    });
    const accepted = bed.clazar.accepted().map(({ contract_id, dimension, quantity, start_time, end_time, cloud }) => ({
      contract_id,
      dimension,
      quantity,
      start_time,
      end_time,
      cloud,
    }));
    const window = { start_time: '2026-09-01T00:00:00Z', end_time: '2026-09-30T23:59:59Z', cloud: 'aws' };
    expect(accepted.sort((a, b) => `${a.contract_id}${a.dimension}`.localeCompare(`${b.contract_id}${b.dimension}`))).toEqual([
      { contract_id: 'c1', dimension: 'cost_cents', quantity: '481', ...window },
      { contract_id: 'c1', dimension: 'cpu_core_hours', quantity: '370', ...window },
      { contract_id: 'c1', dimension: 'memory_gb_hours', quantity: '0', ...window },
      { contract_id: 'c2', dimension: 'cost_cents', quantity: '0', ...window },
      { contract_id: 'c2', dimension: 'cpu_core_hours', quantity: '1', ...window },
      { contract_id: 'c2', dimension: 'memory_gb_hours', quantity: '3', ...window },
    ]);
    // One request per contract-month, with all its dimensions.
    expect(bed.clazar.http.requests('POST /metering/')).toHaveLength(2);
    // Each contract's event is keyed by its contract, so it may land on a partition the tap reads
    // after the month's announcement: wait for both rather than assume an order across partitions.
    const sentKeys = () =>
      events
        .filter((e) => e.type === 'tickflow.metering.contract.sent')
        .map((e) => e.key)
        .sort();
    await eventually('both contract.sent events', async () => (sentKeys().length >= 2 ? true : undefined), 10_000);
    expect(sentKeys()).toEqual(['c1', 'c2']);

    const status = await bed.status(service.url, PLAN, MONTH);
    expect(status).toMatchObject({ status: 'completed', files: 21, recordsRead: 753, recordsSkipped: 2, lastProcessedMonth: MONTH });
    expect(status.skippedByReason).toEqual({ 'no externalPayerId': 1, 'no dimension': 1 });
    const c1 = status.contracts.find((c) => c.contractId === 'c1');
    expect(c1?.status).toBe('sent');
    expect(c1?.accepted.every((a) => typeof a.resultId === 'string' && !a.duplicate)).toBe(true);

    // What happened is on /metrics too: records by outcome, contracts sent, Clazar calls by route and status.
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const sample = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(sample('tickflow_metering_records_read_total{outcome="counted"}')).toBe(751);
    expect(sample('tickflow_metering_records_read_total{outcome="skipped"}')).toBe(2);
    expect(sample('tickflow_metering_contracts_total{outcome="sent"}')).toBe(2);
    expect(sample('tickflow_metering_clazar_request_duration_seconds_count{route="metering",status="200"}')).toBe(2);
    expect(sample('tickflow_metering_clazar_request_duration_seconds_count{route="authenticate",status="200"}')).toBeGreaterThanOrEqual(1);

    // The plan-month is one trace: the tick, each S3 read, the fan-out, each contract's calls to Clazar and its events.
    const spans = await eventually(
      'the whole trace in Jaeger',
      async () => {
        const response = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
        if (!response.ok) return undefined;
        const body = (await response.json()) as { data: { spans: { traceID: string; operationName: string }[] }[] };
        const all = body.data.flatMap((t) => t.spans);
        const count = (name: string) => all.filter((s) => s.operationName === name).length;
        return count(`process ${bed.instance}.requests`) >= 4 &&
          count('s3 read') >= 21 &&
          count('clazar POST /metering/') >= 2 &&
          count(`send ${bed.instance}.events`) >= 3
          ? all
          : undefined;
      },
      40_000,
    );
    expect(new Set(spans.map((s) => s.traceID))).toEqual(new Set([traceId]));

    // A replayed tick sends nothing again: the month is processed, and a resent plan-month finds its bills sent.
    await bed.tick('2026-10-01T00:10:00.000Z');
    await bed.tick('2026-11-01T00:10:00.000Z');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(bed.clazar.accepted()).toHaveLength(6);
    expect(bed.clazar.http.requests('POST /metering/')).toHaveLength(2);
  });
});
