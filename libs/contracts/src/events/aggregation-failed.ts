import { defineEvent } from '../event-contract.ts';
import { type SkippedUsageKey, skippedUsageKeysField } from './aggregation-completed.ts';

/**
 * One aggregation run failed as a whole (PostgreSQL or Redis unreachable, say); on
 * `aggregator.events`. The request is retried through the delay tiers; what the run had
 * already moved is in PostgreSQL or in a pending batch that the next run finishes.
 */
export interface AggregationFailed {
  runId: string;
  /** YYYY-MM-DD (UTC). */
  date: string;
  merchantId: string | null;
  /** Failed attempts before this one: 0 on the first. */
  attempt: number;
  keysRead: number;
  rowsWritten: number;
  recoveredBatches: number;
  errorCount: number;
  errors: SkippedUsageKey[];
  errorClass: string;
  errorMessage: string;
  durationMs: number;
  /** ISO 8601 */
  startedAt: string;
  /** ISO 8601 */
  finishedAt: string;
}

export const aggregationFailed = defineEvent<AggregationFailed>('tickflow.aggregator.aggregation-failed', {
  type: 'record',
  name: 'AggregationFailed',
  namespace: 'tickflow.aggregator',
  fields: [
    { name: 'runId', type: 'string' },
    { name: 'date', type: 'string', doc: 'YYYY-MM-DD (UTC)' },
    { name: 'merchantId', type: ['null', 'string'], default: null },
    { name: 'attempt', type: 'int' },
    { name: 'keysRead', type: 'long' },
    { name: 'rowsWritten', type: 'long' },
    { name: 'recoveredBatches', type: 'int' },
    { name: 'errorCount', type: 'long' },
    skippedUsageKeysField,
    { name: 'errorClass', type: 'string' },
    { name: 'errorMessage', type: 'string' },
    { name: 'durationMs', type: 'long' },
    { name: 'startedAt', type: 'string', doc: 'ISO 8601' },
    { name: 'finishedAt', type: 'string', doc: 'ISO 8601' },
  ],
});
