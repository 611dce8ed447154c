// patches/kafkajs+2.2.4.patch rewrites kafkajs' record decoding for speed. Records are
// built here with kafkajs' own encoders and read back through the patched decoders: what
// comes out must be what went in, at the edges the fast paths leave to the slow ones.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder');
const Long = require('kafkajs/src/utils/long');
const Encoder = require('kafkajs/src/protocol/encoder');
const { RecordBatch: encodeRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const Batch = require('kafkajs/src/consumer/batch');

interface DecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | null | (string | null)[]>;
}

async function roundTrip(options: {
  firstOffset?: bigint;
  firstTimestamp?: bigint;
  records: { offsetDelta: number; timestampDelta?: bigint; key?: string; headers?: [string, string | null][] }[];
}): Promise<DecodedRecord[]> {
  // Records are written field by field (kafkajs' own record encoder takes headers as an
  // object, which cannot repeat a name or hold __proto__); the batch by kafkajs' encoder.
  const records = options.records.map((r) => {
    const body = new Encoder()
      .writeInt8(0)
      .writeVarLong(Long.fromString(String(r.timestampDelta ?? 0n)))
      .writeVarInt(r.offsetDelta)
      .writeVarIntBytes(r.key === undefined ? null : Buffer.from(r.key))
      .writeVarIntBytes(Buffer.from(`value ${r.offsetDelta}`))
      .writeVarInt(r.headers?.length ?? 0);
    for (const [name, value] of r.headers ?? []) {
      body.writeVarIntString(name);
      if (value === null) body.writeVarInt(-1);
      else body.writeVarIntBytes(Buffer.from(value));
    }
    return new Encoder().writeVarInt(body.size()).writeEncoder(body);
  });
  const batch = await encodeRecordBatch({
    firstOffset: Long.fromString(String(options.firstOffset ?? 0n)),
    firstTimestamp: Long.fromString(String(options.firstTimestamp ?? 1_700_000_000_000n)),
    maxTimestamp: Long.fromString(String(options.firstTimestamp ?? 1_700_000_000_000n)),
    lastOffsetDelta: Math.max(0, ...options.records.map((r) => r.offsetDelta)),
    records,
  });
  const decoded = await decodeRecordBatch(new Decoder(batch.buffer));
  return decoded.records;
}

describe('patched kafkajs record decoding', () => {
  it('reads offsets, timestamps, keys and values of consecutive records', async () => {
    const records = await roundTrip({
      firstOffset: 41n,
      firstTimestamp: 1_700_000_000_000n,
      records: [
        { offsetDelta: 0, key: 'a' },
        { offsetDelta: 1, timestampDelta: 250n },
        { offsetDelta: 2, timestampDelta: -5n, key: '' },
      ],
    });
    expect(records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString()])).toEqual([
      ['41', '1700000000000', 'a', 'value 0'],
      ['42', '1700000000250', null, 'value 1'],
      ['43', '1699999999995', '', 'value 2'],
    ]);
  });

  it('falls back to exact 64-bit arithmetic beyond 2^53', async () => {
    const firstOffset = 2n ** 60n + 7n;
    const firstTimestamp = 2n ** 55n;
    const records = await roundTrip({
      firstOffset,
      firstTimestamp,
      records: [{ offsetDelta: 0 }, { offsetDelta: 3, timestampDelta: 2n ** 50n + 1n }],
    });
    expect(records.map((r) => [r.offset, r.timestamp])).toEqual([
      [String(firstOffset), String(firstTimestamp)],
      [String(firstOffset + 3n), String(firstTimestamp + 2n ** 50n + 1n)],
    ]);
  });

  it('reads a timestamp delta too wide for the fast path', async () => {
    const [record] = await roundTrip({ firstTimestamp: 0n, records: [{ offsetDelta: 0, timestampDelta: 2n ** 52n + 3n }] });
    expect(record?.timestamp).toBe(String(2n ** 52n + 3n));
  });

  it('gathers repeated header names into arrays, and treats every name as a plain header', async () => {
    const [record] = await roundTrip({
      records: [
        {
          offsetDelta: 0,
          headers: [
            ['ce_type', 'tickflow.x'],
            ['dup', 'one'],
            ['dup', 'two'],
            ['dup', 'three'],
            ['constructor', 'c'],
            ['__proto__', 'p'],
            ['toString', 't'],
          ],
        },
      ],
    });
    const headers: Record<string, unknown> = record?.headers ?? {};
    const text = (v: unknown) => (Array.isArray(v) ? v.map(String) : String(v));
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.keys(headers)).toEqual(['ce_type', 'dup', 'constructor', '__proto__', 'toString']);
    expect(text(headers.ce_type)).toBe('tickflow.x');
    expect(text(headers.dup)).toEqual(['one', 'two', 'three']);
    expect(text(headers.constructor)).toBe('c');
    expect(text(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value)).toBe('p');
    expect(text(headers.toString)).toBe('t');
  });

  it('decodes header names and values straight to strings, UTF-8 included, a null value kept null', async () => {
    const [record] = await roundTrip({
      records: [
        {
          offsetDelta: 0,
          headers: [
            ['ce_source', 'tickflow/ü-€-日本'],
            ['traceparent', '00-ab-cd-01'],
            ['empty', ''],
            ['none', null],
          ],
        },
      ],
    });
    expect(record?.headers).toEqual({ ce_source: 'tickflow/ü-€-日本', traceparent: '00-ab-cd-01', empty: '', none: null });
  });

  it('keeps only records at or after the fetched offset, safe integers or not', () => {
    const messages = (offsets: string[]) => offsets.map((offset) => ({ offset, isControlRecord: false }));
    const batch = (fetched: string, offsets: string[]) =>
      new Batch('t', fetched, { partition: 0, highWatermark: '0', abortedTransactions: [], messages: messages(offsets) }).messages.map(
        (m: { offset: string }) => m.offset,
      );
    expect(batch('10', ['8', '9', '10', '11'])).toEqual(['10', '11']);
    const big = 2n ** 60n;
    expect(batch(String(big), [String(big - 1n), String(big), String(big + 1n)])).toEqual([String(big), String(big + 1n)]);
  });
});
