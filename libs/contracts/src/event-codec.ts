// Encodes and decodes event payloads in the Confluent wire format: magic byte 0, the
// registry's 4-byte schema id (big-endian), then the Avro binary body.
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import { IncompatibleSchemaError, InvalidPayloadError, UndecodableError } from './codec-errors.ts';
import { avroTypeOf, type EventContract } from './event-contract.ts';
import { payloadProblems } from './payload-problems.ts';

const MAGIC_BYTE = 0;
const HEADER_LENGTH = 5;
const COMPATIBILITY_RULE = COMPATIBILITY.BACKWARD;

export interface DecodedEvent<T> {
  payload: T;
  schemaId: number;
  /** The writer schema's record full name, namespace included. */
  recordName: string;
}

interface RegisteredContract {
  contract: EventContract<unknown>;
  schemaJson: string;
  schemaId: number;
}

interface WireMessage {
  schemaId: number;
  writerType: avsc.Type;
  body: Buffer;
}

export class EventCodec {
  readonly #registryUrl: string;
  readonly #auth: { username: string; password: string } | undefined;
  // The client caches schemas by id, including the ones it registered, so decoding a known
  // id makes no HTTP call.
  readonly #registry: SchemaRegistry;
  readonly #registered = new Map<string, RegisteredContract>();
  readonly #resolvers = new WeakMap<EventContract<unknown>, Map<number, avsc.Resolver>>();
  /** Writer schemas already fetched, by id: a message of a known schema decodes without a wait. */
  readonly #writerTypes = new Map<number, avsc.Type>();

  /** `auth`: HTTP basic credentials, for a registry behind authentication (SCHEMA_REGISTRY_USERNAME / _PASSWORD). */
  constructor({ registryUrl, auth }: { registryUrl: string; auth?: { username: string; password: string } | undefined }) {
    this.#registryUrl = registryUrl.replace(/\/+$/, '');
    this.#auth = auth;
    this.#registry = new SchemaRegistry({ host: this.#registryUrl, ...(auth ? { auth } : {}) });
  }

