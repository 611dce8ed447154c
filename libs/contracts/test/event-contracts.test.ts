// Each event's TypeScript type is written by hand next to its Avro schema; these tests are
// what keeps the two in step. Every example is typed as the interface, so tsc checks it
// against the type, and it must round-trip through the schema unchanged, so the registry-
// registered schema agrees with it too.
import { loadInfrastructure } from '@tickflow/runtime';
import { uniqueName } from '@tickflow/testing';
import avsc from 'avsc';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  defineEvent,
  EventCodec,
  type EventContract,
  InvalidPayloadError,
  type JobFailed,
  jobFailed,
  type PricingPriceChanged,
  type PricingRegionSyncRequested,
  type PricingSyncCompleted,
  type PricingWebhookDelivery,
  pricingPriceChanged,
  pricingRegionSyncRequested,
  pricingSyncCompleted,
  pricingWebhookDelivery,
  type SchedulerTick,
  schedulerTick,
} from '../src/index.ts';

interface EventCase<T> {
  contract: EventContract<T>;
  examples: T[];
  invalid: { value: unknown; field: string };
}

const schedulerTickCase: EventCase<SchedulerTick> = {
  contract: schedulerTick,
  examples: [
    { schedule: 'metering-monthly', scheduledTime: '2025-11-01T00:00:00.000Z', payload: {} },
    { schedule: 'reporting-weekly', scheduledTime: '2025-11-03T06:00:00.000Z', payload: { period: 'week', region: 'eu-west-1' } },
  ],
  invalid: {
    value: { schedule: 'metering-monthly', scheduledTime: '2025-11-01T00:00:00.000Z', payload: { retries: 3 } },
    field: 'payload.retries',
  },
};

const failure: JobFailed = {
  topic: 'metering.requests',
  key: 'contract-42',
  eventId: 'tick:metering-monthly:2025-11-01T00:00:00.000Z',
  eventType: 'tickflow.scheduler.tick',
  attempts: 5,
  reason: 'exhausted',
  errorClass: 'ClazarApiError',
  errorMessage: 'HTTP 503 from the metering API',
  firstFailedAt: '2025-11-01T00:00:01.000Z',
  failedAt: '2025-11-01T00:01:03.000Z',
  dlqReason: 'exhausted',
};

const jobFailedCase: EventCase<JobFailed> = {
  contract: jobFailed,
  examples: [
    failure,
    { ...failure, key: null, attempts: 1, reason: 'fatal' },
    { ...failure, reason: 'undecodable', eventType: '', errorMessage: '' },
  ],
  invalid: { value: { ...failure, reason: 'gave-up' }, field: 'reason' },
};

const regionSyncCase: EventCase<PricingRegionSyncRequested> = {
  contract: pricingRegionSyncRequested,
  examples: [
    {
      syncId: 'tick-1',
      cloud: 'aws',
      region: 'us-east-1',
      version: '20261201000000',
      url: '/offers/v1.0/aws/AmazonEC2/20261201000000/us-east-1/index.json',
      source: null,
    },
    {
      syncId: 'tick-1',
      cloud: 'azure',
      region: 'westeurope',
      version: '20261204020000',
      url: "https://prices.azure.com/api/retail/prices?$filter=armRegionName eq 'westeurope'",
      source: null,
    },
    { syncId: 'tick-1', cloud: 'aws', region: 'eu-west-1', version: '20261204020000', url: null, source: 'query-api' },
  ],
  invalid: { value: { syncId: 'tick-1', cloud: 'aws', region: 42, version: null, url: null, source: null }, field: 'region' },
};

const priceChangedCase: EventCase<PricingPriceChanged> = {
  contract: pricingPriceChanged,
  examples: [
    {
      cloud: 'aws',
      region: 'us-east-1',
      version: '20261202000000',
      previousVersion: '20261201000000',
      instanceType: 'm5.large',
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      licenseModel: 'No License required',
      preInstalledSoftware: 'NA',
      capacityStatus: 'Used',
      term: 'on-demand',
      change: 'up',
      currency: 'USD',
      oldHourly: '0.096',
      newHourly: '0.1',
      percent: '4.17',
    },
  ],
  invalid: {
    value: {
      cloud: 'aws',
      region: 'us-east-1',
      version: 'v2',
      previousVersion: 'v1',
      instanceType: 'm5.large',
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      licenseModel: 'x',
      preInstalledSoftware: 'NA',
      capacityStatus: 'Used',
      term: 'on-demand',
      change: 'sideways',
      currency: 'USD',
      oldHourly: null,
      newHourly: null,
      percent: null,
    },
    field: 'change',
  },
};

