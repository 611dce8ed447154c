import type { SchedulerTick } from '@tickflow/contracts';
import type { Schedule } from './schedules.ts';
import { render, templateValues } from './templates.ts';

export interface TickRecord {
  topic: string;
  key: string;
  tick: SchedulerTick;
}

/** The tick a firing sends: key and payload rendered for its scheduled time. */
export function buildTick(schedule: Schedule, scheduledTime: Date, payloadOverride: Record<string, string> = {}): TickRecord {
  const values = templateValues(schedule.name, scheduledTime, schedule.timezone);
  const payload: Record<string, string> = {};
  for (const [name, template] of Object.entries(schedule.payload)) payload[name] = render(template, values);
  return {
    topic: schedule.topic,
    key: render(schedule.key, values),
    tick: { schedule: schedule.name, scheduledTime: scheduledTime.toISOString(), payload: { ...payload, ...payloadOverride } },
  };
}
