// A manual event's payload, checked against its type's latest registered schema and
// encoded the way every tickflow producer encodes it: the Confluent wire format.
import avsc from 'avsc';

/**
 * What is wrong with `payload` for `type`, one line per offending field, naming the field
 * and what it should be but never its value: payloads may carry personal data.
 */
export function payloadProblems(type: avsc.Type, payload: unknown): string[] {
  const problems: string[] = [];
  type.isValid(payload, {
    errorHook: (path, value, fieldType) => {
      problems.push(
        `${path.length > 0 ? `field '${path.join('.')}'` : 'the payload'} must be ${describeType(fieldType)}, got ${describeValue(value)}`,
      );
    },
  });
  // A second pass for fields the schema lacks: avsc stops checking a record's own fields
  // once it finds an undeclared one, which would hide the problems found above.
  type.isValid(payload, {
    noUndeclaredFields: true,
    errorHook: (path, value, fieldType) => {
      for (const name of undeclaredFields(fieldType, value)) problems.push(`field '${[...path, name].join('.')}' is not in the schema`);
    },
  });
  return problems;
}

const MAGIC_BYTE = 0;

export function encodeWireFormat(schemaId: number, type: avsc.Type, payload: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, type.toBuffer(payload)]);
}

function undeclaredFields(type: avsc.Type, value: unknown): string[] {
  if (!(type instanceof avsc.types.RecordType) || typeof value !== 'object' || value === null) return [];
  const declared = new Set(type.fields.map((field) => field.name));
  return Object.keys(value).filter((name) => !declared.has(name));
}

function describeType(type: avsc.Type): string {
  if (type instanceof avsc.types.EnumType) return `one of ${type.symbols.join(', ')}`;
  if (type instanceof avsc.types.UnwrappedUnionType || type instanceof avsc.types.WrappedUnionType)
    return type.types.map(describeType).join(' or ');
  if (type instanceof avsc.types.ArrayType) return `an array of ${describeType(type.itemsType)}`;
  if (type instanceof avsc.types.MapType) return `an object of ${describeType(type.valuesType)} values`;
  if (type instanceof avsc.types.RecordType) return `an object (record ${type.name})`;
  return type.typeName;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fractional number';
  return typeof value;
}
