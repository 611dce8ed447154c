export { IncompatibleSchemaError, InvalidPayloadError, UndecodableError, type UndecodableReason } from './codec-errors.ts';
export { type DecodedEvent, EventCodec } from './event-codec.ts';
export {
  type AvroAnnotatedPrimitiveSchema,
  type AvroArraySchema,
  type AvroEnumSchema,
  type AvroFixedSchema,
  type AvroMapSchema,
  type AvroPrimitiveSchema,
  type AvroRecordField,
  type AvroRecordSchema,
  type AvroSchema,
  defineEvent,
  type EventContract,
} from './event-contract.ts';
export { type AggregationCompleted, aggregationCompleted, type SkippedUsageKey } from './events/aggregation-completed.ts';
export { type AggregationFailed, aggregationFailed } from './events/aggregation-failed.ts';
export { type AggregationRequested, aggregationRequested } from './events/aggregation-requested.ts';
export { type BackfillRequested, backfillRequested } from './events/backfill-requested.ts';
export { type JobFailed, jobFailed } from './events/job-failed.ts';
export {
  type MeteredDimension,
  type MeteringContractFailed,
  type MeteringContractSent,
  type MeteringMonthCompleted,
  type MeteringWarning,
  meteringContractFailed,
  meteringContractSent,
  meteringMonthCompleted,
} from './events/metering-outcomes.ts';
export {
  type MeteringContractRequested,
  type MeteringPlanMonthRequested,
  meteringContractRequested,
  meteringPlanMonthRequested,
} from './events/metering-requests.ts';
export {
  type PricingPriceChanged,
  type PricingRegionSyncRequested,
  type PricingSyncCompleted,
  type PricingWebhookDelivery,
  pricingPriceChanged,
  pricingRegionSyncRequested,
  pricingSyncCompleted,
  pricingWebhookDelivery,
} from './events/pricing.ts';
export { type SchedulerTick, schedulerTick } from './events/scheduler-tick.ts';
export { type PayloadProblem, payloadProblems } from './payload-problems.ts';
