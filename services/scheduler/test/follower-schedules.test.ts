// GET /schedules on a follower: an unauthenticated endpoint, so a burst of requests must not
// turn into a burst of consumer groups on the cluster; and it still answers what has fired.

import { topicSpecs } from '@tickflow/messaging';
import { uniqueName } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { schedulerTopicDeclaration, schedulerTopics } from '../src/topics.ts';
import {
  createTopics,
  kafka,
  leaderAndFollower,
  type SchedulerProcess,
  schedulesFile,
  startScheduler,
  stopScheduler,
} from './scheduler-process.ts';

const running: SchedulerProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await stopScheduler(s, 'SIGKILL');
});

async function start(instance: string, file: string): Promise<SchedulerProcess> {
  const scheduler = await startScheduler(instance, file);
  running.push(scheduler);
  return scheduler;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Listed {
  schedules: { name: string; lastFiring: string | null }[];
}

const lastFiring = (listed: Listed, name: string) => listed.schedules.find((s) => s.name === name)?.lastFiring;

describe('GET /schedules on a follower', () => {
  it('opens no consumer group per request, and answers the last firings', async () => {
    const instance = uniqueName('sched');
    const topic = `${instance}.target`;
    const names = schedulerTopics(instance);
    await createTopics(topic);
    // What an earlier leader left: a monthly schedule that fired once. With catch-up `none`
    // nobody fires it again, so its last firing stays this one.
    const monthlyFired = '2026-01-01T00:10:00.000Z';
    const admin = kafka.admin();
    await admin.connect();
    const stateSpec = topicSpecs(schedulerTopicDeclaration(instance)).find((s) => s.name === names.state);
    await admin.createTopics({
      topics: [
        {
          topic: names.state,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: String(stateSpec?.cleanupPolicy) },
            { name: 'retention.ms', value: String(stateSpec?.retentionMs) },
          ],
        },
      ],
      waitForLeaders: true,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: names.state,
      acks: -1,
      messages: [{ key: 'monthly', value: JSON.stringify({ lastFired: monthlyFired }) }],
    });
    await producer.disconnect();

    const file = schedulesFile(`schedules:
  - { name: monthly, cron: "10 0 1 * *", topic: ${topic}, catchUp: { policy: none } }
  - { name: every-second, cron: "* * * * * *", topic: ${topic}, catchUp: { policy: all, window: 1h } }
`);
    const [leader, follower] = await leaderAndFollower(await start(instance, file), await start(instance, file));
    await sleep(1500);

    const instanceGroups = async () =>
      (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((id) => id.startsWith(instance))
        .sort();
    const before = await instanceGroups();
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const id of await instanceGroups()) seen.add(id);
        await sleep(50);
      }
    })();

    const requestedAt = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const response = await fetch(`${follower.url}/schedules`);
        expect(response.status).toBe(200);
        return (await response.json()) as Listed;
      }),
    );
    await sleep(1000);
    sampling = false;
    await sampler;
    const after = await instanceGroups();

    expect(
      [...seen].filter((id) => !before.includes(id)),
      'groups opened by the requests',
    ).toEqual([]);
    expect(after).toEqual(before);
    for (const answer of answers) {
      expect(lastFiring(answer, 'monthly')).toBe(monthlyFired);
      // Fired by the leader a moment ago: not some older view of the state.
      expect(Date.parse(String(lastFiring(answer, 'every-second')))).toBeGreaterThan(requestedAt - 3000);
    }
    // As fresh as the leader's own answer, give or take the firing in between.
    const leaderSays = (await (await fetch(`${leader.url}/schedules`)).json()) as Listed;
    await sleep(300);
    const followerSays = (await (await fetch(`${follower.url}/schedules`)).json()) as Listed;
    expect(Date.parse(String(lastFiring(followerSays, 'every-second')))).toBeGreaterThanOrEqual(
      Date.parse(String(lastFiring(leaderSays, 'every-second'))),
    );
    await admin.disconnect();
  });
});
