// A service under test as a real process, as `npm start` runs it: its JSON log kept, its URL
// read from its "started" line; and the Kafka ends a test needs around it — sending events
// onto its topics and reading what it writes.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventCodec, type EventContract } from '@tickflow/contracts';
import { cloudEventHeaders, type Headers, newCloudEvent } from '@tickflow/messaging';
import { type Consumer, Kafka, logLevel, type Producer } from 'kafkajs';
import { eventually, stack, uniqueName } from './stack.ts';

export interface ServiceProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** Lines of its JSON log with this `msg`. */
  logged(msg: string): Record<string, unknown>[];
}

export interface StartedServiceProcess extends ServiceProcess {
  url: string;
}

/** Starts `main` (a service's src/main.ts) with `env` over the local stack's defaults. */
export function spawnServiceProcess(main: string, env: Record<string, string>): ServiceProcess {
  const output: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    // On the local stack, as `npm start` runs it (also from benchmarks, outside vitest).
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
  return { child, output, exited, logged };
}

/**
 * Starts `main` and waits for its "started" line. A start provisions the service's topics
 * (request, tiers, ladder, DLQ); with replicas racing to create them on a broker busy with the
 * whole suite, the leaders can take most of a minute to show.
 */
export async function startServiceProcess(main: string, env: Record<string, string>, timeoutMs = 75_000): Promise<StartedServiceProcess> {
  const spawned = spawnServiceProcess(main, env);
  // A process that exits (a refused config, a crash) fails the start at once, not at the timeout.
  const stopped = new AbortController();
  const exitedEarly = spawned.exited.then((code) => {
    if (!stopped.signal.aborted) throw new Error(`${main} exited with ${code} before it started`);
    return '';
  });
  const started = eventually(
    `${main} to start`,
    async () => {
      const line = spawned.logged('started')[0];
      return line ? String(line.url) : undefined;
    },
    timeoutMs,
  );
  const url = await Promise.race([started, exitedEarly])
    .catch((error: Error) => {
      spawned.child.kill('SIGKILL');
      throw new Error(`${error.message}\n${spawned.output.join('')}`);
    })
    .finally(() => stopped.abort());
  return { ...spawned, url };
}

export interface ReadEvent {
  type: string;
  key: string | null;
  headers: Headers;
  payload: Record<string, unknown>;
}

/** Sends events onto topics and reads topics back, decoded, for one test file. */
export class EventTap {
  readonly kafka = new Kafka({ clientId: uniqueName('tap'), brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  readonly codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
  private readonly producer: Producer = this.kafka.producer();
  private connected: Promise<void> | undefined;
  private readonly readers: Consumer[] = [];

  /** Sends one event with a fresh CloudEvents id (or the headers given); resolves with its headers. */
  async send<T>(topic: string, contract: EventContract<T>, payload: T, key: string, headers: Headers = {}): Promise<Headers> {
    this.connected ??= this.producer.connect();
    await this.connected;
    await this.codec.register([contract]);
    const all = { ...cloudEventHeaders(newCloudEvent('tickflow/test', contract.type)), ...headers };
    await this.producer.send({ topic, acks: -1, messages: [{ key, value: await this.codec.encode(contract, payload), headers: all }] });
    return all;
  }

  /** Every record of `topic` from its beginning, decoded, appended to the array as it arrives. */
  async read(topic: string): Promise<ReadEvent[]> {
    const events: ReadEvent[] = [];
    const consumer = this.kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
    this.readers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Headers = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) if (value !== undefined) headers[name] = String(value);
        const payload = (await this.codec.decode(message.value).catch(() => ({ payload: undefined }))).payload as Record<string, unknown>;
        events.push({ type: headers.ce_type ?? '', key: message.key?.toString() ?? null, headers, payload });
      },
    });
    return events;
  }

  async close(): Promise<void> {
    await Promise.all(this.readers.splice(0).map((r) => r.disconnect().catch(() => undefined)));
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
  }
}
