// Clients connecting to a secured Kafka and a schema registry behind authentication, for real.
// One broker of the test's own listens with SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), TLS,
// SASL over TLS and mutual TLS; every client is configured from environment variables as a
// service is (loadInfrastructure), so through the one kafkaClientConfig. The local registry
// has no authentication, so a proxy in front of it asks for HTTP basic credentials.
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { EventCodec } from '@tickflow/contracts';
import { type Env, loadInfrastructure } from '@tickflow/runtime';
import { eventually, stack, ThrowawayKafka, uniqueName } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { cloudEventHeaders, newCloudEvent } from '../src/envelope.ts';
import { KafkaJsTransport } from '../src/kafkajs-transport.ts';
import { defineService, type RunningService, resolveService, startService } from '../src/service-host.ts';
import type { ReceivedRecord } from '../src/transport.ts';
import { testJob } from './test-bed.ts';

const USER = 'tickflow-svc';
const PASSWORD = 'kafka-secret-3f9c1a';
const WRONG_PASSWORD = 'not-the-password-81d2';
const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];

const REGISTRY_USER = 'registry-client';
const REGISTRY_PASSWORD = 'registry-secret-77b0e4';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

let broker: ThrowawayKafka;
let registry: RegistryProxy;

beforeAll(async () => {
  [broker, registry] = await Promise.all([
    ThrowawayKafka.start({ saslUsers: { [USER]: PASSWORD }, tls: true }),
    startBasicAuthProxy(stack.schemaRegistryUrl, REGISTRY_USER, REGISTRY_PASSWORD),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([broker?.remove(), registry?.close()]);
});

/** The variables of a client that logs in as USER with `mechanism`, on the SASL listener or SASL over TLS. */
function saslEnv(mechanism: Mechanism, password = PASSWORD, listener: 'sasl' | 'sasl-tls' = 'sasl'): Env {
  return {
    KAFKA_BROKERS: broker.brokersOf(listener).join(','),
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: password,
    ...(listener === 'sasl-tls' ? { KAFKA_TLS_CA_FILE: broker.tlsFiles.caFile } : {}),
  };
}

function transportFrom(env: Env, output: CapturedOutput): KafkaJsTransport {
  const { kafkaBrokers, kafkaSecurity } = loadInfrastructure(env);
  return new KafkaJsTransport({ clientId: uniqueName('secured-client'), brokers: kafkaBrokers, security: kafkaSecurity, log: output.log });
}

/** Creates a topic, produces a record to it and consumes it back, all through one transport configured from `env`. */
async function roundTrip(env: Env): Promise<ReceivedRecord> {
  const transport = transportFrom(env, new CapturedOutput());
  const topic = uniqueName('secured');
  try {
    await transport.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3_600_000, cleanupPolicy: 'delete' }]);
    let received: ReceivedRecord | undefined;
    const subscription = await transport.subscribe({
      groupId: uniqueName('secured-group'),
      topics: [topic],
      concurrency: 1,
      startFrom: 'earliest',
      onBatch: async (batch) => {
        for (const record of batch.records) {
          received ??= record;
          await batch.commit(record);
        }
      },
    });
    try {
      await transport.produce([{ topic, key: 'greeting', value: Buffer.from('over a secured connection'), headers: {} }]);
      return await eventually(`the record back from ${topic}`, async () => received, 30_000);
    } finally {
      await subscription.stop();
    }
  } finally {
    await transport.close();
  }
}

/** How producing through a transport configured from `env` fails, with everything it and kafkajs printed meanwhile. */
async function produceFailure(env: Env): Promise<{ error: Error; output: string }> {
  const output = new CapturedOutput();
  const transport = transportFrom(env, output);
  output.start();
  try {
    const error = await transport.produce([{ topic: 'never-written', key: null, value: Buffer.from('x'), headers: {} }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof Error)) throw new Error(`expected producing to fail, got ${inspect(error)}`);
    await transport.close().catch(() => undefined);
    return { error, output: output.text() };
  } finally {
    output.stop();
  }
}

