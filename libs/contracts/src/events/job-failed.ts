import { defineEvent } from '../event-contract.ts';

/** A message left the retry path for the DLQ; published on the service's `<service>.events` topic. */
export interface JobFailed {
  topic: string;
  key: string | null;
  eventId: string;
  eventType: string;
  attempts: number;
  /** The DLQ header's reason; `deferred-too-long` is spelt `deferred_too_long`, as Avro enum symbols must be. */
  reason: 'exhausted' | 'fatal' | 'undecodable' | 'deferred_too_long';
  errorClass: string;
  errorMessage: string;
  /** ISO 8601 */
  firstFailedAt: string;
  /** ISO 8601 */
  failedAt: string;
}

export const jobFailed = defineEvent<JobFailed>('tickflow.job.failed', {
  type: 'record',
  name: 'JobFailed',
  namespace: 'tickflow.job',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'key', type: ['null', 'string'], default: null },
    { name: 'eventId', type: 'string' },
    { name: 'eventType', type: 'string' },
    { name: 'attempts', type: 'int' },
    {
      name: 'reason',
      type: { type: 'enum', name: 'JobFailureReason', symbols: ['exhausted', 'fatal', 'undecodable', 'deferred_too_long'] },
    },
    { name: 'errorClass', type: 'string' },
    { name: 'errorMessage', type: 'string' },
    { name: 'firstFailedAt', type: 'string', doc: 'ISO 8601' },
    { name: 'failedAt', type: 'string', doc: 'ISO 8601' },
  ],
});