  /** Registers each contract's schema under the subject named by its event type. */
  async register(contracts: EventContract<unknown>[]): Promise<void> {
    for (const contract of contracts) {
      // Set on every register, not left to the client: it sets the rule only after a
      // subject's first version, and refuses to register at all once someone changed it.
      await this.#setCompatibility(contract.type);
      const schemaJson = JSON.stringify(contract.schema);
      let schemaId: number;
      try {
        ({ id: schemaId } = await this.#registry.register(
          { type: SchemaType.AVRO, schema: schemaJson },
          { subject: contract.type, compatibility: COMPATIBILITY_RULE },
        ));
      } catch (error) {
        if (httpStatusOf(error) === 409) throw new IncompatibleSchemaError(contract.type, messageOf(error));
        throw this.#refusedAccess(httpStatusOf(error), error) ?? error;
      }
      this.#registered.set(contract.type, { contract, schemaJson, schemaId });
    }
  }

  async encode<T>(contract: EventContract<T>, payload: T): Promise<Buffer> {
    const schemaId = this.#schemaIdFor(contract);
    const avroType = avroTypeOf(contract);
    assertFits(contract.type, avroType, payload);
    const header = Buffer.alloc(HEADER_LENGTH);
    header.writeUInt8(MAGIC_BYTE, 0);
    header.writeInt32BE(schemaId, 1);
    return Buffer.concat([header, avroType.toBuffer(payload)]);
  }

  /** Decodes with the writer's schema, whatever event it is. */
  async decode(value: Buffer | null): Promise<DecodedEvent<unknown>> {
    const { schemaId, writerType, body } = await this.#read(value);
    const recordName = writerType.name ?? '';
    return { payload: decodeBody(writerType, body, schemaId, recordName), schemaId, recordName };
  }

  /**
   * Decodes a `contract` event into the contract's own schema: data written with an older
   * compatible schema comes out in the contract's shape, defaults filled in.
   */
  decodeAs<T>(contract: EventContract<T>, value: Buffer | null): Promise<DecodedEvent<T>> {
    try {
      const known = this.decodeKnownAs(contract, value);
      if (known) return Promise.resolve(known);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#read(value).then(({ schemaId, writerType, body }) => this.#decodeWith(contract, schemaId, writerType, body));
  }

  /**
   * decodeAs without waiting: the hot path of every consumer, once the writer's schema is
   * known. Undefined when it is not known yet (or the value is not in the wire format):
   * decodeAs then fetches the schema, or names what is wrong.
   */
  decodeKnownAs<T>(contract: EventContract<T>, value: Buffer | null): DecodedEvent<T> | undefined {
    if (!value || value.length < HEADER_LENGTH || value[0] !== MAGIC_BYTE) return undefined;
    const schemaId = value.readInt32BE(1);
    const known = this.#writerTypes.get(schemaId);
    return known && this.#decodeWith(contract, schemaId, known, value.subarray(HEADER_LENGTH));
  }

  #decodeWith<T>(contract: EventContract<T>, schemaId: number, writerType: avsc.Type, body: Buffer): DecodedEvent<T> {
    const readerType = avroTypeOf(contract);
    const recordName = writerType.name ?? '';
    if (recordName !== readerType.name) {
      throw new UndecodableError(
        'invalid-payload',
        `expected a '${contract.type}' record '${readerType.name}', but schema id ${schemaId} writes '${recordName}'`,
      );
    }
    const resolver = this.#resolver(contract, readerType, schemaId, writerType);
    return { payload: decodeBody(readerType, body, schemaId, recordName, resolver) as T, schemaId, recordName };
  }

  #schemaIdFor(contract: EventContract<unknown>): number {
    const registered = this.#registered.get(contract.type);
    if (!registered) {
      throw new Error(`event type '${contract.type}' is not registered with this codec: register its contract before encoding`);
    }
    if (registered.contract !== contract && registered.schemaJson !== JSON.stringify(contract.schema)) {
      throw new Error(`event type '${contract.type}' was registered with a different schema than the contract given to encode`);
    }
    return registered.schemaId;
  }

  async #read(value: Buffer | null): Promise<WireMessage> {
    if (value === null) throw new UndecodableError('wire-format', 'the message has no value');
    if (value.length < HEADER_LENGTH) {
      throw new UndecodableError('wire-format', `the value is ${value.length} bytes, shorter than the ${HEADER_LENGTH}-byte header`);
    }
    if (value[0] !== MAGIC_BYTE) {
      throw new UndecodableError('wire-format', `magic byte is ${value[0]}, expected ${MAGIC_BYTE}`);
    }
    const schemaId = value.readInt32BE(1);
    let writerType: unknown;
    try {
      writerType = await this.#registry.getSchema(schemaId);
    } catch (error) {
      if (httpStatusOf(error) === 404) {
        throw new UndecodableError('unknown-schema', `schema id ${schemaId} is not known to the registry at ${this.#registryUrl}`, {
          cause: error,
        });
      }
      throw this.#refusedAccess(httpStatusOf(error), error) ?? error;
    }
    if (!avsc.Type.isType(writerType, 'record')) {
      throw new UndecodableError('invalid-payload', `schema id ${schemaId} is not an Avro record schema`);
    }
    this.#writerTypes.set(schemaId, writerType as avsc.Type);
    return { schemaId, writerType: writerType as avsc.Type, body: value.subarray(HEADER_LENGTH) };
  }

  #resolver(contract: EventContract<unknown>, readerType: avsc.Type, schemaId: number, writerType: avsc.Type): avsc.Resolver {
    let bySchemaId = this.#resolvers.get(contract);
    if (!bySchemaId) {
      bySchemaId = new Map();
      this.#resolvers.set(contract, bySchemaId);
    }
    let resolver = bySchemaId.get(schemaId);
    if (!resolver) {
      try {
        resolver = readerType.createResolver(writerType);
      } catch (error) {
        throw new UndecodableError(
          'invalid-payload',
          `'${contract.type}' data written with schema id ${schemaId} cannot be read with the contract's schema: ${messageOf(error)}`,
          { cause: error },
        );
      }
      bySchemaId.set(schemaId, resolver);
    }
    return resolver;
  }

  async #setCompatibility(subject: string): Promise<void> {
    const { username, password } = this.#auth ?? {};
    const response = await fetch(`${this.#registryUrl}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/vnd.schemaregistry.v1+json',
        // The same credentials as the registry client's: a registry behind authentication asks for them on every call.
        ...(this.#auth ? { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` } : {}),
      },
      body: JSON.stringify({ compatibility: COMPATIBILITY_RULE }),
    });
    const refused = this.#refusedAccess(response.status);
    if (refused) throw refused;
    if (!response.ok) {
      throw new Error(
        `schema registry refused compatibility ${COMPATIBILITY_RULE} for subject '${subject}': HTTP ${response.status} ${await response.text()}`,
      );
    }
  }

  /**
   * A 401 or 403 said as what to fix: the credentials, named by their variables (never the
   * password). Undefined for any other status.
   */
  #refusedAccess(status: number | undefined, cause?: unknown): Error | undefined {
    if (status !== 401 && status !== 403) return undefined;
    const user = this.#auth && `user '${this.#auth.username}'`;
    const problem =
      status === 401
        ? user
          ? `refused the credentials of ${user} (SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD)`
          : 'asks for credentials: set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD'
        : `does not allow ${user ?? 'a request without credentials'} this request (SCHEMA_REGISTRY_USERNAME)`;
    return new Error(`the schema registry at ${this.#registryUrl} ${problem}: HTTP ${status}`, { cause });
  }
}

function decodeBody(type: avsc.Type, body: Buffer, schemaId: number, recordName: string, resolver?: avsc.Resolver): unknown {
  try {
    return type.fromBuffer(body, resolver);
  } catch (error) {
    throw new UndecodableError(
      'invalid-payload',
      `the bytes do not decode as '${recordName}' (schema id ${schemaId}): ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

function assertFits(eventType: string, avroType: avsc.Type, payload: unknown): void {
  const problems = payloadProblems(avroType, payload);
  if (problems.length > 0) {
    throw new InvalidPayloadError(
      eventType,
      problems.map((p) => p.field),
      problems.map((p) => p.message),
    );
  }
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  return typeof error.status === 'number' ? error.status : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
