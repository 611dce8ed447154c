// What the aggregator's tests share: the service as a real process with its own topics,
// PostgreSQL schema and Redis namespace; producing requests and reading its events on the
// real Kafka; reading totals back from PostgreSQL; a throwaway Redis for restart tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { EventCodec, type EventContract } from '@tickflow/contracts';
import { cloudEventHeaders, type Headers, newCloudEvent } from '@tickflow/messaging';
import { eventually, freePort, stack, uniqueName } from '@tickflow/testing';
import { Redis } from 'ioredis';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
export const kafka = new Kafka({ clientId: 'aggregator-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
export const codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
export const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 4 });

/** A date no other test (and no real tick) uses: a random day between the years 3000 and 8999. */
export function uniqueDate(): string {
  const day = new Date(Date.UTC(3000 + randomInt(6000), 0, 1) + randomInt(365) * 86_400_000);
  return day.toISOString().slice(0, 10);
}

/** A usage window that takes every date, for tests that build increments of their far-off dates with parseIncrements. */
export const ANY_DATE_WINDOW = { maxAgeMs: Number.POSITIVE_INFINITY, maxFutureMs: Number.POSITIVE_INFINITY };

export interface AggregatorProcess {
  child: ChildProcess;
  output: string[];
  url: string;
  instance: string;
  exited: Promise<number | null>;
  /** Lines of its JSON log with this `msg`. */
  logged(msg: string): Record<string, unknown>[];
}

export function spawnAggregator(env: Record<string, string>): Omit<AggregatorProcess, 'url'> {
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    // On the local stack, as `npm start` runs it (also from the benchmark, outside vitest).
    env: { ...process.env, TICKFLOW_ENV: 'local', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logged = (msg: string) =>
    output
      .join('')
      .split('\n')
      .filter((line) => line.includes(`"msg":"${msg}"`))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, output, exited, logged, instance: env.AGGREGATOR_INSTANCE ?? 'aggregator' };
}

/**
 * One aggregator deployment for a test: its schema and Redis namespace stay the same across
 * the processes it starts (restarts, replicas); each process may get its own instance name
 * (topics and consumer group), so that a fresh one never waits for a killed member's session
 * to expire.
 */
export class AggregatorBed {
  readonly instance = uniqueName('agg');
  readonly schema = this.instance.replaceAll('-', '_');
  readonly namespace = this.instance;
  readonly processes: AggregatorProcess[] = [];
  private readonly producer = kafka.producer();
  private producerConnected: Promise<void> | undefined;
  private readonly readers: Consumer[] = [];

  constructor(private readonly env: Record<string, string> = {}) {}

  async start(env: Record<string, string> = {}): Promise<AggregatorProcess> {
    const spawned = spawnAggregator({
      AGGREGATOR_INSTANCE: this.instance,
      AGGREGATOR_DB_SCHEMA: this.schema,
      AGGREGATOR_REDIS_NAMESPACE: this.namespace,
      AGGREGATOR_RETRY_TIERS: '1s',
      // The tests' dates lie in the years 3000 to 8999 (uniqueDate), so that no two tests share one.
      AGGREGATOR_USAGE_MAX_FUTURE: '2700000d',
      // A test reads the status of what it has just written: each status a survey of its own.
      AGGREGATOR_STATUS_MAX_AGE: '0',
      ...this.env,
      ...env,
    });
    const url = await eventually(
      'the aggregator to start',
      async () => {
        const line = spawned.logged('started')[0];
        return line ? String(line.url) : undefined;
      },
      // A start creates the service's topics (request, tiers, ladder, DLQ: 39 partitions);
      // with two replicas racing to create them on a broker busy with the whole suite, the
      // leaders can take most of a minute to show.
      75_000,
    ).catch((error: Error) => {
      spawned.child.kill('SIGKILL');
      throw new Error(`${error.message}\n${spawned.output.join('')}`);
    });
    const started = { ...spawned, url };
    this.processes.push(started);
    return started;
  }

  /** Sends one event onto `<instance>.requests` with a fresh CloudEvents id (or the one given). */
  async send<T>(
    contract: EventContract<T>,
    payload: T,
    key: string,
    options: { instance?: string; headers?: Headers } = {},
  ): Promise<Headers> {
    this.producerConnected ??= (async () => {
      await this.producer.connect();
      await codec.register([contract]);
    })();
    await this.producerConnected;
    await codec.register([contract]);
    const headers = { ...cloudEventHeaders(newCloudEvent('tickflow/test', contract.type)), ...options.headers };
    await this.producer.send({
      topic: `${options.instance ?? this.instance}.requests`,
      acks: -1,
      messages: [{ key, value: await codec.encode(contract, payload), headers }],
    });
    return headers;
  }

  /** Every record of `topic` from its beginning, decoded, as it arrives. */
  async read(topic: string): Promise<ReadEvent[]> {
    const events: ReadEvent[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
    this.readers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Headers = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = String(value);
        const payload = (await codec.decode(message.value).catch(() => ({ payload: undefined }))).payload as Record<string, unknown>;
        events.push({ type: headers.ce_type ?? '', key: message.key?.toString() ?? null, headers, payload });
      },
    });
    return events;
  }

  /** merchant_usage totals for `date`, by `merchant:metric`. */
  async totals(date: string): Promise<Map<string, bigint>> {
    const result = await db.query<{ merchant_id: string; metric_type: string; metric_value: string }>(
      `SELECT merchant_id, metric_type, metric_value::text FROM "${this.schema}".merchant_usage WHERE date = $1`,
      [date],
    );
    return new Map(result.rows.map((r) => [`${r.merchant_id}:${r.metric_type}`, BigInt(r.metric_value)]));
  }

  /** Kills its processes and removes what it left: its schema, and its pending batches should a test have failed. */
  async stop(): Promise<void> {
    for (const p of this.processes.splice(0)) p.child.kill('SIGKILL');
    await Promise.all(this.readers.splice(0).map((r) => r.disconnect().catch(() => undefined)));
    if (this.producerConnected) await this.producer.disconnect().catch(() => undefined);
    await db.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => undefined);
    await deleteKeys(this.env.REDIS_URL ?? stack.redisUrl, `${this.namespace}:*`).catch(() => undefined);
  }
}

/** Deletes every key matching `pattern` (a test's own namespace or dates, never more). */
export async function deleteKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface ReadEvent {
  type: string;
  key: string | null;
  headers: Headers;
  payload: Record<string, unknown>;
}

/** Sums of acknowledged increments, by `merchant:metric`, to compare with PostgreSQL. */
export class ExpectedTotals {
  readonly byCounter = new Map<string, bigint>();

  add(merchantId: string, metricType: string, amount: number): void {
    const key = `${merchantId}:${metricType}`;
    this.byCounter.set(key, (this.byCounter.get(key) ?? 0n) + BigInt(amount));
  }

  sum(): bigint {
    return [...this.byCounter.values()].reduce((a, b) => a + b, 0n);
  }
}

export function sumOf(totals: Map<string, bigint>): bigint {
  return [...totals.values()].reduce((a, b) => a + b, 0n);
}

/** A Redis of the test's own, without persistence: restarting it loses everything, as in production without AOF. */
export class ThrowawayRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    this.child = child;
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    await eventually('the throwaway Redis to answer', async () => {
      await client.connect().catch(() => undefined);
      return (await client.ping().catch(() => undefined)) === 'PONG' ? true : undefined;
    }).finally(() => client.disconnect());
  }

  /** SIGKILL and start again on the same port: everything it held is gone. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
