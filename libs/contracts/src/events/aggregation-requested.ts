import { defineEvent } from '../event-contract.ts';

/**
 * Move one date's usage counters from Redis into PostgreSQL: every merchant's, or one
 * merchant's. Sent on `aggregator.requests` by the aggregator's own fan-out (of a tick or a
 * backfill) and by operators; keyed by the date, or `merchantId:date`.
 */
export interface AggregationRequested {
  /** Calendar date, YYYY-MM-DD (UTC). */
  date: string;
  /** null: every merchant with counters for the date. */
  merchantId: string | null;
}

export const aggregationRequested = defineEvent<AggregationRequested>('tickflow.aggregator.aggregate', {
  type: 'record',
  name: 'AggregationRequested',
  namespace: 'tickflow.aggregator',
  fields: [
    { name: 'date', type: 'string', doc: 'YYYY-MM-DD (UTC)' },
    { name: 'merchantId', type: ['null', 'string'], default: null },
  ],
});
