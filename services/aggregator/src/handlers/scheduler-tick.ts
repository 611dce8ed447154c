// The hourly tick (`tickflow.scheduler.tick`, payload {date, previousDate}) fans out into one
// aggregation request per date.
import type { SchedulerTick } from '@tickflow/contracts';
import { FatalError, type Handler } from '@tickflow/messaging';
import type { AggregationRequestPublisher } from '../adapters/aggregation-request-publisher.ts';
import { FanOutError, planTick } from '../domain/fan-out.ts';

export function schedulerTickHandler(publisher: AggregationRequestPublisher): Handler<SchedulerTick> {
  return async (message) => {
    let targets: ReturnType<typeof planTick>;
    try {
      targets = planTick(message.payload.payload);
    } catch (error) {
      if (error instanceof FanOutError) throw new FatalError(error.message, { cause: error });
      throw error;
    }
    await publisher.publish(targets, message.event.id);
    message.log.info('tick fanned out', { schedule: message.payload.schedule, dates: targets.map((t) => t.date) });
  };
}
