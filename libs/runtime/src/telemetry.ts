// Traces go to an OTLP/HTTP collector (Jaeger, locally). Spans come only from tickflow's own
// code, such as the messaging lib's consume and produce spans; there are no auto-instrumentations,
// whose spans for every Kafka poll and database query would bury the trace of a tick.
// Logs and metrics are not exported over OTLP: logs go to standard output and metrics to /metrics.
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TelemetryOptions {
  serviceName: string;
  /** The collector's base URL, e.g. `http://127.0.0.1:4318`; traces go to its `/v1/traces`. */
  otlpEndpoint: string;
}

export interface Telemetry {
  /** Exports the spans still buffered. */
  flush(): Promise<void>;
  /** Exports the spans still buffered and stops tracing, so that a later start can register again. */
  shutdown(): Promise<void>;
}

// Short, so that a trace shows up in Jaeger about as soon as it ends, in tests and on a laptop alike.
const exportDelayMs = 500;

export function startTelemetry(options: TelemetryOptions): Telemetry {
  const exporter = new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` });
  const spanProcessor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: exportDelayMs });
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: [spanProcessor],
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [],
    // Empty rather than absent: absent, the SDK would start OTLP log and metric exporters of its own.
    logRecordProcessors: [],
    metricReaders: [],
  });
  sdk.start();
  return {
    flush: () => spanProcessor.forceFlush(),
    shutdown: async () => {
      try {
        await sdk.shutdown();
      } finally {
        // Even when the last export failed: the SDK is spent, and a registration left behind
        // would make a later start fail silently.
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}
