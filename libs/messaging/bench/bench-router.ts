// What the router benchmark's processes share: the event they read and a router with a
// no-op handler around it.
import { defineEvent, EventCodec } from '@tickflow/contracts';
import { stack } from '@tickflow/testing';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';
import { type Log, Router } from '../src/router.ts';

export const PARTITIONS = 3;

export interface BenchPayload {
  id: string;
  body: string;
}
export const benchEvent = defineEvent<BenchPayload>('tickflow.bench.message', {
  type: 'record',
  name: 'BenchMessage',
  namespace: 'dev.tickflow.bench',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'body', type: 'string' },
  ],
});

const silent: Log = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
export const codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });

export function benchRouter(
  service: string,
  topic: string,
  onMessage: (payload: BenchPayload, headers: Record<string, string>) => void,
  retry: string[] = [],
) {
  const transport = new KafkaJsTransport({ clientId: service, brokers: stack.kafkaBrokers });
  // The topic is filled before the router's group first joins: it reads it from the start.
  const router = new Router({ service, transport, codec, log: silent, partitions: PARTITIONS, startFrom: 'earliest' });
  router.route(
    topic,
    benchEvent,
    async (m) => {
      onMessage(m.payload, m.event as unknown as Record<string, string>);
    },
    { retry, concurrency: PARTITIONS },
  );
  return { router, transport };
}