describe('a KafkaJsTransport configured from the environment', () => {
  it.each(MECHANISMS)('produces and consumes with SASL %s', async (mechanism) => {
    const record = await roundTrip(saslEnv(mechanism));
    expect(record.key?.toString()).toBe('greeting');
    expect(record.value?.toString()).toBe('over a secured connection');
  });

  it('produces and consumes over TLS, trusting the CA of KAFKA_TLS_CA_FILE', async () => {
    const record = await roundTrip({ KAFKA_BROKERS: broker.brokersOf('tls').join(','), KAFKA_TLS_CA_FILE: broker.tlsFiles.caFile });
    expect(record.value?.toString()).toBe('over a secured connection');
  });

  it('produces and consumes with SCRAM-SHA-512 over TLS, as on MSK', async () => {
    const record = await roundTrip({ ...saslEnv('scram-sha-512', PASSWORD, 'sasl-tls'), KAFKA_TLS: 'true' });
    expect(record.value?.toString()).toBe('over a secured connection');
  });

  it('produces and consumes with a client certificate where the broker requires one', async () => {
    const { caFile, clientCertFile, clientKeyFile } = broker.tlsFiles;
    const record = await roundTrip({
      KAFKA_BROKERS: broker.brokersOf('mutual-tls').join(','),
      KAFKA_TLS_CA_FILE: caFile,
      KAFKA_TLS_CERT_FILE: clientCertFile,
      KAFKA_TLS_KEY_FILE: clientKeyFile,
    });
    expect(record.value?.toString()).toBe('over a secured connection');
  });

  it.each(MECHANISMS)('fails on a wrong password with SASL %s, naming SASL authentication and never the password', async (mechanism) => {
    const { error, output } = await produceFailure(saslEnv(mechanism, WRONG_PASSWORD));
    expect(error.message).toMatch(/SASL .*authentication failed/i);
    // The capture did see the failure, so its lack of the password means something.
    expect(output).toMatch(/authentication failed/i);
    for (const text of [error.message, inspect(error, { depth: 10 }), output]) {
      expect(text).not.toContain(WRONG_PASSWORD);
      expect(text).not.toContain(PASSWORD);
    }
  });

  it("fails over TLS without the CA file, saying the broker's certificate is not trusted and what to set", async () => {
    const { error } = await produceFailure({ KAFKA_BROKERS: broker.brokersOf('tls').join(','), KAFKA_TLS: 'true' });
    expect(error.message).toContain(
      "unable to verify the first certificate (no CA this client trusts signed the broker's certificate: KAFKA_TLS_CA_FILE names the CA that did)",
    );
  });

  it('fails without a client certificate where the broker requires one, saying what to set', async () => {
    const { error } = await produceFailure({
      KAFKA_BROKERS: broker.brokersOf('mutual-tls').join(','),
      KAFKA_TLS_CA_FILE: broker.tlsFiles.caFile,
    });
    expect(error.message).toMatch(/certificate.*KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE/);
  });
});

describe('tickflow CLI with KAFKA_SASL_* in the environment', () => {
  it('lists topics', async () => {
    const topic = uniqueName('cli-listed');
    const output = new CapturedOutput();
    const transport = transportFrom(saslEnv('scram-sha-256'), output);
    await transport.ensureTopics([{ name: topic, partitions: 2, retentionMs: 3_600_000, cleanupPolicy: 'delete' }]);
    await transport.close();

    const { code, stdout, stderr } = await tickflow(['topics', 'list', '--json'], saslEnv('scram-sha-256'));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const topics = JSON.parse(stdout) as { name: string; partitions: number }[];
    expect(topics).toContainEqual(expect.objectContaining({ name: topic, partitions: 2 }));
  });

  it('exits 1 with one clear line on a wrong password, the password nowhere', async () => {
    const { code, stdout, stderr } = await tickflow(['topics', 'list', '--json'], saslEnv('plain', WRONG_PASSWORD));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: .*SASL PLAIN authentication.*KAFKA_SASL_PASSWORD/);
    expect(stderr).not.toContain(WRONG_PASSWORD);
  });

  it('asks whether SASL is wanted when a SASL listener hangs up on it', async () => {
    const { code, stderr } = await tickflow(['topics', 'list'], { KAFKA_BROKERS: broker.brokersOf('sasl').join(',') });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n')).toEqual([
      `error: Kafka at ${broker.brokersOf('sasl')[0]} (KAFKA_BROKERS) closed the connection: does this listener want KAFKA_SASL_MECHANISM or KAFKA_TLS? (Closed connection)`,
    ]);
  });
});

