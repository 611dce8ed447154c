// The fan-out: aggregation requests written back onto the aggregator's own requests topic,
// with the CloudEvents envelope and the trace context of the message that fanned out, so a
// tick, its fan-out and every run are one trace.
import { type AggregationRequested, aggregationRequested } from '@tickflow/contracts';
import { type Codec, cloudEventHeaders, newCloudEvent, produceTraced, type Transport } from '@tickflow/messaging';
import { type AggregationTarget, targetKey } from '../domain/fan-out.ts';

export interface AggregationRequestPublisher {
  /** One request per target, each with an id derived from `causeId`: a redelivered cause sends the same ids. */
  publish(targets: readonly AggregationTarget[], causeId: string): Promise<void>;
}

export interface KafkaAggregationRequestPublisherOptions {
  transport: Transport;
  codec: Codec;
  topic: string;
  /** The CloudEvents source, `tickflow/<instance>`. */
  source: string;
}

export class KafkaAggregationRequestPublisher implements AggregationRequestPublisher {
  constructor(private readonly options: KafkaAggregationRequestPublisherOptions) {}

  async start(): Promise<void> {
    await this.options.codec.register([aggregationRequested]);
  }

  async publish(targets: readonly AggregationTarget[], causeId: string): Promise<void> {
    const { transport, codec, topic, source } = this.options;
    for (const target of targets) {
      const key = targetKey(target);
      const payload: AggregationRequested = { date: target.date, merchantId: target.merchantId };
      const headers = cloudEventHeaders(newCloudEvent(source, aggregationRequested.type, `${causeId}/aggregate/${key}`));
      // The active context is the handler's consumer span: the request continues its trace.
      await produceTraced(transport, { topic, key, value: await codec.encode(aggregationRequested, payload), headers });
    }
  }

  async close(): Promise<void> {
    await this.options.transport.close();
  }
}
