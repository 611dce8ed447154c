// The schedules file: validated as a whole at start, every problem named with its schedule.
import { ConfigError } from '@tickflow/runtime';
import { Cron } from 'croner';
import { parse } from 'yaml';
import { z } from 'zod';
import { unknownPlaceholders } from './templates.ts';

export type CatchUpPolicy = 'all' | 'latest' | 'none';

export interface Schedule {
  name: string;
  cron: string;
  timezone: string;
  topic: string;
  /** A template for the record key. */
  key: string;
  /** Templates for the tick's payload values. */
  payload: Record<string, string>;
  enabled: boolean;
  catchUp: { policy: CatchUpPolicy; windowMs: number };
}

/** A configuration error like any other: the host reports it in one line, without a stack. */
export class ScheduleConfigError extends ConfigError {
  override name = 'ScheduleConfigError';
}

const duration = z
  .string()
  .regex(/^\d+(s|m|h|d)$/, 'must be a duration such as 30m, 6h or 7d')
  .transform(
    (text) => Number(text.slice(0, -1)) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[text.slice(-1) as 's' | 'm' | 'h' | 'd'],
  );

const scheduleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  cron: z.string().min(1),
  timezone: z.string().default('UTC'),
  topic: z.string().min(1),
  key: z.string().default('{{schedule}}'),
  payload: z.record(z.string(), z.string()).default({}),
  enabled: z.boolean().default(true),
  // prefault: the defaults go through parsing, so '24h' becomes milliseconds like any window.
  catchUp: z.strictObject({ policy: z.enum(['all', 'latest', 'none']).default('latest'), window: duration.prefault('24h') }).prefault({}),
});

const fileSchema = z.strictObject({ schedules: z.array(z.unknown()) });

/**
 * Parses and checks the schedules file. `isKnownTopic` says whether a target topic is one
 * tickflow has; an unknown one is a typo that would otherwise fail at the first firing.
 */
export function parseSchedules(text: string, isKnownTopic: (topic: string) => boolean): Schedule[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ScheduleConfigError(`the schedules file is not valid YAML: ${(error as Error).message}`);
  }
  const file = fileSchema.safeParse(document);
  if (!file.success) throw new ScheduleConfigError('the schedules file must be a mapping with a `schedules` list');

  const problems: string[] = [];
  const schedules: Schedule[] = [];
  file.data.schedules.forEach((raw, index) => {
    const label =
      typeof (raw as { name?: unknown })?.name === 'string' ? `schedule "${(raw as { name: string }).name}"` : `schedule #${index + 1}`;
    const parsed = scheduleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}: ${issue.path.join('.') || 'entry'}: ${issue.message}`);
      return;
    }
    const s = parsed.data;
    const schedule: Schedule = {
      name: s.name,
      cron: s.cron,
      timezone: s.timezone,
      topic: s.topic,
      key: s.key,
      payload: s.payload,
      enabled: s.enabled,
      catchUp: { policy: s.catchUp.policy, windowMs: s.catchUp.window },
    };
    problems.push(...checkSchedule(schedule, isKnownTopic).map((p) => `${label}: ${p}`));
    schedules.push(schedule);
  });
  const names = schedules.map((s) => s.name);
  for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) problems.push(`schedule "${name}": the name is used twice`);
  if (problems.length > 0) throw new ScheduleConfigError(`invalid schedules:\n  ${problems.join('\n  ')}`);
  return schedules;
}

function checkSchedule(schedule: Schedule, isKnownTopic: (topic: string) => boolean): string[] {
  const problems: string[] = [];
  try {
    new Intl.DateTimeFormat('en', { timeZone: schedule.timezone });
  } catch {
    problems.push(`timezone "${schedule.timezone}" is not an IANA time zone`);
  }
  try {
    new Cron(schedule.cron, { paused: true });
  } catch (error) {
    problems.push(`cron "${schedule.cron}" is invalid: ${(error as Error).message.replace(/^CronPattern: /, '')}`);
  }
  if (!isKnownTopic(schedule.topic)) problems.push(`topic "${schedule.topic}" is not a tickflow topic`);
  for (const [field, text] of [['key', schedule.key], ...Object.entries(schedule.payload).map(([k, v]) => [`payload.${k}`, v])]) {
    for (const name of unknownPlaceholders(text as string)) problems.push(`${field}: unknown template value {{${name}}}`);
  }
  return problems;
}