describe('an EventCodec with a registry behind HTTP basic authentication', () => {
  const auth = { username: REGISTRY_USER, password: REGISTRY_PASSWORD };

  it('registers, encodes and decodes through it with auth', async () => {
    const before = registry.requests.length;
    const writer = new EventCodec({ registryUrl: registry.url, auth });
    await writer.register([testJob]);
    const value = await writer.encode(testJob, { id: 'behind-auth' });
    // A second codec knows no schema yet: decoding fetches the writer's schema through the proxy.
    const reader = new EventCodec({ registryUrl: registry.url, auth });
    expect((await reader.decodeAs(testJob, value)).payload).toEqual({ id: 'behind-auth' });
    const seen = registry.requests.slice(before);
    expect(seen.map((r) => r.method)).toEqual(expect.arrayContaining(['PUT', 'POST', 'GET']));
    expect(seen.every((r) => r.authorized)).toBe(true);
  });

  it('says which variables to set when it has no credentials', async () => {
    const codec = new EventCodec({ registryUrl: registry.url });
    await expect(codec.register([testJob])).rejects.toThrow(
      `the schema registry at ${registry.url} asks for credentials: set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: HTTP 401`,
    );
  });

  it('names the user, never the password, when the credentials are wrong', async () => {
    const codec = new EventCodec({ registryUrl: registry.url, auth: { username: REGISTRY_USER, password: WRONG_PASSWORD } });
    const error = await codec.register([testJob]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(
      `the schema registry at ${registry.url} refused the credentials of user '${REGISTRY_USER}' (SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD): HTTP 401`,
    );
    expect(inspect(error, { depth: 10 })).not.toContain(WRONG_PASSWORD);
  });
});

describe('a service on the secured Kafka and registry', () => {
  let service: RunningService | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('is configured from the environment, becomes ready and handles an event', async () => {
    const instance = uniqueName('secured-svc');
    const topic = `${instance}.requests`;
    const handled: string[] = [];
    const definition = defineService({
      service: 'aggregator',
      instance: () => instance,
      topics: () => ({ service: instance, consumes: [{ name: topic }] }),
      create: () => ({
        routes(router) {
          router.route(topic, testJob, async ({ payload }) => {
            handled.push(payload.id);
          });
        },
      }),
    });
    const env: Env = {
      ...saslEnv('scram-sha-512', PASSWORD, 'sasl-tls'),
      SCHEMA_REGISTRY_URL: registry.url,
      SCHEMA_REGISTRY_USERNAME: REGISTRY_USER,
      SCHEMA_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
      PORT: '0',
    };
    const { infrastructure } = resolveService(definition, env).config;
    expect(infrastructure.schemaRegistryAuth).toEqual({ username: REGISTRY_USER, password: REGISTRY_PASSWORD });
    expect(infrastructure.kafkaSecurity).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: USER, password: PASSWORD },
      tls: { ca: expect.stringContaining('BEGIN CERTIFICATE') },
    });

    const before = registry.requests.length;
    const running = await withProcessEnv(env, () => startService(definition));
    service = running;
    await eventually('readiness', async () => ((await fetch(`${running.url}/readyz`)).status === 200 ? true : undefined), 30_000);
    // The router registered its contracts at start, through the proxy and with the credentials.
    const seen = registry.requests.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.authorized)).toBe(true);

    const codec = new EventCodec({ registryUrl: registry.url, auth: { username: REGISTRY_USER, password: REGISTRY_PASSWORD } });
    await codec.register([testJob]);
    const transport = transportFrom(env, new CapturedOutput());
    try {
      await transport.produce([
        {
          topic,
          key: 'job-1',
          value: await codec.encode(testJob, { id: 'job-1' }),
          headers: cloudEventHeaders(newCloudEvent('tickflow/test', testJob.type)),
        },
      ]);
    } finally {
      await transport.close();
    }
    await eventually('the event handled', async () => (handled.includes('job-1') ? true : undefined), 30_000);
  });
});

/** What a client printed: its transport's log, and kafkajs' own logger (which writes to the console) while started. */
class CapturedOutput {
  private readonly lines: string[] = [];
  private spies: MockInstance[] = [];
  readonly log = { warn: (msg: string, fields?: Record<string, unknown>) => this.lines.push(`${msg} ${inspect(fields, { depth: 10 })}`) };

  start(): void {
    this.spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        this.lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 10 }))).join(' '));
      }),
    );
  }

  stop(): void {
    for (const spy of this.spies) spy.mockRestore();
    this.spies = [];
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Runs `tickflow` as an operator would, with `env` in place of any Kafka or registry settings of this process. */
async function tickflow(args: string[], env: Env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(KAFKA_|SCHEMA_REGISTRY_)/.test(name)));
  const child = spawn('node', ['--import', 'tsx', 'cli/src/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

/** startService reads process.env: set `env` there for the call, then put back what was there. */
async function withProcessEnv<T>(env: Env, action: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await action();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

interface RegistryProxy {
  /** The registry's URL, through the proxy. */
  url: string;
  requests: { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

/** A reverse proxy to the registry at `target` that answers 401 to any request without these HTTP basic credentials. */
async function startBasicAuthProxy(target: string, username: string, password: string): Promise<RegistryProxy> {
  const upstream = new URL(target);
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const requests: RegistryProxy['requests'] = [];
  const server = createServer((incoming, reply) => {
    const authorized = incoming.headers.authorization === expected;
    requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', authorized });
    if (!authorized) {
      incoming.resume();
      reply.writeHead(401, { 'www-authenticate': 'Basic realm="schema-registry"', 'content-type': 'application/json' });
      reply.end(JSON.stringify({ error_code: 401, message: 'Unauthorized' }));
      return;
    }
    const { authorization: _credentials, ...headers } = incoming.headers;
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...headers, host: upstream.host },
      },
      (response) => {
        reply.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(reply);
      },
    );
    forwarded.on('error', (error) => {
      reply.writeHead(502);
      reply.end(String(error));
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname.replace(/\/+$/, '')}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Clients keep connections alive; close would wait for them to time out.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
