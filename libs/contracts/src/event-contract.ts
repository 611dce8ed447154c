// An event contract ties a CloudEvents `type` to the Avro schema of its payload and to the
// TypeScript type producers and consumers see. The TS type is declared by hand next to the
// schema; the contract tests prove the two agree.
import avsc from 'avsc';

export type AvroPrimitiveSchema = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

export interface AvroRecordField {
  name: string;
  type: AvroSchema;
  doc?: string;
  default?: unknown;
  aliases?: string[];
}

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  aliases?: string[];
  fields: AvroRecordField[];
}

export interface AvroEnumSchema {
  type: 'enum';
  name: string;
  namespace?: string;
  doc?: string;
  symbols: string[];
  default?: string;
}

export interface AvroArraySchema {
  type: 'array';
  items: AvroSchema;
}

export interface AvroMapSchema {
  type: 'map';
  values: AvroSchema;
}

export interface AvroFixedSchema {
  type: 'fixed';
  name: string;
  namespace?: string;
  size: number;
}

/** A primitive annotated with a logical type, e.g. `{ type: 'long', logicalType: 'timestamp-millis' }`. */
export interface AvroAnnotatedPrimitiveSchema {
  type: AvroPrimitiveSchema;
  logicalType?: string;
  [attribute: string]: unknown;
}

/** Any Avro schema; a bare string other than a primitive names a type defined earlier in the schema. */
export type AvroSchema =
  | AvroPrimitiveSchema
  | (string & {})
  | AvroAnnotatedPrimitiveSchema
  | AvroRecordSchema
  | AvroEnumSchema
  | AvroArraySchema
  | AvroMapSchema
  | AvroFixedSchema
  | AvroSchema[];

declare const payloadType: unique symbol;

export interface EventContract<T> {
  /** The CloudEvents `type`, also the schema registry subject. */
  readonly type: string;
  readonly schema: AvroRecordSchema;
  /** The record's full name (namespace included), as a writer schema reports it. */
  readonly recordName: string;
  /** Never set: carries T so that codecs can type payloads from the contract alone. */
  readonly [payloadType]?: T;
}

const avroTypes = new WeakMap<EventContract<unknown>, avsc.Type>();

/** Parses the schema now, so that a malformed one fails when its module loads rather than on the first message. */
export function defineEvent<T>(type: string, schema: AvroRecordSchema): EventContract<T> {
  const avroType = parseAvroSchema(schema);
  const contract: EventContract<T> = Object.freeze({ type, schema, recordName: avroType.name ?? schema.name });
  avroTypes.set(contract, avroType);
  return contract;
}

/** The parsed schema of `contract`; parsed here when the contract was not made by `defineEvent`. */
export function avroTypeOf(contract: EventContract<unknown>): avsc.Type {
  let avroType = avroTypes.get(contract);
  if (!avroType) {
    avroType = parseAvroSchema(contract.schema);
    avroTypes.set(contract, avroType);
  }
  return avroType;
}

function parseAvroSchema(schema: AvroRecordSchema): avsc.Type {
  // avsc's schema typings are narrower than the Avro spec (no field aliases, no attributes on
  // primitives); our own type follows the spec and avsc checks the schema at runtime anyway.
  return avsc.Type.forSchema(schema as unknown as avsc.Schema);
}
