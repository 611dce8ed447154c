import { defineEvent } from '../event-contract.ts';

/** A schedule came due; the service that owns it fans the tick out into its own work. */
export interface SchedulerTick {
  schedule: string;
  /** When the schedule was due (ISO 8601), not when the tick was sent: a late tick still names its slot. */
  scheduledTime: string;
  payload: Record<string, string>;
}

export const schedulerTick = defineEvent<SchedulerTick>('tickflow.scheduler.tick', {
  type: 'record',
  name: 'SchedulerTick',
  namespace: 'tickflow.scheduler',
  fields: [
    { name: 'schedule', type: 'string' },
    { name: 'scheduledTime', type: 'string', doc: 'ISO 8601' },
    { name: 'payload', type: { type: 'map', values: 'string' } },
  ],
});
