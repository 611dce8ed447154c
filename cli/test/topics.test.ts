// `tickflow topics list` and `topics provision` against the real broker; provisioning
// reads declarations from a services directory the test writes.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaJsTransport } from '@tickflow/messaging';
import { stack, uniqueName } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTopics } from '../src/commands/topics.ts';
import { KafkaCluster } from '../src/kafka-cluster.ts';
import { discoverTopicDeclarations } from '../src/topic-declarations.ts';
import type { ProvisionedTopic, TopicDescription } from '../src/topic-report.ts';
import { STACK_TRACE, tickflow, tickflowJson } from './stack-fixtures.ts';

const prefix = uniqueName('cli-topics');
const DAY_MS = 86_400_000;
let servicesDir: string;
const cluster = new KafkaCluster(stack.kafkaBrokers);

/** A service definition whose topics are exactly `specs`, as `src/service.ts` of `dir/service`. */
async function writeDefinition(dir: string, service: string, specs: unknown[]): Promise<void> {
  await mkdir(join(dir, service, 'src'), { recursive: true });
  const topics = `() => ({ service: '${service}', consumes: [], events: false, own: ${JSON.stringify(specs)} })`;
  await writeFile(
    join(dir, service, 'src', 'service.ts'),
    `export const service = { service: 'metering', topics: ${topics}, create: () => ({}) };\n`,
  );
}

const declare = (service: string, specs: unknown[]) => writeDefinition(servicesDir, service, specs);

