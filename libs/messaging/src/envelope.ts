// The message envelope: CloudEvents 1.0 in Kafka binary mode (attributes as `ce_`
// headers, the payload as the value) plus tickflow's retry and dead-letter headers.
import { randomUUID } from 'node:crypto';

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
  dlqReason: 'tickflow_dlq_reason',
  errorClass: 'tickflow_error_class',
  errorMessage: 'tickflow_error_message',
  errorStack: 'tickflow_error_stack',
} as const;

export type DeadLetterReason = 'exhausted' | 'fatal' | 'undecodable';

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

const STACK_LIMIT = 2000;
const MESSAGE_LIMIT = 1000;

export function deadLetterHeaders(
  base: Headers,
  origin: Origin,
  attempt: number,
  firstFailedAt: string,
  reason: DeadLetterReason,
  error: unknown,
): Headers {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    ...retryHeaders(base, origin, attempt, Date.now(), firstFailedAt),
    [RETRY.dlqReason]: reason,
    [RETRY.errorClass]: err.name,
    [RETRY.errorMessage]: err.message.slice(0, MESSAGE_LIMIT),
    [RETRY.errorStack]: (err.stack ?? '').slice(0, STACK_LIMIT),
  };
}
