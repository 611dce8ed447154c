import { context, propagation, trace } from '@opentelemetry/api';
import { eventually, stack, uniqueName } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from '../src/index.ts';

interface JaegerTrace {
  traceID: string;
  spans: { spanID: string; operationName: string; processID: string; references: { refType: string; spanID: string }[] }[];
  processes: Record<string, { serviceName: string }>;
}

/** The trace once Jaeger holds at least `spanCount` of its spans. */
function jaegerTrace(traceId: string, spanCount: number): Promise<JaegerTrace> {
  return eventually(`trace ${traceId} with ${spanCount} spans in Jaeger`, async () => {
    const response = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`Jaeger answered ${response.status}`);
    const found = ((await response.json()) as { data: JaegerTrace[] }).data[0];
    return found && found.spans.length >= spanCount ? found : undefined;
  });
}

describe('startTelemetry', () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it('exports a span and its child as one trace of the service to the OTLP endpoint', async () => {
    const serviceName = uniqueName('runtime-telemetry');
    telemetry = startTelemetry({ serviceName, otlpEndpoint: stack.otlpEndpoint });
    const tracer = trace.getTracer('telemetry-test');
    const { traceId, parentId, childId } = tracer.startActiveSpan('tick metering', (parent) => {
      const child = tracer.startSpan('send usage');
      child.end();
      parent.end();
      return { traceId: parent.spanContext().traceId, parentId: parent.spanContext().spanId, childId: child.spanContext().spanId };
    });
    expect(traceId).not.toBe('00000000000000000000000000000000');
    await telemetry.flush();

    const found = await jaegerTrace(traceId, 2);
    expect(found.spans).toHaveLength(2);
    const parent = found.spans.find((span) => span.spanID === parentId);
    const child = found.spans.find((span) => span.spanID === childId);
    expect(parent?.operationName).toBe('tick metering');
    expect(child?.operationName).toBe('send usage');
    expect(child?.references).toEqual([expect.objectContaining({ refType: 'CHILD_OF', spanID: parentId })]);
    for (const span of found.spans) expect(found.processes[span.processID]?.serviceName).toBe(serviceName);
  });

  it('propagates the active trace as a W3C traceparent header', () => {
    telemetry = startTelemetry({ serviceName: uniqueName('runtime-telemetry'), otlpEndpoint: stack.otlpEndpoint });
    const headers: Record<string, string> = {};
    const span = trace.getTracer('telemetry-test').startSpan('produce');
    propagation.inject(trace.setSpan(context.active(), span), headers);
    span.end();
    const { traceId, spanId } = span.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it('can start again after a shutdown, under a new service name', async () => {
    telemetry = startTelemetry({ serviceName: uniqueName('runtime-telemetry'), otlpEndpoint: stack.otlpEndpoint });
    await telemetry.shutdown();
    const serviceName = uniqueName('runtime-telemetry-again');
    telemetry = startTelemetry({ serviceName, otlpEndpoint: `${stack.otlpEndpoint}/` });
    const span = trace.getTracer('telemetry-test').startSpan('after restart');
    span.end();
    await telemetry.flush();
    const found = await jaegerTrace(span.spanContext().traceId, 1);
    expect(found.processes[found.spans[0]?.processID ?? '']?.serviceName).toBe(serviceName);
  });
});
