// A manual event's payload, checked against its type's latest registered schema and
// encoded the way every tickflow producer encodes it: the Confluent wire format.
import { payloadProblems as fieldProblems } from '@tickflow/contracts';
import type avsc from 'avsc';

/** What is wrong with `payload` for `type`, one line per offending field, never its value. */
export function payloadProblems(type: avsc.Type, payload: unknown): string[] {
  return fieldProblems(type, payload).map((p) => p.message);
}

const MAGIC_BYTE = 0;

export function encodeWireFormat(schemaId: number, type: avsc.Type, payload: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, type.toBuffer(payload)]);
}
