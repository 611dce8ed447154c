import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/duration-text.ts';
import { Output } from '../src/output.ts';
import { formatSchedules, formatTriggered, schedulesSchema, triggerAcceptedSchema } from '../src/scheduler-api.ts';
import { renderTable } from '../src/text-table.ts';

function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const write = (chunk: string) => {
    text += chunk;
    return true;
  };
  const stream = { write } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

describe('text output', () => {
  it('tables pad columns to the widest cell, numbers to the right, null as -', () => {
    expect(
      renderTable(
        ['NAME', 'COUNT'],
        [
          ['alpha', 5],
          ['b', null],
          ['gamma-long', 1234],
        ],
      ),
    ).toBe(['NAME        COUNT', 'alpha           5', 'b               -', 'gamma-long   1234'].join('\n'));
  });

  it('durations in whole units', () => {
    expect(formatDuration(0)).toBe('0');
    expect(formatDuration(604_800_000)).toBe('7d');
    expect(formatDuration(604_801_000)).toBe('7d 1s');
    expect(formatDuration(5_400_000)).toBe('1h 30m');
    expect(formatDuration(1_500)).toBe('1s 500ms');
  });

  it('--json writes the data as one JSON document; otherwise the text', () => {
    const json = capture();
    new Output(true, json.stream).result({ a: [1, 2] }, () => 'text');
    expect(JSON.parse(json.text())).toEqual({ a: [1, 2] });
    const plain = capture();
    new Output(false, plain.stream).result({ a: [1, 2] }, (d) => `a has ${d.a.length}`);
    expect(plain.text()).toBe('a has 2\n');
  });

  it('schedules: a table of the scheduler reply', () => {
    const list = schedulesSchema.parse({
      schedules: [
        {
          name: 'metering-monthly',
          cron: '0 2 1 * *',
          timezone: 'Europe/Paris',
          topic: 'metering.requests',
          enabled: true,
          catchUp: { policy: 'latest', windowMs: 86_400_000 },
          nextFiring: '2026-12-01T01:00:00.000Z',
          lastFiring: null,
        },
      ],
    });
    expect(formatSchedules(list).split('\n')).toEqual([
      'NAME              CRON       TIMEZONE      TOPIC              ENABLED  CATCH-UP   NEXT FIRING               LAST FIRING',
      'metering-monthly  0 2 1 * *  Europe/Paris  metering.requests  yes      latest 1d  2026-12-01T01:00:00.000Z  -',
    ]);
    expect(formatSchedules({ schedules: [] })).toBe('no schedules');
    expect(schedulesSchema.safeParse({ schedules: [{ name: 'x' }] }).success).toBe(false);
  });

  it('trigger: the event id first, on a line of its own', () => {
    const accepted = triggerAcceptedSchema.parse({
      id: 'tick:a:2026-11-22T08:00:00.000Z',
      topic: 'a.requests',
      key: null,
      scheduledTime: '2026-11-22T08:00:00.000Z',
    });
    expect(formatTriggered('a', accepted).split('\n')[0]).toBe('tick:a:2026-11-22T08:00:00.000Z');
  });
});
