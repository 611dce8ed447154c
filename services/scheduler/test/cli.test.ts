// The operator CLI against the real scheduler: `tickflow schedules` and `tickflow trigger`.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { uniqueName } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  createTopics,
  readTicks,
  type SchedulerProcess,
  schedulesFile,
  startScheduler,
  stopScheduler,
} from './scheduler-process.ts';

const cliMain = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
const instance = uniqueName('sched-cli');
const topic = `${instance}.target`;
let scheduler: SchedulerProcess;

function tickflow(args: string[], env: Record<string, string> = {}) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', cliMain, ...args], {
    env: { ...process.env, SCHEDULER_URL: scheduler.url, SCHEDULER_API_TOKEN: API_TOKEN, ...env },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

beforeAll(async () => {
  await createTopics(topic);
  scheduler = await startScheduler(
    instance,
    schedulesFile(
      `schedules:\n  - { name: aggregator-hourly, cron: "0 * * * *", topic: ${topic}, key: "{{date}}", payload: { date: "{{date}}" } }\n`,
    ),
  );
});
afterAll(async () => {
  await stopScheduler(scheduler);
});

describe('tickflow CLI with the scheduler', () => {
  it('lists the schedules with their next firing', async () => {
    const { code, stdout } = await tickflow(['schedules', '--json']);
    expect(code).toBe(0);
    const body = JSON.parse(stdout) as { schedules: { name: string; nextFiring: string; topic: string }[] };
    expect(body.schedules.map((s) => [s.name, s.topic])).toEqual([['aggregator-hourly', topic]]);
    expect(body.schedules[0]?.nextFiring).toMatch(/T\d\d:00:00.000Z$/);
    const table = await tickflow(['schedules']);
    expect(table.stdout).toContain('aggregator-hourly');
  });

  it('triggers a schedule with a payload override; the tick arrives with it', async () => {
    const { code, stdout, stderr } = await tickflow(['trigger', 'aggregator-hourly', '--payload', '{"merchantId":"m-7"}', '--json']);
    expect(code, stderr).toBe(0);
    const sent = JSON.parse(stdout) as { id: string };
    expect(sent.id).toMatch(/^manual:aggregator-hourly:/);
    const [tick] = await readTicks(topic, 1);
    expect(tick?.id).toBe(sent.id);
    expect(tick?.tick.payload.merchantId).toBe('m-7');
    expect(tick?.tick.payload.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('says what is wrong: unknown schedule, bad token, malformed payload', async () => {
    const unknown = await tickflow(['trigger', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nope');
    const badToken = await tickflow(['trigger', 'aggregator-hourly'], { SCHEDULER_API_TOKEN: 'wrong-token-0123456789' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).not.toContain('wrong-token-0123456789');
    const malformed = await tickflow(['trigger', 'aggregator-hourly', '--payload', '{not json']);
    expect(malformed.code).toBe(2);
  });
});
