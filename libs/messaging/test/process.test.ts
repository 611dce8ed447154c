// The service as a process: killed with SIGKILL mid-batch it loses nothing; stopped with
// SIGTERM it drains what is in flight, commits, and exits in bounded time.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EventCodec } from '@tickflow/contracts';
import { eventually, stack, uniqueName } from '@tickflow/testing';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudEventHeaders, newCloudEvent } from '../src/envelope.ts';
import { testJob } from './test-bed.ts';

const fixture = fileURLToPath(new URL('./fixtures/recording-service.ts', import.meta.url));
const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
const kafka = new Kafka({ clientId: 'process-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
const producer = kafka.producer();
const codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
const children: ChildProcess[] = [];

beforeAll(async () => {
  await producer.connect();
  await codec.register([testJob]);
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(async () => {
  await producer.disconnect();
  await db.end();
});

function startService(
  instance: string,
  table: string,
  handleMs: number,
): { child: ChildProcess; output: string[]; exited: Promise<number | null> } {
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, TEST_INSTANCE: instance, TEST_TABLE: table, HANDLE_MS: String(handleMs), PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function started(service: { output: string[] }): Promise<void> {
  await eventually(
    'the service to start',
    async () => (service.output.join('').includes('"msg":"started"') ? true : undefined),
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${service.output.join('')}`);
  });
}

async function counts(table: string): Promise<{ rows: number; distinct: number }> {
  const result = await db.query<{ rows: string; distinct: string }>(
    `SELECT count(*) AS rows, count(DISTINCT id) AS distinct FROM ${table}`,
  );
  return { rows: Number(result.rows[0]?.rows), distinct: Number(result.rows[0]?.distinct) };
}

async function produce(topic: string, ids: string[], key: (i: number) => string): Promise<void> {
  const headers = cloudEventHeaders(newCloudEvent('tickflow/test', testJob.type));
  const messages = await Promise.all(ids.map(async (id, i) => ({ key: key(i), value: await codec.encode(testJob, { id }), headers })));
  await producer.send({ topic, acks: -1, messages });
}

describe('a service process', () => {
  it('killed with SIGKILL in the middle of a batch, loses nothing', async () => {
    const instance = uniqueName('killed');
    const table = uniqueName('handled').replaceAll('-', '_');
    await db.query(`CREATE TABLE ${table} (id text NOT NULL, pid int NOT NULL)`);
    const ids = Array.from({ length: 300 }, (_, i) => `m${i}`);

    const first = startService(instance, table, 5);
    await started(first);
    await produce(`${instance}.requests`, ids, (i) => `k${i}`);
    await eventually('some messages handled', async () => ((await counts(table)).rows >= 60 ? true : undefined), 30_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await counts(table);
    expect(atKill.distinct).toBeLessThan(ids.length);

    const second = startService(instance, table, 0);
    await started(second);
    const final = await eventually('every message handled', async () => {
      const c = await counts(table);
      return c.distinct === ids.length ? c : undefined;
    });
    expect(final.distinct).toBe(ids.length);
    // At least once: the records of the last uncommitted batch may be handled twice.
    expect(final.rows).toBeGreaterThanOrEqual(ids.length);
    second.child.kill('SIGTERM');
    await second.exited;
  });

  it('stopped with SIGTERM, finishes the message in hand, commits, and exits within the bound', async () => {
    const instance = uniqueName('drained');
    const table = uniqueName('handled').replaceAll('-', '_');
    await db.query(`CREATE TABLE ${table} (id text NOT NULL, pid int NOT NULL)`);
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);

    const first = startService(instance, table, 400);
    await started(first);
    // One key: one partition, handled in order, 400 ms each.
    await produce(`${instance}.requests`, ids, () => 'same-key');
    await eventually('two messages handled', async () => ((await counts(table)).rows >= 2 ? true : undefined), 30_000);
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const code = await first.exited;
    expect(code, first.output.join('')).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    const atStop = await counts(table);
    expect(atStop.distinct).toBeLessThan(ids.length);

    const second = startService(instance, table, 0);
    await started(second);
    const final = await eventually('every message handled', async () => {
      const c = await counts(table);
      return c.distinct === ids.length ? c : undefined;
    });
    // Drained and committed: nothing the first process finished is handled again.
    expect(final.rows).toBe(ids.length);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
