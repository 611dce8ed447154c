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
  EventCodec,
  type EventContract,
  schedulerTick,
} from '@tickflow/contracts';
import { KafkaJsTransport, type Log, Router } from '@tickflow/messaging';
import { stack } from '@tickflow/testing';
import { describe, expect, it } from 'vitest';
import { topicSpecs } from '../src/topics.ts';
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
  it("are the router's own list for the aggregator's routes", () => {
    const silent: Log = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
    for (const [instance, retry] of [
      ['aggregator', ['5s', '30s', '2m', '10m']],
      ['agg-test', ['1s']],
    ] as const) {
      // A router that is never started: its transport and codec are never used.
      const router = new Router({
        service: instance,
        transport: new KafkaJsTransport({ clientId: 'topics-test', brokers: stack.kafkaBrokers }),
        codec: new EventCodec({ registryUrl: stack.schemaRegistryUrl }),
        log: silent,
      });
      router.route(`${instance}.requests`, schedulerTick, async () => undefined, { retry: [...retry] });
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(topicSpecs(instance, [...retry]).sort(byName)).toEqual(router.topicSpecs().sort(byName));
    }
    expect(topicSpecs().map((t) => t.name)).toContain('aggregator.requests.retry.10m');
  });
});
