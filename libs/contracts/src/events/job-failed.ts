import { defineEvent } from '../event-contract.ts';

/** A message left the retry path for the DLQ; published on the service's `<service>.events` topic. */
export interface JobFailed {
  topic: string;
  key: string | null;
  eventId: string;
  eventType: string;
  attempts: number;
  /** `exhausted` also for a message deferred past its cap: its allowance of defers is spent (see `dlqReason`). */
  reason: 'exhausted' | 'fatal' | 'undecodable';
  /**
   * The dead letter's `tickflow_dlq_reason` exactly (`deferred-too-long` among them); null from
   * producers older than the field. A field with a default, rather than a new enum symbol, so
   * that a replica of the previous version can still register its schema during a rollout.
   */
  dlqReason: string | null;
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
      type: { type: 'enum', name: 'JobFailureReason', symbols: ['exhausted', 'fatal', 'undecodable'] },
    },
    { name: 'errorClass', type: 'string' },
    { name: 'errorMessage', type: 'string' },
    { name: 'firstFailedAt', type: 'string', doc: 'ISO 8601' },
    { name: 'failedAt', type: 'string', doc: 'ISO 8601' },
    { name: 'dlqReason', type: ['null', 'string'], default: null, doc: 'tickflow_dlq_reason of the dead letter' },
  ],
});
