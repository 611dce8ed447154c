// The fan-out: aggregation requests written back onto the aggregator's own requests topic,
// through the message's own send (the host's transport and codec), so a tick, its fan-out and
// every run are one trace.
import { type AggregationRequested, aggregationRequested } from '@tickflow/contracts';
import type { MessageContext } from '@tickflow/messaging';
import { type AggregationTarget, targetKey } from '../domain/fan-out.ts';

/** One request per target, each with an id derived from the cause's: a redelivered cause sends the same ids. */
export async function sendAggregationRequests(
  message: Pick<MessageContext<unknown>, 'send' | 'event'>,
  topic: string,
  targets: readonly AggregationTarget[],
): Promise<void> {
  for (const target of targets) {
    const key = targetKey(target);
    const payload: AggregationRequested = { date: target.date, merchantId: target.merchantId };
    await message.send(topic, aggregationRequested, payload, { key, id: `${message.event.id}/aggregate/${key}` });
  }
}
