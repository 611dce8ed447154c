// When schedules fire, and which missed firings a catch-up replays. Pure: time is given.
import { Cron } from 'croner';
import type { Schedule } from './schedules.ts';

const crons = new WeakMap<Schedule, Cron>();

function cronOf(schedule: Schedule): Cron {
  let cron = crons.get(schedule);
  if (!cron) {
    cron = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
    crons.set(schedule, cron);
  }
  return cron;
}

/** The first firing strictly after `after`. */
export function nextFiring(schedule: Schedule, after: Date): Date | undefined {
  return cronOf(schedule).nextRun(after) ?? undefined;
}

/**
 * The firings to make up for after a gap: those strictly after `lastFired` and at or
 * before `now`, as the schedule's catch-up policy allows. Without a last firing (a new
 * schedule) nothing is made up.
 */
export function missedFirings(schedule: Schedule, lastFired: Date | undefined, now: Date): Date[] {
  if (!lastFired || schedule.catchUp.policy === 'none') return [];
  const windowStart = new Date(Math.max(lastFired.getTime(), now.getTime() - schedule.catchUp.windowMs));
  const missed: Date[] = [];
  // The first firing after the window start, then on; a bound keeps a per-second schedule
  // and a long window from building an unbounded list.
  const from = windowStart.getTime() === lastFired.getTime() ? lastFired : new Date(windowStart.getTime() - 1);
  for (let at = nextFiring(schedule, from); at && at <= now && missed.length < 100_000; at = nextFiring(schedule, at)) missed.push(at);
  return schedule.catchUp.policy === 'latest' ? missed.slice(-1) : missed;
}

/** The deterministic CloudEvents id of a firing: a consumer drops a second copy by it. */
export function tickId(schedule: string, scheduledTime: Date): string {
  return `tick:${schedule}:${scheduledTime.toISOString()}`;
}
