// One test per component of the stack, each through the client tickflow itself uses,
// proving the component is the real server and answers where the README says.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { eventually, stack, uniqueName } from '@tickflow/testing';
import { Redis } from 'ioredis';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

describe('the local stack', () => {
  it('Kafka: a record produced is consumed, and topics are never auto-created', async () => {
    const kafka = new Kafka({ clientId: 'smoke', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: uniqueName('smoke-group') });
    const topic = uniqueName('smoke');
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    try {
      const brokerConfig = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['auto.create.topics.enable'] }],
        includeSynonyms: false,
      });
      expect(brokerConfig.resources[0]?.configEntries[0]?.configValue).toBe('false');

      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'hello kafka' }] });
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<{ key: string; value: string }>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => resolve({ key: String(message.key), value: String(message.value) }),
        });
      });
      expect(await received).toEqual({ key: 'k1', value: 'hello kafka' });
    } finally {
      await Promise.all([consumer.disconnect(), producer.disconnect()]);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('Schema registry: a schema registered is fetched back and round-trips a value', async () => {
    const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl });
    const subject = uniqueName('smoke-value');
    const schema = JSON.stringify({
      type: 'record',
      name: 'Smoke',
      namespace: 'dev.tickflow.smoke',
      fields: [{ name: 'greeting', type: 'string' }],
    });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
    expect(id).toBeGreaterThan(0);
    const fetched = (await registry.getSchema(id)) as unknown as { name: string };
    expect(fetched.name).toBe('dev.tickflow.smoke.Smoke');
    const encoded = await registry.encode(id, { greeting: 'hi' });
    expect(encoded[0]).toBe(0); // the Confluent wire format's magic byte
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual({ greeting: 'hi' });
  });

  it('PostgreSQL: a row written is read back', async () => {
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      await client.query('CREATE TEMP TABLE smoke (id serial PRIMARY KEY, note text NOT NULL)');
      const inserted = await client.query<{ id: number }>('INSERT INTO smoke (note) VALUES ($1) RETURNING id', ['hello pg']);
      const read = await client.query<{ note: string }>('SELECT note FROM smoke WHERE id = $1', [inserted.rows[0]?.id]);
      expect(read.rows).toEqual([{ note: 'hello pg' }]);
    } finally {
      await client.end();
    }
  });

  it('Redis: INCRBY adds up', async () => {
    const redis = new Redis(stack.redisUrl);
    const key = uniqueName('smoke:counter');
    try {
      await redis.incrby(key, 40);
      expect(await redis.incrby(key, 2)).toBe(42);
      expect(await redis.get(key)).toBe('42');
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });

  it('S3: an object put is got back', async () => {
    const s3 = new S3Client({
      endpoint: stack.s3.endpoint,
      region: stack.s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
    });
    const bucket = uniqueName('smoke');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.txt', Body: 'hello s3', ContentType: 'text/plain' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello s3');
    s3.destroy();
  });

  it('Jaeger: a span sent over OTLP is found through the query API', async () => {
    const service = uniqueName('smoke-service');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${stack.otlpEndpoint}/v1/traces` }))],
    });
    const span = provider.getTracer('smoke').startSpan('smoke-span');
    const traceId = span.spanContext().traceId;
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(trace.isSpanContextValid(span.spanContext())).toBe(true);

    const found = await eventually('the span in Jaeger', async () => {
      const response = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
      if (!response.ok) return undefined;
      const body = (await response.json()) as {
        data: { spans: { operationName: string; processID: string }[]; processes: Record<string, { serviceName: string }> }[];
      };
      return body.data[0];
    });
    expect(found.spans.map((s) => s.operationName)).toEqual(['smoke-span']);
    expect(Object.values(found.processes).map((p) => p.serviceName)).toEqual([service]);
  });

  it('SMTP sink: a mail sent over SMTP is read back from its API', async () => {
    const transport = nodemailer.createTransport(stack.smtpUrl);
    const to = `${uniqueName('client')}@example.test`;
    const subject = uniqueName('smoke report');
    await transport.sendMail({ from: 'tickflow@example.test', to, subject, text: 'hello smtp' });
    transport.close();

    const message = await eventually('the mail in the sink', async () => {
      const response = await fetch(`${stack.smtpSinkApiUrl}/api/v1/search?query=${encodeURIComponent(`to:"${to}"`)}`);
      const body = (await response.json()) as { messages: { ID: string; Subject: string }[] };
      return body.messages[0];
    });
    expect(message.Subject).toBe(subject);
    const full = (await (await fetch(`${stack.smtpSinkApiUrl}/api/v1/message/${message.ID}`)).json()) as { Text: string };
    expect(full.Text.trim()).toBe('hello smtp');
  });
});
