// A span around one piece of a handler's work that leaves the process (an S3 read, a call to a
// third-party API), as a child of the message's span, so a job's trace shows where its time went.
// An error marks the span and is rethrown unchanged; attributes never carry secrets.
import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('tickflow');

export function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
