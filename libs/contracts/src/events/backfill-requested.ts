import { defineEvent } from '../event-contract.ts';

/**
 * Aggregate every date from `from` to `to`, both included: the aggregator fans it out into
 * one `tickflow.aggregator.aggregate` per date on `aggregator.requests`.
 */
export interface BackfillRequested {
  /** First date, YYYY-MM-DD (UTC). */
  from: string;
  /** Last date, YYYY-MM-DD (UTC), included. */
  to: string;
  /** null: every merchant. */
  merchantId: string | null;
}

export const backfillRequested = defineEvent<BackfillRequested>('tickflow.aggregator.backfill', {
  type: 'record',
  name: 'BackfillRequested',
  namespace: 'tickflow.aggregator',
  fields: [
    { name: 'from', type: 'string', doc: 'YYYY-MM-DD (UTC)' },
    { name: 'to', type: 'string', doc: 'YYYY-MM-DD (UTC), included' },
    { name: 'merchantId', type: ['null', 'string'], default: null },
  ],
});
