// What is wrong with a payload for an Avro type: one entry per offending field, naming it and
// what it should be, but never its value, since payloads may carry personal data. The codec
// refuses to encode such a payload; the CLI says the same to an operator before it sends.
import avsc from 'avsc';

export interface PayloadProblem {
  /** Dotted path, e.g. `lines.1.sku`; empty for the payload itself. */
  field: string;
  message: string;
}

export function payloadProblems(type: avsc.Type, payload: unknown): PayloadProblem[] {
  const problems: PayloadProblem[] = [];
  type.isValid(payload, {
    errorHook: (path, value, fieldType) => {
      const field = path.join('.');
      problems.push({
        field,
        message: `${field ? `field '${field}'` : 'the payload'} must be ${describeType(fieldType)}, got ${describeValue(value)}`,
      });
    },
  });
  // A second pass for fields the schema lacks: avsc stops checking a record's own fields
  // once it finds an undeclared one, which would hide the problems found above.
  type.isValid(payload, {
    noUndeclaredFields: true,
    errorHook: (path, value, fieldType) => {
      for (const name of undeclaredFields(fieldType, value)) {
        const field = [...path, name].join('.');
        problems.push({ field, message: `field '${field}' is not in the schema` });
      }
    },
  });
  return problems;
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
