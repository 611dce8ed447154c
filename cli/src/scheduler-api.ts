// The scheduler's HTTP API as the CLI reads it: replies checked against their documented
// shape, so that a scheduler of another version fails with a message, not a crash.
import { z } from 'zod';
import { formatDuration } from './duration-text.ts';
import { renderTable } from './text-table.ts';

export const triggerAcceptedSchema = z.object({
  id: z.string(),
  topic: z.string(),
  key: z.string().nullable(),
  scheduledTime: z.string(),
});
export type TriggerAccepted = z.infer<typeof triggerAcceptedSchema>;

export const schedulesSchema = z.object({
  schedules: z.array(
    z.object({
      name: z.string(),
      cron: z.string(),
      timezone: z.string(),
      topic: z.string(),
      enabled: z.boolean(),
      catchUp: z.object({ policy: z.string(), windowMs: z.number() }),
      nextFiring: z.string().nullable(),
      lastFiring: z.string().nullable(),
    }),
  ),
});
export type ScheduleList = z.infer<typeof schedulesSchema>;

export const errorReplySchema = z.object({ error: z.string() });

export function formatSchedules(list: ScheduleList): string {
  if (list.schedules.length === 0) return 'no schedules';
  const rows = list.schedules.map((s) => [
    s.name,
    s.cron,
    s.timezone,
    s.topic,
    s.enabled ? 'yes' : 'no',
    `${s.catchUp.policy} ${formatDuration(s.catchUp.windowMs)}`,
    s.nextFiring,
    s.lastFiring,
  ]);
  return renderTable(['NAME', 'CRON', 'TIMEZONE', 'TOPIC', 'ENABLED', 'CATCH-UP', 'NEXT FIRING', 'LAST FIRING'], rows);
}

export function formatTriggered(schedule: string, accepted: TriggerAccepted): string {
  return `${accepted.id}\ntriggered ${schedule}: ${accepted.topic} key ${accepted.key ?? '-'} scheduled time ${accepted.scheduledTime}`;
}
