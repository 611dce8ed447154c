import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadInfrastructure } from '@tickflow/runtime';
import { uniqueName } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AvroRecordSchema,
  defineEvent,
  EventCodec,
  IncompatibleSchemaError,
  InvalidPayloadError,
  UndecodableError,
  type UndecodableReason,
} from '../src/index.ts';

const registryUrl = loadInfrastructure().schemaRegistryUrl;

interface ProbeV1 {
  id: string;
  count: number;
}

interface ProbeV2 extends ProbeV1 {
  label: string;
}

const probeV1Schema: AvroRecordSchema = {
  type: 'record',
  name: 'Probe',
  namespace: 'tickflow.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'count', type: 'int' },
  ],
};

function probeContracts() {
  const type = uniqueName('tickflow.test.probe');
  return {
    type,
    v1: defineEvent<ProbeV1>(type, probeV1Schema),
    v2WithoutDefault: defineEvent<ProbeV2>(type, {
      ...probeV1Schema,
      fields: [...probeV1Schema.fields, { name: 'label', type: 'string' }],
    }),
    v2WithDefault: defineEvent<ProbeV2>(type, {
      ...probeV1Schema,
      fields: [...probeV1Schema.fields, { name: 'label', type: 'string', default: 'none' }],
    }),
  };
}

async function registryGet(path: string): Promise<unknown> {
  const response = await fetch(`${registryUrl}${path}`);
  expect(response.status).toBe(200);
  return response.json();
}

async function undecodableReason(decoding: Promise<unknown>): Promise<UndecodableReason> {
  const error = await decoding.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UndecodableError);
  return (error as UndecodableError).reason;
}

