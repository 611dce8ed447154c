import { type AvroRecordField, defineEvent } from '../event-contract.ts';

/** A usage key the run left where it was, and why (malformed key, value not a counter). */
export interface SkippedUsageKey {
  key: string;
  reason: string;
}

/** One aggregation run moved a date's counters into PostgreSQL; on `aggregator.events`. */
export interface AggregationCompleted {
  runId: string;
  /** YYYY-MM-DD (UTC). */
  date: string;
  merchantId: string | null;
  /** Counters moved out of Redis by this run. */
  keysRead: number;
  /** merchant_usage rows inserted or added to, batches left by earlier runs included. */
  rowsWritten: number;
  /** Batches left pending by an interrupted run and finished by this one. */
  recoveredBatches: number;
  /** How many keys were skipped; `errors` lists the first of them. */
  errorCount: number;
  errors: SkippedUsageKey[];
  durationMs: number;
  /** ISO 8601 */
  startedAt: string;
  /** ISO 8601 */
  finishedAt: string;
}

/** The `errors` field of both run events: the skipped keys a run lists. */
export const skippedUsageKeysField: AvroRecordField = {
  name: 'errors',
  type: {
    type: 'array',
    items: {
      type: 'record',
      name: 'SkippedUsageKey',
      fields: [
        { name: 'key', type: 'string' },
        { name: 'reason', type: 'string' },
      ],
    },
  },
};

export const aggregationCompleted = defineEvent<AggregationCompleted>('tickflow.aggregator.aggregation-completed', {
  type: 'record',
  name: 'AggregationCompleted',
  namespace: 'tickflow.aggregator',
  fields: [
    { name: 'runId', type: 'string' },
    { name: 'date', type: 'string', doc: 'YYYY-MM-DD (UTC)' },
    { name: 'merchantId', type: ['null', 'string'], default: null },
    { name: 'keysRead', type: 'long' },
    { name: 'rowsWritten', type: 'long' },
    { name: 'recoveredBatches', type: 'int' },
    { name: 'errorCount', type: 'long' },
    skippedUsageKeysField,
    { name: 'durationMs', type: 'long' },
    { name: 'startedAt', type: 'string', doc: 'ISO 8601' },
    { name: 'finishedAt', type: 'string', doc: 'ISO 8601' },
  ],
});