beforeAll(async () => {
  servicesDir = await mkdtemp(join(tmpdir(), 'tickflow-cli-services-'));
  await declare('alpha', [
    { name: `${prefix}.alpha.requests`, partitions: 3, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' },
    { name: `${prefix}.shared.state`, partitions: 1, retentionMs: -1, cleanupPolicy: 'compact' },
  ]);
  await declare('beta', [
    { name: `${prefix}.shared.state`, partitions: 1, retentionMs: -1, cleanupPolicy: 'compact' },
    { name: `${prefix}.beta.requests.dlq`, partitions: 2, retentionMs: -1, cleanupPolicy: 'delete' },
  ]);
  // A service without a declaration is skipped.
  await mkdir(join(servicesDir, 'gamma', 'src'), { recursive: true });
  const transport = new KafkaJsTransport({ clientId: 'cli-topics-test', brokers: stack.kafkaBrokers });
  await transport.ensureTopics([{ name: `${prefix}.alpha.requests`, partitions: 3, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' }]);
  await transport.close();
});

afterAll(async () => {
  await cluster.close();
  await rm(servicesDir, { recursive: true, force: true });
});

describe('tickflow topics provision', () => {
  it('finds each service directory with a definition in src/service.ts', async () => {
    const declarations = await discoverTopicDeclarations(servicesDir);
    expect(declarations.map((d) => d.service)).toEqual(['alpha', 'beta']);
  });

  it('creates what is missing, reports what exists, and a second run creates nothing', async () => {
    const dry = await tickflowJson<ProvisionedTopic[]>(['topics', 'provision', '--services', servicesDir, '--dry-run']);
    expect(dry.map((t) => [t.name, t.status])).toEqual([
      [`${prefix}.alpha.requests`, 'existing'],
      [`${prefix}.beta.requests.dlq`, 'would create'],
      [`${prefix}.shared.state`, 'would create'],
    ]);
    expect((await describeTopics(cluster, prefix)).map((t) => t.name)).toEqual([`${prefix}.alpha.requests`]);

    const first = await tickflowJson<ProvisionedTopic[]>(['topics', 'provision', '--services', servicesDir]);
    expect(first).toEqual([
      // Created as declared (replication as the single local broker allows): nothing differs.
      { name: `${prefix}.alpha.requests`, services: ['alpha'], partitions: 3, status: 'existing', drift: [] },
      { name: `${prefix}.beta.requests.dlq`, services: ['beta'], partitions: 2, status: 'created' },
      { name: `${prefix}.shared.state`, services: ['alpha', 'beta'], partitions: 1, status: 'created' },
    ]);
    expect(await describeTopics(cluster, prefix)).toEqual([
      { name: `${prefix}.alpha.requests`, partitions: 3, cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS },
      { name: `${prefix}.beta.requests.dlq`, partitions: 2, cleanupPolicy: 'delete', retentionMs: -1 },
      { name: `${prefix}.shared.state`, partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 },
    ]);

    const second = await tickflow(['topics', 'provision', '--services', servicesDir]);
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split('\n').at(-1)).toBe('0 created, 3 existing');
  });

  it('reports, and leaves alone, an existing topic whose settings differ from its declaration', async () => {
    const drifted = await mkdtemp(join(tmpdir(), 'tickflow-cli-services-'));
    // A prefix of their own, kept out of the listing tests.
    const driftPrefix = uniqueName('cli-topics-drift');
    const handmade = `${driftPrefix}.handmade.requests`;
    const wide = `${driftPrefix}.wide.requests`;
    try {
      // Made by hand, not from the declaration.
      const admin = await cluster.admin();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: handmade,
            numPartitions: 2,
            configEntries: [
              { name: 'retention.ms', value: String(DAY_MS) },
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'min.insync.replicas', value: '2' },
            ],
          },
          { topic: wide, numPartitions: 4, configEntries: [{ name: 'retention.ms', value: String(7 * DAY_MS) }] },
        ],
      });
      const specs = [
        { name: handmade, partitions: 3, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete', replicationFactor: 2 },
        { name: wide, partitions: 2, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' },
      ];
      await writeDefinition(drifted, 'delta', specs);

      const expected = [
        {
          name: handmade,
          services: ['delta'],
          partitions: 3,
          status: 'existing',
          drift: [
            {
              setting: 'partitions',
              declared: 3,
              actual: 2,
              remedy: expect.stringMatching(/^can be increased: .*--partitions 3; keys then map/),
            },
            { setting: 'replication.factor', declared: 2, actual: 1, remedy: expect.stringContaining('kafka-reassign-partitions.sh') },
            // Not declared: the default on a single broker, 1.
            { setting: 'min.insync.replicas', declared: 1, actual: 2, remedy: expect.stringContaining('min.insync.replicas=1') },
            {
              setting: 'retention.ms',
              declared: 7 * DAY_MS,
              actual: DAY_MS,
              remedy: expect.stringContaining(`retention.ms=${7 * DAY_MS}`),
            },
            {
              setting: 'cleanup.policy',
              declared: 'delete',
              actual: 'compact',
              remedy: expect.stringContaining('cleanup.policy=delete; records past retention are then deleted'),
            },
          ],
        },
        {
          name: wide,
          services: ['delta'],
          partitions: 2,
          status: 'existing',
          drift: [{ setting: 'partitions', declared: 2, actual: 4, remedy: expect.stringMatching(/^partitions cannot be removed/) }],
        },
      ];
      expect(await tickflowJson<ProvisionedTopic[]>(['topics', 'provision', '--services', drifted, '--dry-run'])).toEqual(expected);
      expect(await tickflowJson<ProvisionedTopic[]>(['topics', 'provision', '--services', drifted])).toEqual(expected);

      const text = await tickflow(['topics', 'provision', '--services', drifted]);
      expect(text.code).toBe(0);
      const lines = text.stdout.trim().split('\n');
      expect(lines).toContain(
        `  ${wide}: partitions is 4, declared 2: partitions cannot be removed: declare 4, or recreate the topic (its records are lost)`,
      );
      expect(lines.at(-1)).toBe('0 created, 2 existing, 2 not as declared (left as they are)');
      // Nothing was "fixed".
      expect(await describeTopics(cluster, handmade)).toEqual([
        { name: handmade, partitions: 2, cleanupPolicy: 'compact', retentionMs: DAY_MS },
      ]);
    } finally {
      await rm(drifted, { recursive: true, force: true });
    }
  });

  it('refuses declarations that disagree, naming the topic and the services', async () => {
    const conflicting = await mkdtemp(join(tmpdir(), 'tickflow-cli-services-'));
    try {
      for (const [service, partitions] of [
        ['one', 3],
        ['two', 6],
      ] as const) {
        await writeDefinition(conflicting, service, [
          { name: `${prefix}.contested`, partitions, retentionMs: 1000, cleanupPolicy: 'delete' },
        ]);
      }
      const run = await tickflow(['topics', 'provision', '--services', conflicting]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`error: topic ${prefix}.contested is declared differently by one and two\n`);
      expect(run.stderr).not.toMatch(STACK_TRACE);
    } finally {
      await rm(conflicting, { recursive: true, force: true });
    }
  });
});

describe('tickflow topics list', () => {
  it('lists topics by prefix with partitions, cleanup policy and retention', async () => {
    await tickflowJson(['topics', 'provision', '--services', servicesDir]);
    const listed = await tickflowJson<TopicDescription[]>(['topics', 'list', '--prefix', `${prefix}.`]);
    expect(listed).toEqual([
      { name: `${prefix}.alpha.requests`, partitions: 3, cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS },
      { name: `${prefix}.beta.requests.dlq`, partitions: 2, cleanupPolicy: 'delete', retentionMs: -1 },
      { name: `${prefix}.shared.state`, partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 },
    ]);
    const text = await tickflow(['topics', 'list', '--prefix', `${prefix}.`]);
    expect(text.stdout.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^TOPIC\s+PARTITIONS {2}CLEANUP {2}RETENTION$/),
      expect.stringMatching(new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.alpha\\.requests\\s+3 {2}delete {3}7d$`)),
    ]);
  });

  it('leaves out Kafka’s own topics unless the prefix asks for them', async () => {
    expect((await tickflowJson<TopicDescription[]>(['topics', 'list'])).some((t) => t.name.startsWith('__'))).toBe(false);
    expect((await tickflowJson<TopicDescription[]>(['topics', 'list', '--prefix', '__consumer'])).map((t) => t.name)).toEqual([
      '__consumer_offsets',
    ]);
  });
});
