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

async function declare(service: string, specs: unknown[]): Promise<void> {
  await mkdir(join(servicesDir, service, 'src'), { recursive: true });
  await writeFile(
    join(servicesDir, service, 'src', 'topics.ts'),
    `export function topicSpecs() {\n  return ${JSON.stringify(specs)};\n}\n`,
  );
}

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
  it('finds each service directory with src/topics.ts', async () => {
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
      { name: `${prefix}.alpha.requests`, services: ['alpha'], partitions: 3, status: 'existing' },
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

  it('refuses declarations that disagree, naming the topic and the services', async () => {
    const conflicting = await mkdtemp(join(tmpdir(), 'tickflow-cli-services-'));
    try {
      for (const [service, partitions] of [
        ['one', 3],
        ['two', 6],
      ] as const) {
        await mkdir(join(conflicting, service, 'src'), { recursive: true });
        const spec = { name: `${prefix}.contested`, partitions, retentionMs: 1000, cleanupPolicy: 'delete' };
        await writeFile(join(conflicting, service, 'src', 'topics.ts'), `export const topicSpecs = () => [${JSON.stringify(spec)}];\n`);
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
