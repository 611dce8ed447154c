// What the aggregator declares to others: its event contracts (each TypeScript type agrees
// with its Avro schema: the examples are typed, and round-trip through the schema registry's
// wire format unchanged) and its topics (the list `tickflow topics provision` reads is the
// list the router provisions at start).
import {
  type AggregationCompleted,
  type AggregationFailed,
  type AggregationRequested,
  aggregationCompleted,
  aggregationFailed,
  aggregationRequested,
  type BackfillRequested,
  backfillRequested,
  type EventContract,
} from '@tickflow/contracts';
import { topicSpecsOf } from '@tickflow/messaging';
import { describe, expect, it } from 'vitest';
import { service } from '../src/service.ts';
import { codec } from './aggregator-bed.ts';

const completed: AggregationCompleted = {
  runId: '6f1c1c9e-8a43-4f7e-9a55-0d2c8f0e8f11',
  date: '2026-11-22',
  merchantId: null,
  keysRead: 1_000_000,
  rowsWritten: 999_998,
  recoveredBatches: 1,
  errorCount: 2,
  errors: [
    { key: 'usage:m1:2026-11-22:tokens', reason: 'unknown metric type tokens' },
    { key: 'usage:m2:2026-11-22:queries', reason: 'value is not a non-negative integer below 10^18' },
  ],
  durationMs: 14_210,
  startedAt: '2026-11-22T13:00:00.412Z',
  finishedAt: '2026-11-22T13:00:14.622Z',
};

const failed: AggregationFailed = {
  ...completed,
  merchantId: 'm1',
  attempt: 2,
  errorClass: 'UsageRepositoryError',
  errorMessage: 'PostgreSQL: migrations not applied: connect ECONNREFUSED 127.0.0.1:5432',
};

const cases: [EventContract<unknown>, unknown[]][] = [
  [
    aggregationRequested,
    [
      { date: '2026-11-22', merchantId: null },
      { date: '2026-11-22', merchantId: 'm1' },
    ] satisfies AggregationRequested[],
  ],
  [backfillRequested, [{ from: '2026-01-01', to: '2026-12-31', merchantId: null }] satisfies BackfillRequested[]],
  [aggregationCompleted, [completed, { ...completed, errors: [], errorCount: 0 }]],
  [aggregationFailed, [failed]],
];

describe('aggregator contracts', () => {
  it('round-trip their examples through the registry wire format', async () => {
    await codec.register(cases.map(([contract]) => contract));
    for (const [contract, examples] of cases) {
      expect(contract.type).toMatch(/^tickflow\.aggregator\./);
      for (const example of examples) {
        const decoded = await codec.decodeAs(contract, await codec.encode(contract, example));
        expect(decoded.payload).toEqual(example);
      }
    }
  });
});

describe('aggregator topics', () => {
  it('are declared once, by the service definition the CLI provisions from too, and follow the configuration', () => {
    const ladder = ['1s', '10s', '1m', '10m', '1h'];
    expect(topicSpecsOf(service, {}).map((t) => t.name)).toEqual([
      'aggregator.events',
      'aggregator.requests',
      ...['5s', '30s', '2m', '10m'].map((tier) => `aggregator.requests.retry.${tier}`),
      ...ladder.map((step) => `aggregator.requests.delay.${step}`),
      'aggregator.requests.dlq',
    ]);
    const names = topicSpecsOf(service, { AGGREGATOR_INSTANCE: 'agg-test', AGGREGATOR_RETRY_TIERS: '1s' }).map((t) => t.name);
    expect(names).toContain('agg-test.requests.retry.1s');
    expect(names.filter((n) => n.includes('.retry.'))).toHaveLength(1);
  });

  it('refuse a bad retry tier list, naming the variable', () => {
    expect(() => topicSpecsOf(service, { AGGREGATOR_RETRY_TIERS: '5s,soon' })).toThrow(
      /AGGREGATOR_RETRY_TIERS: must be a comma-separated list/,
    );
  });
});
