import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMessagingMetrics } from '../src/index.ts';

describe('createMessagingMetrics', () => {
  it('registers the messaging metrics and Node’s default metrics in the given registry', async () => {
    const registry = new Registry();
    const metrics = createMessagingMetrics(registry);
    expect(metrics.registry).toBe(registry);
    metrics.messages.inc({ topic: 'metering.requests', outcome: 'success' });
    metrics.messages.inc({ topic: 'metering.requests', outcome: 'retry' }, 2);
    metrics.handlerDuration.observe({ topic: 'metering.requests' }, 0.2);
    metrics.retries.inc({ topic: 'metering.requests', tier: '2s' });
    metrics.dlqWrites.inc({ topic: 'metering.requests', reason: 'fatal' });
    metrics.consumerLag.set({ group: 'metering', topic: 'metering.requests', partition: '3' }, 42);

    const text = await registry.metrics();
    expect(text).toContain('tickflow_messages_total{topic="metering.requests",outcome="success"} 1');
    expect(text).toContain('tickflow_messages_total{topic="metering.requests",outcome="retry"} 2');
    expect(text).toContain('tickflow_handler_duration_seconds_bucket{le="0.25",topic="metering.requests"} 1');
    expect(text).toContain('tickflow_handler_duration_seconds_bucket{le="0.1",topic="metering.requests"} 0');
    expect(text).toContain('tickflow_handler_duration_seconds_bucket{le="120",topic="metering.requests"} 1');
    expect(text).toContain('tickflow_retries_total{topic="metering.requests",tier="2s"} 1');
    expect(text).toContain('tickflow_dlq_writes_total{topic="metering.requests",reason="fatal"} 1');
    expect(text).toContain('tickflow_consumer_lag{group="metering",topic="metering.requests",partition="3"} 42');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('keeps each registry to itself, so that two sets never collide', async () => {
    const first = createMessagingMetrics();
    const second = createMessagingMetrics();
    first.dlqWrites.inc({ topic: 't', reason: 'exhausted' });
    expect(await first.registry.metrics()).toContain('tickflow_dlq_writes_total{topic="t",reason="exhausted"} 1');
    expect(await second.registry.metrics()).not.toContain('tickflow_dlq_writes_total{topic="t"');
  });
});