const syncCompletedCase: EventCase<PricingSyncCompleted> = {
  contract: pricingSyncCompleted,
  examples: [
    {
      syncId: 'tick-1',
      cloud: 'aws',
      region: 'us-east-1',
      result: 'synced',
      version: '20261202000000',
      previousVersion: null,
      rows: 850_000,
      changes: 0,
      problems: 1,
      missingAttributes: { vcpu: 2 },
      bytes: 4_500_000_000,
      durationMs: 41_000,
    },
  ],
  invalid: {
    value: {
      syncId: 'tick-1',
      cloud: 'aws',
      region: 'us-east-1',
      result: 'synced',
      version: null,
      previousVersion: null,
      rows: 1.5,
      changes: 0,
      problems: 0,
      missingAttributes: {},
      bytes: 0,
      durationMs: 0,
    },
    field: 'rows',
  },
};

const webhookDeliveryCase: EventCase<PricingWebhookDelivery> = {
  contract: pricingWebhookDelivery,
  examples: [
    {
      deliveryId: 'aws/us-east-1/20261202000000/7d3c',
      webhookId: '7d3c',
      cloud: 'aws',
      region: 'us-east-1',
      version: '20261202000000',
      previousVersion: '20261201000000',
    },
  ],
  invalid: {
    value: { deliveryId: 'd', webhookId: 'w', cloud: 'aws', region: 'us-east-1', version: 'v2', previousVersion: null },
    field: 'previousVersion',
  },
};

const cases = [
  schedulerTickCase,
  jobFailedCase,
  regionSyncCase,
  priceChangedCase,
  syncCompletedCase,
  webhookDeliveryCase,
] as EventCase<unknown>[];

describe.each(cases)('$contract.type', ({ contract, examples, invalid }) => {
  const avroType = avsc.Type.forSchema(contract.schema as unknown as avsc.Schema);
  const codec = new EventCodec({ registryUrl: loadInfrastructure().schemaRegistryUrl });
  // The same schema under a subject of this run's own, so tests never touch the real subject.
  const testContract = defineEvent<unknown>(uniqueName(contract.type), contract.schema);

  beforeAll(async () => {
    await codec.register([testContract]);
  });

  it.each(examples.map((example, index) => ({ index, example })))('example $index fits the schema and round-trips', async ({ example }) => {
    const problems: string[] = [];
    const valid = avroType.isValid(example, { noUndeclaredFields: true, errorHook: (path) => problems.push(path.join('.')) });
    expect(problems).toEqual([]);
    expect(valid).toBe(true);

    const decoded = await codec.decodeAs(testContract, await codec.encode(testContract, example));
    expect(decoded.payload).toEqual(example);
    expect(decoded.recordName).toBe(contract.recordName);
  });

  it('rejects a value that does not fit, naming the field', async () => {
    expect(avroType.isValid(invalid.value)).toBe(false);
    const error = await codec.encode(testContract, invalid.value).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).fields).toEqual([invalid.field]);
    expect((error as Error).message).toContain(invalid.field);
  });

  it('names its record in its own namespace', () => {
    expect(contract.recordName).toBe(`${contract.schema.namespace}.${contract.schema.name}`);
  });
});

describe('tickflow.job.failed as it changed', () => {
  it('stays registrable both ways with the schema before dlqReason, so a rollout can mix versions', async () => {
    const type = uniqueName('tickflow.test.job-failed-evolution');
    const current = jobFailed.schema;
    const previous = { ...current, fields: current.fields.filter((f) => f.name !== 'dlqReason') };
    const codec = () => new EventCodec({ registryUrl: loadInfrastructure().schemaRegistryUrl });
    // A new replica registers after an old one, then an old one restarts and registers again.
    await codec().register([defineEvent(type, previous)]);
    await codec().register([defineEvent(type, current)]);
    await codec().register([defineEvent(type, previous)]);
  });
});
