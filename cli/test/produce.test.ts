// `tickflow produce` against the real Kafka and registry: the record must be one any
// tickflow service can read, and every way of getting it wrong must say what is wrong.
import { defineEvent, EventCodec } from '@tickflow/contracts';
import { AVRO_CONTENT_TYPE, readCloudEvent } from '@tickflow/messaging';
import { stack, uniqueName } from '@tickflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProducedEvent } from '../src/commands/produce.ts';
import { createTopic, endOffsets, readRecords, STACK_TRACE, tickflow, tickflowJson } from './stack-fixtures.ts';

interface Adjustment {
  contractId: string;
  amount: number;
  note: string | null;
}

const adjustment = defineEvent<Adjustment>(uniqueName('tickflow.cli.adjustment'), {
  type: 'record',
  name: 'Adjustment',
  namespace: 'dev.tickflow.cli.test',
  fields: [
    { name: 'contractId', type: 'string' },
    { name: 'amount', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
});
const codec = new EventCodec({ registryUrl: stack.schemaRegistryUrl });
const topic = uniqueName('cli-produce');

beforeAll(async () => {
  await codec.register([adjustment]);
  await createTopic(topic, 2);
});

describe('tickflow produce', () => {
  it('writes the event with the full CloudEvents envelope and a payload the registry codec decodes', async () => {
    const payload = { contractId: 'c-42', amount: 1250, note: 'manual correction' };
    const produced = await tickflowJson<ProducedEvent>([
      'produce',
      topic,
      '--type',
      adjustment.type,
      '--key',
      'c-42',
      '--payload',
      JSON.stringify(payload),
    ]);
    expect(produced).toMatchObject({ topic, key: 'c-42', type: adjustment.type, source: 'tickflow/cli' });

    const [record] = (await readRecords(topic, 1)).filter((r) => r.partition === produced.partition && r.offset === produced.offset);
    expect(record, 'the record at the partition and offset the CLI reported').toBeDefined();
    expect(record?.key).toBe('c-42');
    expect(readCloudEvent(record?.headers ?? {})).toEqual({
      id: produced.id,
      source: 'tickflow/cli',
      type: adjustment.type,
      time: produced.time,
      specversion: '1.0',
      datacontenttype: AVRO_CONTENT_TYPE,
    });
    expect(produced.id).toMatch(/^[0-9a-f-]{36}$/);
    const decoded = await codec.decodeAs(adjustment, record?.value ?? null);
    expect(decoded.payload).toEqual(payload);
    expect(decoded.schemaId).toBe(produced.schemaId);
  });

  it('says what it sent, in words, without --json', async () => {
    const run = await tickflow([
      'produce',
      topic,
      '--type',
      adjustment.type,
      '--key',
      'c-7',
      '--payload',
      '{"contractId":"c-7","amount":1}',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^sent ${adjustment.type.replaceAll('.', '\\.')} [0-9a-f-]{36} to ${topic}/\\d/\\d+ \\(key c-7, schema id \\d+\\)\\n$`),
    );
  });

  it('refuses malformed JSON, an unknown topic, an unknown type and a payload that does not fit, writing nothing', async () => {
    const before = await endOffsets(topic);
    const produce = (target: string, type: string, payload: string) =>
      tickflow(['produce', target, '--type', type, '--key', 'k', '--payload', payload]);
    const [malformed, missingTopic, unknownType, misfit] = await Promise.all([
      produce(topic, adjustment.type, '{"contractId": "c-1",'),
      produce(`${topic}-missing`, adjustment.type, '{"contractId":"c-1","amount":1}'),
      produce(topic, `${adjustment.type}.missing`, '{"contractId":"c-1","amount":1}'),
      produce(topic, adjustment.type, '{"contractId":7,"amount":"ten","discount":3}'),
    ]);

    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("option '--payload <json>' argument");
    expect(malformed.stderr).toContain('is not valid JSON');

    expect(missingTopic.code).toBe(1);
    expect(missingTopic.stderr).toBe(`error: topic '${topic}-missing' does not exist (similar: ${topic})\n`);

    expect(unknownType.code).toBe(1);
    expect(unknownType.stderr).toContain(`unknown event type '${adjustment.type}.missing'`);

    expect(misfit.code).toBe(1);
    expect(misfit.stderr).toContain(`the payload does not fit the schema of '${adjustment.type}'`);
    expect(misfit.stderr).toContain("field 'contractId' must be string, got number");
    expect(misfit.stderr).toContain("field 'amount' must be long, got string");
    expect(misfit.stderr).toContain("field 'discount' is not in the schema");

    for (const run of [malformed, missingTopic, unknownType, misfit]) {
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toMatch(STACK_TRACE);
    }
    expect(await endOffsets(topic)).toEqual(before);
  });

  it('names KAFKA_BROKERS when Kafka cannot be reached', async () => {
    const run = await tickflow(['produce', topic, '--type', adjustment.type, '--key', 'k', '--payload', '{}'], {
      KAFKA_BROKERS: '127.0.0.1:1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot reach Kafka at 127\.0\.0\.1:1 \(KAFKA_BROKERS\)/);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });
});
