// Errors the codec raises on purpose. The messaging layer routes on them: an undecodable
// message goes straight to the DLQ, so only a message that can never decode may be reported
// as one; a registry that is down or slow surfaces as a plain error and is retried.

/** The registry refused a schema because it cannot read data written with the subject's previous schema. */
export class IncompatibleSchemaError extends Error {
  override name = 'IncompatibleSchemaError';

  constructor(
    readonly eventType: string,
    registryMessage: string,
  ) {
    super(
      `schema for event type '${eventType}' (subject '${eventType}') is not BACKWARD compatible with the registered one: ${registryMessage}`,
    );
  }
}

/** A payload that does not fit its contract's schema; `fields` are the offending paths, '' for the record itself. */
export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';

  constructor(
    readonly eventType: string,
    readonly fields: string[],
    problems: string[],
  ) {
    super(`invalid '${eventType}' payload: ${problems.join('; ')}`);
  }
}

export type UndecodableReason = 'wire-format' | 'unknown-schema' | 'invalid-payload';

/** A message value that will never decode, however often it is retried. */
export class UndecodableError extends Error {
  override name = 'UndecodableError';

  constructor(
    readonly reason: UndecodableReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`undecodable message (${reason}): ${message}`, options);
  }
}