/** Forwards to the real registry and records each request, to tell which codec calls reach it. */
async function startRecordingProxy() {
  const target = new URL(registryUrl);
  const requests: string[] = [];
  const server = createServer(async (request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const upstream = await fetch(`${target.origin}${request.url}`, {
      method: request.method ?? 'GET',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    response.end(Buffer.from(await upstream.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${target.pathname}`, requests, close: () => server.close() };
}

describe('EventCodec', () => {
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;

  beforeAll(async () => {
    proxy = await startRecordingProxy();
  });

  afterAll(() => {
    proxy.close();
  });

  it('encodes in the Confluent wire format and decodes back', async () => {
    const { type, v1 } = probeContracts();
    const codec = new EventCodec({ registryUrl });
    await codec.register([v1]);

    const value = await codec.encode(v1, { id: 'a-1', count: 3 });
    expect(value[0]).toBe(0);
    const schemaId = value.readInt32BE(1);
    const registered = (await registryGet(`/subjects/${encodeURIComponent(type)}/versions/latest`)) as { id: number };
    expect(schemaId).toBe(registered.id);

    expect(await codec.decode(value)).toEqual({ payload: { id: 'a-1', count: 3 }, schemaId, recordName: 'tickflow.test.Probe' });
    expect((await codec.decodeAs(v1, value)).payload).toEqual({ id: 'a-1', count: 3 });
  });

  it('sets the subject to BACKWARD compatibility before its first schema is registered', async () => {
    const { type, v1 } = probeContracts();
    const subjectPath = `${new URL(registryUrl).pathname}/config/${encodeURIComponent(type)}`;
    proxy.requests.length = 0;
    await new EventCodec({ registryUrl: proxy.url }).register([v1]);

    const setRule = proxy.requests.indexOf(`PUT ${subjectPath}`);
    const firstRegistration = proxy.requests.findIndex((request) => request.startsWith('POST ') && request.endsWith('/versions'));
    expect(setRule).toBeGreaterThanOrEqual(0);
    expect(firstRegistration).toBeGreaterThan(setRule);
    expect(await registryGet(`/config/${encodeURIComponent(type)}`)).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('registers the same schema again under the same id', async () => {
    const { type, v1 } = probeContracts();
    const first = new EventCodec({ registryUrl });
    const second = new EventCodec({ registryUrl });
    await first.register([v1]);
    await first.register([v1]);
    await second.register([v1]);

    const [fromFirst, fromSecond] = await Promise.all([first.encode(v1, { id: 'x', count: 1 }), second.encode(v1, { id: 'x', count: 1 })]);
    expect(fromSecond.readInt32BE(1)).toBe(fromFirst.readInt32BE(1));
    expect(await registryGet(`/subjects/${encodeURIComponent(type)}/versions`)).toEqual([1]);
  });

  it('rejects an incompatible change and accepts a compatible one', async () => {
    const { type, v1, v2WithoutDefault, v2WithDefault } = probeContracts();
    const codec = new EventCodec({ registryUrl });
    await codec.register([v1]);
    const writtenByV1 = await codec.encode(v1, { id: 'old', count: 7 });

    const error = await codec.register([v2WithoutDefault]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompatibleSchemaError);
    expect((error as IncompatibleSchemaError).eventType).toBe(type);
    expect((error as Error).message).toContain(type);

    await codec.register([v2WithDefault]);
    const writtenByV2 = await codec.encode(v2WithDefault, { id: 'new', count: 8, label: 'fresh' });
    expect(writtenByV2.readInt32BE(1)).not.toBe(writtenByV1.readInt32BE(1));
    expect(await registryGet(`/subjects/${encodeURIComponent(type)}/versions`)).toEqual([1, 2]);

    // What BACKWARD buys: the new schema reads what the old one wrote.
    expect((await codec.decodeAs(v2WithDefault, writtenByV1)).payload).toEqual({ id: 'old', count: 7, label: 'none' });
    expect((await codec.decode(writtenByV1)).payload).toEqual({ id: 'old', count: 7 });
  });

  it('refuses to encode a payload that does not fit, naming the type and the field', async () => {
    const { type, v1 } = probeContracts();
    const codec = new EventCodec({ registryUrl });
    await codec.register([v1]);

    const wrongType = await codec.encode(v1, { id: 'a', count: 'three' } as unknown as ProbeV1).catch((e: unknown) => e);
    expect(wrongType).toBeInstanceOf(InvalidPayloadError);
    expect((wrongType as InvalidPayloadError).fields).toEqual(['count']);
    expect((wrongType as Error).message).toContain(`'${type}'`);
    expect((wrongType as Error).message).toContain("field 'count' must be int, got string");
    expect((wrongType as Error).message).not.toContain('three');

    const missing = await codec.encode(v1, { id: 'a' } as ProbeV1).catch((e: unknown) => e);
    expect((missing as InvalidPayloadError).fields).toEqual(['count']);

    const undeclared = await codec.encode(v1, { id: 'a', count: 1, cuont: 2 } as ProbeV1).catch((e: unknown) => e);
    expect((undeclared as InvalidPayloadError).fields).toEqual(['cuont']);
    expect((undeclared as Error).message).toContain("field 'cuont' is not in the schema");
  });

  it('refuses to encode an event type it has not registered', async () => {
    const { type, v1 } = probeContracts();
    await expect(new EventCodec({ registryUrl }).encode(v1, { id: 'a', count: 1 })).rejects.toThrow(`'${type}' is not registered`);
  });

  it('reports each kind of undecodable value', async () => {
    const { v1 } = probeContracts();
    const codec = new EventCodec({ registryUrl });
    await codec.register([v1]);
    const value = await codec.encode(v1, { id: 'abc', count: 1 });

    expect(await undecodableReason(codec.decode(null))).toBe('wire-format');
    expect(await undecodableReason(codec.decode(Buffer.from([0, 0, 0])))).toBe('wire-format');
    expect(await undecodableReason(codec.decode(Buffer.concat([Buffer.from([1]), value.subarray(1)])))).toBe('wire-format');

    const unknownId = Buffer.from(value);
    unknownId.writeInt32BE(0x7fffffff, 1);
    expect(await undecodableReason(codec.decode(unknownId))).toBe('unknown-schema');

    expect(await undecodableReason(codec.decode(value.subarray(0, value.length - 2)))).toBe('invalid-payload');
    expect(await undecodableReason(codec.decode(Buffer.concat([value, Buffer.from([0])])))).toBe('invalid-payload');

    const other = probeContracts();
    const otherEvent = defineEvent<ProbeV1>(other.type, { ...probeV1Schema, name: 'OtherProbe' });
    expect(await undecodableReason(codec.decodeAs(otherEvent, value))).toBe('invalid-payload');
    await expect(codec.decodeAs(otherEvent, value)).rejects.toThrow(
      `expected a '${other.type}' record 'tickflow.test.OtherProbe', but schema id ${value.readInt32BE(1)} writes 'tickflow.test.Probe'`,
    );

    // Same record, but a field the writer never wrote and the reader has no default for.
    expect(await undecodableReason(codec.decodeAs(other.v2WithoutDefault, value))).toBe('invalid-payload');
    await expect(codec.decodeAs(other.v2WithoutDefault, value)).rejects.toThrow('cannot be read with the contract');
  });

  it('decodes a known schema id without asking the registry again', async () => {
    const { v1 } = probeContracts();
    const producer = new EventCodec({ registryUrl: proxy.url });
    await producer.register([v1]);
    const value = await producer.encode(v1, { id: 'cached', count: 1 });
    const schemaId = value.readInt32BE(1);

    proxy.requests.length = 0;
    await producer.decode(value);
    expect(proxy.requests).toEqual([]);

    const consumer = new EventCodec({ registryUrl: proxy.url });
    await consumer.decode(value);
    await consumer.decodeAs(v1, value);
    await consumer.decode(value);
    expect(proxy.requests).toEqual([`GET ${new URL(registryUrl).pathname}/schemas/ids/${schemaId}`]);
  });
});
