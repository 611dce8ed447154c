import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { encodeWireFormat, payloadProblems } from '../src/event-payload.ts';

const invoice = avsc.Type.forSchema({
  type: 'record',
  name: 'Invoice',
  fields: [
    { name: 'contractId', type: 'string' },
    { name: 'amount', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['open', 'paid'] } },
    { name: 'lines', type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'sku', type: 'string' }] } } },
  ],
});

const valid = { contractId: 'c-1', amount: 12, note: null, status: 'open', lines: [{ sku: 'a' }] };

describe('event payload', () => {
  it('a payload that fits has no problems', () => {
    expect(payloadProblems(invoice, valid)).toEqual([]);
  });

  it('names each offending field and what it should be, never the value', () => {
    const problems = payloadProblems(invoice, {
      contractId: 42,
      amount: 1.5,
      status: 'lost',
      lines: [{ sku: 'a' }, { sku: 7 }],
      secret: 'hunter2',
    });
    expect(problems).toEqual([
      "field 'contractId' must be string, got number",
      "field 'amount' must be long, got a fractional number",
      "field 'status' must be one of open, paid, got string",
      "field 'lines.1.sku' must be string, got number",
      "field 'secret' is not in the schema",
    ]);
    expect(problems.join()).not.toContain('hunter2');
    expect(payloadProblems(invoice, { ...valid, contractId: undefined })).toEqual([
      "field 'contractId' must be string, got nothing (the field is missing)",
    ]);
    expect(payloadProblems(invoice, { ...valid, note: 3 })).toEqual(["field 'note' must be null or string, got number"]);
  });

  it('encodes in the Confluent wire format: magic byte 0, schema id, Avro body', () => {
    const value = encodeWireFormat(258, invoice, valid);
    expect(value.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 1, 2]));
    expect(invoice.fromBuffer(value.subarray(5))).toEqual(valid);
  });
});
