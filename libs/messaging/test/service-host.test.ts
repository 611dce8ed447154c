// A whole service in this process, with the OpenTelemetry SDK exporting to the real Jaeger:
// one trace from first delivery through every retry to the dead-letter topic, and the
// outcomes on /metrics.
import { SpanKind, trace } from '@opentelemetry/api';
import { EventCodec } from '@tickflow/contracts';
import { eventually, stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { cloudEventHeaders, newCloudEvent } from '../src/envelope.ts';
import { RetryableError } from '../src/errors.ts';
import { defineService, type RunningService, startService } from '../src/service-host.ts';
import { testJob } from './test-bed.ts';

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  tags: { key: string; value: unknown }[];
}

const instance = uniqueName('traced');
const topic = `${instance}.requests`;
let service: RunningService | undefined;

afterAll(async () => {
  await service?.stop();
});

describe('a service', () => {
  it('traces a message from first delivery through its retries to the DLQ as one trace, and counts outcomes', async () => {
    process.env.PORT = '0';
    service = await startService(
      defineService({
        service: 'aggregator',
        instance: () => instance,
        topics: () => ({ service: instance, consumes: [{ name: topic, retry: ['1s'] }] }),
        create: () => ({
          routes(router) {
            router.route(topic, testJob, async () => {
              throw new RetryableError('carrier API down');
            });
          },
        }),
      }),
    );
    await eventually('readiness', async () => ((await fetch(`${service?.url}/readyz`)).status === 200 ? true : undefined), 30_000);

    // The producer side of the trace: what a scheduler tick or a CLI trigger would be.
    const tracer = trace.getTracer('test');
    const root = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER });
    const traceId = root.spanContext().traceId;
    const headers = cloudEventHeaders(newCloudEvent('tickflow/test', testJob.type));
    headers.traceparent = `00-${traceId}-${root.spanContext().spanId}-01`;
    const codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
    await codec.register([testJob]);
    const kafka = new Kafka({ clientId: 'trace-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    // One message that cannot be decoded (straight to the DLQ) and one whose handler
    // keeps failing (a retry through the 1s tier, then the DLQ), both in the same trace.
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'claim-1', value: Buffer.from('not avro'), headers },
        { key: 'claim-2', value: await codec.encode(testJob, { id: 'x' }), headers },
      ],
    });
    root.end();
    await producer.disconnect();

    const spans = await eventually(
      'the whole trace in Jaeger',
      async () => {
        const response = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
        if (!response.ok) return undefined;
        const body = (await response.json()) as { data: { spans: JaegerSpan[] }[] };
        const all = body.data.flatMap((t) => t.spans);
        const processed = all.filter((s) => s.operationName === `process ${topic}`);
        const failureEvents = all.filter((s) => s.operationName === `send ${instance}.events`);
        return processed.length >= 3 && failureEvents.length >= 2 ? all : undefined;
      },
      40_000,
    );
    expect(new Set(spans.map((s) => s.traceID))).toEqual(new Set([traceId]));
    const attempts = spans
      .filter((s) => s.operationName === `process ${topic}`)
      .map((s) => s.tags.find((t) => t.key === 'tickflow.attempt')?.value)
      .sort();
    expect(attempts).toEqual([0, 0, 1]);
    const outcomes = spans.map((s) => s.tags.find((t) => t.key === 'tickflow.outcome')?.value).filter(Boolean);
    expect(outcomes.sort()).toEqual(['dlq', 'dlq', 'retry']);

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain(`tickflow_messages_total{topic="${topic}",outcome="retry"} 1`);
    expect(metrics).toContain(`tickflow_messages_total{topic="${topic}",outcome="dlq"} 2`);
    expect(metrics).toContain(`tickflow_retries_total{topic="${topic}",tier="1s"} 1`);
    expect(metrics).toContain(`tickflow_dlq_writes_total{topic="${topic}",reason="undecodable"} 1`);
    expect(metrics).toContain(`tickflow_dlq_writes_total{topic="${topic}",reason="exhausted"} 1`);
    expect(metrics).toContain('tickflow_handler_duration_seconds_bucket');
  });
});
