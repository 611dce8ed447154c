// The message envelope: CloudEvents 1.0 in Kafka binary mode (attributes as `ce_`
// headers, the payload as the value) plus tickflow's retry and dead-letter headers.
import { randomUUID } from 'node:crypto';
import { describeError } from '@tickflow/runtime';

export type Headers = Record<string, string>;

export interface CloudEventAttributes {
  id: string;
  source: string;
  type: string;
  time: string;
  specversion: '1.0';
  /** The value's content type: Avro in the Confluent Schema Registry wire format. */
  datacontenttype: string;
}

export const AVRO_CONTENT_TYPE = 'application/vnd.apache.avro+binary; schema-registry=confluent';

export function newCloudEvent(source: string, type: string, id: string = randomUUID(), time: Date = new Date()): CloudEventAttributes {
  return { id, source, type, time: time.toISOString(), specversion: '1.0', datacontenttype: AVRO_CONTENT_TYPE };
}

export function cloudEventHeaders(ce: CloudEventAttributes): Headers {
  return {
    ce_specversion: ce.specversion,
    ce_id: ce.id,
    ce_source: ce.source,
    ce_type: ce.type,
    ce_time: ce.time,
    'content-type': ce.datacontenttype,
  };
}

/** The CloudEvents attributes of a record, or the name of the first one missing. */
export function readCloudEvent(headers: Headers): CloudEventAttributes | { missing: string } {
  for (const name of ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time']) {
    if (!headers[name]) return { missing: name };
  }
  if (headers.ce_specversion !== '1.0') return { missing: 'ce_specversion 1.0' };
  return {
    id: headers.ce_id as string,
    source: headers.ce_source as string,
    type: headers.ce_type as string,
    time: headers.ce_time as string,
    specversion: '1.0',
    datacontenttype: headers['content-type'] ?? AVRO_CONTENT_TYPE,
  };
}

export const RETRY = {
  attempt: 'tickflow_attempt',
  notBefore: 'tickflow_not_before',
  originalTopic: 'tickflow_original_topic',
  originalPartition: 'tickflow_original_partition',
  originalOffset: 'tickflow_original_offset',
  firstFailedAt: 'tickflow_first_failed_at',
  /** On the delay ladder: when this hop's consumer looks again (not_before is the wait's end). */
  wakeAt: 'tickflow_wake_at',
  defers: 'tickflow_defers',
  firstDeferredAt: 'tickflow_first_deferred_at',
  dlqReason: 'tickflow_dlq_reason',
  errorClass: 'tickflow_error_class',
  errorMessage: 'tickflow_error_message',
  errorStack: 'tickflow_error_stack',
} as const;

export type DeadLetterReason = 'exhausted' | 'fatal' | 'undecodable' | 'deferred-too-long';

/** Where a record first came from, carried unchanged through every retry. */
export interface Origin {
  topic: string;
  partition: number;
  offset: string;
}

export function attemptOf(headers: Headers): number {
  const attempt = Number(headers[RETRY.attempt] ?? 0);
  return Number.isInteger(attempt) && attempt >= 0 ? attempt : 0;
}

/** How often a message has been deferred, and since when (epoch ms). */
export function deferredOf(headers: Headers): { count: number; since: number | undefined } {
  const count = Number(headers[RETRY.defers] ?? 0);
  const since = Number(headers[RETRY.firstDeferredAt]);
  return { count: Number.isInteger(count) && count > 0 ? count : 0, since: Number.isFinite(since) && since > 0 ? since : undefined };
}

export function originOf(headers: Headers, current: Origin): Origin {
  const topic = headers[RETRY.originalTopic];
  if (!topic) return current;
  return { topic, partition: Number(headers[RETRY.originalPartition]), offset: headers[RETRY.originalOffset] ?? '' };
}

export function retryHeaders(base: Headers, origin: Origin, attempt: number, notBefore: number, firstFailedAt: string): Headers {
  return {
    ...base,
    [RETRY.attempt]: String(attempt),
    [RETRY.notBefore]: String(notBefore),
    [RETRY.originalTopic]: origin.topic,
    [RETRY.originalPartition]: String(origin.partition),
    [RETRY.originalOffset]: origin.offset,
    [RETRY.firstFailedAt]: firstFailedAt,
  };
}

export function deadLetterHeaders(
  base: Headers,
  origin: Origin,
  attempt: number,
  firstFailedAt: string,
  reason: DeadLetterReason,
  error: unknown,
): Headers {
  // Redacted: a dead letter is read by operators and tools, and kept for ever.
  const { errorClass, message, stack } = describeError(error);
  return {
    ...retryHeaders(base, origin, attempt, Date.now(), firstFailedAt),
    [RETRY.dlqReason]: reason,
    [RETRY.errorClass]: errorClass,
    [RETRY.errorMessage]: message,
    [RETRY.errorStack]: stack,
  };
}

/**
 * The same dead letter in fewer bytes, for a DLQ whose broker refused it as too large: the
 * payload and every header an operator replays by are kept; the stack goes, the message is
 * cut, and headers the failure added beyond the envelope are dropped.
 */
export function trimmedDeadLetterHeaders(headers: Headers): Headers {
  const kept = new Set(['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type', 'traceparent']);
  const trimmed: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    if (kept.has(name) || (name.startsWith('tickflow_') && name !== RETRY.errorStack)) trimmed[name] = value;
  }
  trimmed[RETRY.errorMessage] = (headers[RETRY.errorMessage] ?? '').slice(0, 200);
  return trimmed;
}
