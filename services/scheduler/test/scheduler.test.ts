import { uniqueName } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  createTopics,
  readTicks,
  role,
  type SchedulerProcess,
  schedulesFile,
  spawnScheduler,
  startScheduler,
  stopScheduler,
} from './scheduler-process.ts';

const running: { child: SchedulerProcess['child']; exited: Promise<number | null> }[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await stopScheduler(s, 'SIGKILL');
});

async function start(instance: string, file: string): Promise<SchedulerProcess> {
  const scheduler = await startScheduler(instance, file);
  running.push(scheduler);
  return scheduler;
}

const perSecond = (name: string, topic: string, policy = 'all') =>
  `  - { name: ${name}, cron: "* * * * * *", topic: ${topic}, key: "{{schedule}}", payload: { at: "{{scheduledTime}}", day: "{{date}}" }, catchUp: { policy: ${policy}, window: 1h } }\n`;

function secondsBetween(ids: string[]): number[] {
  const times = ids.map((id) => Date.parse(id.split(':').slice(2).join(':')));
  return times.slice(1).map((t, i) => (t - (times[i] as number)) / 1000);
}

describe('the scheduler', () => {
  it('fires a per-second schedule: one tick a second, with deterministic ids and rendered payloads', async () => {
    const instance = uniqueName('sched');
    const topic = `${instance}.target`;
    await createTopics(topic);
    const scheduler = await start(instance, schedulesFile(`schedules:\n${perSecond('every-second', topic)}`));
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await stopScheduler(scheduler);
    const ticks = await readTicks(topic, 3);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of ticks) {
      expect(t.id).toBe(`tick:every-second:${t.tick.scheduledTime}`);
      expect(t.time).toBe(t.tick.scheduledTime);
      expect(t.key).toBe('every-second');
      expect(t.tick.payload).toEqual({ at: t.tick.scheduledTime, day: t.tick.scheduledTime.slice(0, 10) });
      expect(t.timestamp).toBeGreaterThanOrEqual(Date.parse(t.tick.scheduledTime));
    }
    expect(new Set(secondsBetween(ticks.map((t) => t.id)))).toEqual(new Set([1]));
  });

  it('catches up after a stop by each schedule policy: all, latest, none', async () => {
    const instance = uniqueName('sched');
    const topics = { all: `${instance}.all`, latest: `${instance}.latest`, none: `${instance}.none` };
    await createTopics(...Object.values(topics));
    const file = schedulesFile(
      `schedules:\n${perSecond('catch-all', topics.all, 'all')}${perSecond('catch-latest', topics.latest, 'latest')}${perSecond('catch-none', topics.none, 'none')}`,
    );
    const first = await start(instance, file);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await stopScheduler(first);
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const second = await start(instance, file);
    const restartedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await stopScheduler(second);

    const gapIds = async (topic: string) =>
      (await readTicks(topic, 1)).map((t) => Date.parse(t.tick.scheduledTime)).filter((at) => at > stoppedAt && at < restartedAt - 1000);
    // all: every second of the gap; latest: only the last; none: nothing from the gap.
    const all = await gapIds(topics.all);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(secondsBetween(all.map((t) => `x:y:${new Date(t).toISOString()}`))).toEqual(all.slice(1).map(() => 1));
    expect((await gapIds(topics.latest)).length).toBeLessThanOrEqual(1);
    expect(await gapIds(topics.none)).toEqual([]);
    for (const topic of Object.values(topics)) {
      const ids = (await readTicks(topic, 1)).map((t) => t.id);
      expect(new Set(ids).size, `${topic} has no duplicate firing`).toBe(ids.length);
    }
  });

  it('fails over to another replica when the leader is killed, without firing anything twice', async () => {
    const instance = uniqueName('sched');
    const topic = `${instance}.target`;
    await createTopics(topic);
    const file = schedulesFile(`schedules:\n${perSecond('ha', topic, 'all')}`);
    const a = await start(instance, file);
    const b = await start(instance, file);
    const roles = async () => [await role(a), await role(b)];
    await expectEventually(async () => (await roles()).includes('leader'));
    const [leader, follower] = (await role(a)) === 'leader' ? [a, b] : [b, a];
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await stopScheduler(leader, 'SIGKILL');
    const killedAt = Date.now();
    await expectEventually(async () => (await role(follower)) === 'leader', 20_000);
    const tookOverIn = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await stopScheduler(follower);

    expect(tookOverIn).toBeLessThan(15_000);
    const ticks = await readTicks(topic, 4);
    const ids = ticks.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Policy all: the seconds the takeover took are made up, none skipped.
    expect(new Set(secondsBetween(ids)), `${ids.join('\n')}\n${follower.output.join('')}\n--- leader\n${leader.output.join('')}`).toEqual(
      new Set([1]),
    );
  });

  it('serves its schedules and takes manual triggers over HTTP', async () => {
    const instance = uniqueName('sched');
    const topic = `${instance}.target`;
    await createTopics(topic);
    const file = schedulesFile(`schedules:
  - { name: monthly, cron: "10 0 1 * *", topic: ${topic}, key: "{{previousMonth}}", payload: { month: "{{previousMonth}}", mode: auto } }
  - { name: off, cron: "0 * * * *", topic: ${topic}, enabled: false }
`);
    const scheduler = await start(instance, file);
    const listed = (await (await fetch(`${scheduler.url}/schedules`)).json()) as { schedules: Record<string, unknown>[] };
    expect(listed.schedules.map((s) => [s.name, s.enabled, s.lastFiring])).toEqual([
      ['monthly', true, null],
      ['off', false, null],
    ]);
    expect(Date.parse(String(listed.schedules[0]?.nextFiring))).toBeGreaterThan(Date.now());
    expect(String(listed.schedules[0]?.nextFiring)).toMatch(/-01T00:10:00.000Z$/);
    expect(listed.schedules[1]?.nextFiring).toBeNull();

    const trigger = (name: string, body: unknown, token: string | null = API_TOKEN) =>
      fetch(`${scheduler.url}/schedules/${name}/trigger`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    expect((await trigger('monthly', {}, null)).status).toBe(401);
    expect((await trigger('monthly', {}, 'wrong-token-0123456789')).status).toBe(401);
    expect((await trigger('nope', {})).status).toBe(404);
    const bad = await trigger('monthly', { payload: { month: 7 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('payload.month');
    const accepted = await trigger('monthly', { payload: { month: '2026-10' } });
    expect(accepted.status).toBe(202);
    const sent = (await accepted.json()) as { id: string; topic: string };
    expect(sent.id).toMatch(/^manual:monthly:[0-9a-f-]{36}$/);
    expect(sent.topic).toBe(topic);

    const [tick] = await readTicks(topic, 1);
    expect(tick?.id).toBe(sent.id);
    expect(tick?.tick.payload).toEqual({ month: '2026-10', mode: 'auto' });
  });

  it('refuses to start on a bad schedule, naming it', async () => {
    const file = schedulesFile('schedules:\n  - { name: broken, cron: "* * * *", topic: metering.requests }\n');
    const scheduler = spawnScheduler(uniqueName('sched'), file);
    running.push(scheduler);
    expect(await scheduler.exited).toBe(1);
    expect(scheduler.output.join('')).toContain('schedule "broken": cron "* * * *" is invalid');
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`not within ${timeoutMs} ms`);
}
