// A backfill {from, to} fans out into one aggregation request per date, at most
// AGGREGATOR_MAX_BACKFILL_DAYS of them; a longer or reversed range goes to the DLQ with the
// reason, since retrying cannot fix it.
import type { BackfillRequested } from '@tickflow/contracts';
import { FatalError, type Handler } from '@tickflow/messaging';
import { sendAggregationRequests } from '../adapters/aggregation-requests.ts';
import { FanOutError, planBackfill } from '../domain/fan-out.ts';

export function backfillHandler(requestsTopic: string, maxDays: number): Handler<BackfillRequested> {
  return async (message) => {
    let targets: ReturnType<typeof planBackfill>;
    try {
      targets = planBackfill(message.payload, maxDays);
    } catch (error) {
      if (error instanceof FanOutError) throw new FatalError(error.message, { cause: error });
      throw error;
    }
    await sendAggregationRequests(message, requestsTopic, targets);
    message.log.info('backfill fanned out', { from: message.payload.from, to: message.payload.to, dates: targets.length });
  };
}
