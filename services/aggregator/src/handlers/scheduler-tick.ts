// The hourly tick (`tickflow.scheduler.tick`, payload {date, previousDate}) fans out into one
// aggregation request per date.
import type { SchedulerTick } from '@tickflow/contracts';
import { FatalError, type Handler } from '@tickflow/messaging';
import { sendAggregationRequests } from '../adapters/aggregation-requests.ts';
import { FanOutError, planTick } from '../domain/fan-out.ts';

/** `requestsTopic`: where the aggregation requests go, the aggregator's own requests topic. */
export function schedulerTickHandler(requestsTopic: string): Handler<SchedulerTick> {
  return async (message) => {
    let targets: ReturnType<typeof planTick>;
    try {
      targets = planTick(message.payload.payload);
    } catch (error) {
      if (error instanceof FanOutError) throw new FatalError(error.message, { cause: error });
      throw error;
    }
    await sendAggregationRequests(message, requestsTopic, targets);
    message.log.info('tick fanned out', { schedule: message.payload.schedule, dates: targets.map((t) => t.date) });
  };
}
