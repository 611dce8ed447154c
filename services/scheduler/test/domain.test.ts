import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { missedFirings, nextFiring, tickId } from '../src/domain/firings.ts';
import { parseSchedules, type Schedule, ScheduleConfigError } from '../src/domain/schedules.ts';
import { buildTick } from '../src/domain/ticks.ts';
import { SERVICE_REQUEST_TOPICS } from '../src/topics.ts';

const known = (topic: string) => topic.endsWith('.requests');

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    name: 's',
    cron: '*/10 * * * * *',
    timezone: 'UTC',
    topic: 'x.requests',
    key: '{{schedule}}',
    payload: {},
    enabled: true,
    catchUp: { policy: 'all', windowMs: 60_000 },
    ...overrides,
  };
}

describe('parseSchedules', () => {
  it('reads the default schedules of the seeds, every one valid', () => {
    const text = readFileSync(fileURLToPath(new URL('../schedules.yaml', import.meta.url)), 'utf8');
    const schedules = parseSchedules(text, (t) => SERVICE_REQUEST_TOPICS.includes(t));
    expect(schedules.map((s) => [s.name, s.cron, s.topic])).toEqual([
      ['metering-monthly', '10 0 1 * *', 'metering.requests'],
      ['pricing-daily', '0 2 * * *', 'pricing.requests'],
      ['aggregator-hourly', '0 * * * *', 'aggregator.requests'],
      ['pod-retry-fetch-new', '*/30 * * * *', 'pod-retry.requests'],
      ['pod-retry-sweep-failed', '0 * * * *', 'pod-retry.requests'],
      ['reporting-weekly', '0 9 * * 1', 'reporting.requests'],
      ['reporting-monthly', '0 9 1 * *', 'reporting.requests'],
    ]);
    expect(schedules[0]?.catchUp).toEqual({ policy: 'latest', windowMs: 31 * 86_400_000 });
  });

  it('applies defaults', () => {
    const [s] = parseSchedules('schedules:\n  - { name: a, cron: "* * * * *", topic: x.requests }\n', known);
    expect(s).toEqual({
      name: 'a',
      cron: '* * * * *',
      timezone: 'UTC',
      topic: 'x.requests',
      key: '{{schedule}}',
      payload: {},
      enabled: true,
      catchUp: { policy: 'latest', windowMs: 86_400_000 },
    });
  });

  it('names the schedule of every problem', () => {
    const text = `schedules:
  - { name: bad-cron, cron: "61 * * * *", topic: x.requests }
  - { name: bad-zone, cron: "* * * * *", timezone: Mars/Base, topic: x.requests }
  - { name: bad-topic, cron: "* * * * *", topic: nowhere }
  - { name: bad-template, cron: "* * * * *", topic: x.requests, payload: { d: "{{tomorrow}}" } }
  - { name: bad-policy, cron: "* * * * *", topic: x.requests, catchUp: { policy: sometimes } }
  - { name: bad-cron, cron: "* * * * *", topic: x.requests }
`;
    let message = '';
    try {
      parseSchedules(text, known);
    } catch (error) {
      expect(error).toBeInstanceOf(ScheduleConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('schedule "bad-cron": cron "61 * * * *" is invalid');
    expect(message).toContain('schedule "bad-zone": timezone "Mars/Base" is not an IANA time zone');
    expect(message).toContain('schedule "bad-topic": topic "nowhere" is not a tickflow topic');
    expect(message).toContain('schedule "bad-template": payload.d: unknown template value {{tomorrow}}');
    expect(message).toContain('schedule "bad-policy": catchUp.policy');
    expect(message).toContain('schedule "bad-cron": the name is used twice');
  });

  it('rejects a file that is not a schedules list', () => {
    expect(() => parseSchedules('schedules: [', known)).toThrow('not valid YAML');
    expect(() => parseSchedules('jobs: []', known)).toThrow('a `schedules` list');
  });
});

describe('firings', () => {
  it('fires in the schedule time zone', () => {
    const paris = schedule({ cron: '0 2 * * *', timezone: 'Europe/Paris' });
    expect(nextFiring(paris, new Date('2026-07-01T00:30:00Z'))?.toISOString()).toBe('2026-07-02T00:00:00.000Z');
  });

  it('catches up all missed firings within the window, the latest only, or none', () => {
    const last = new Date('2026-01-01T00:00:00Z');
    const now = new Date('2026-01-01T00:00:35Z');
    expect(missedFirings(schedule(), last, now).map((d) => d.toISOString())).toEqual([
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:30.000Z',
    ]);
    expect(missedFirings(schedule({ catchUp: { policy: 'latest', windowMs: 60_000 } }), last, now).map((d) => d.toISOString())).toEqual([
      '2026-01-01T00:00:30.000Z',
    ]);
    expect(missedFirings(schedule({ catchUp: { policy: 'none', windowMs: 60_000 } }), last, now)).toEqual([]);
    expect(missedFirings(schedule({ catchUp: { policy: 'all', windowMs: 15_000 } }), last, now).map((d) => d.toISOString())).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:30.000Z',
    ]);
    expect(missedFirings(schedule(), undefined, now)).toEqual([]);
  });

  it('names a firing deterministically', () => {
    expect(tickId('metering-monthly', new Date('2026-12-01T00:10:00Z'))).toBe('tick:metering-monthly:2026-12-01T00:10:00.000Z');
  });

  it('renders key and payload for the scheduled time, in the schedule time zone', () => {
    const s = schedule({
      name: 'metering-monthly',
      timezone: 'America/New_York',
      key: '{{previousMonth}}',
      payload: { month: '{{previousMonth}}', day: '{{date}}', before: '{{yesterday}}', at: '{{scheduledTime}}', m: '{{month}}' },
    });
    // 03:00 UTC on March 1st is still February 28th in New York.
    const built = buildTick(s, new Date('2026-03-01T03:00:00Z'), { extra: 'yes' });
    expect(built).toEqual({
      topic: 'x.requests',
      key: '2026-01',
      tick: {
        schedule: 'metering-monthly',
        scheduledTime: '2026-03-01T03:00:00.000Z',
        payload: { month: '2026-01', day: '2026-02-28', before: '2026-02-27', at: '2026-03-01T03:00:00.000Z', m: '2026-02', extra: 'yes' },
      },
    });
  });
});
