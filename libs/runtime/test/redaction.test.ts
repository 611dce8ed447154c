import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';
import { describeError, REDACTED, redact, registerSecret } from '../src/redaction.ts';

const secrets = {
  urlPassword: 'hunter2-in-url',
  bearer: 'sk_live_0123456789abcdef',
  apiKey: 'AbCdEf0123456789',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlLXZhbHVl',
  awsKeyId: 'AKIAIOSFODNN7EXAMPLE',
  configured: 'plain-configured-secret-7f3a',
};

/** An error message as client libraries write them: the URL called, the header sent. */
const leaky = () =>
  new Error(
    `POST https://api.clazar.io/metering/?api_key=${secrets.apiKey} failed (Authorization: Bearer ${secrets.bearer}); ` +
      `db postgres://svc:${secrets.urlPassword}@db:5432/x; token ${secrets.jwt}; key id ${secrets.awsKeyId}; ` +
      `client_secret=${secrets.configured}`,
  );

describe('redact', () => {
  it('cuts every shape of secret out of a text, and keeps the rest readable', () => {
    registerSecret(secrets.configured);
    const text = redact(leaky().message);
    for (const [name, value] of Object.entries(secrets)) expect(text, name).not.toContain(value);
    expect(text).toContain('POST https://api.clazar.io/metering/?api_key=[redacted] failed');
    expect(text).toContain('postgres://svc:[redacted]@db:5432/x');
    expect(text).toContain(`Bearer ${REDACTED}`);
  });

  it('cuts a secret registered from configuration wherever it appears, whatever its shape', () => {
    registerSecret('another-configured-value');
    expect(redact('the carrier answered: another-configured-value is not valid')).toBe('the carrier answered: [redacted] is not valid');
    // Too short to register: it would garble ordinary text.
    registerSecret('abc');
    expect(redact('abc')).toBe('abc');
  });

  it('describes an error with its message and stack redacted and cut to size', () => {
    const described = describeError(leaky(), { message: 120 });
    expect(described.errorClass).toBe('Error');
    expect(described.message.length).toBeLessThanOrEqual(120);
    for (const value of Object.values(secrets)) {
      expect(described.message).not.toContain(value);
      expect(described.stack).not.toContain(value);
    }
  });

  it('keeps secrets out of log lines: in the message, in fields, in errors and their causes', () => {
    registerSecret(secrets.configured);
    const lines: string[] = [];
    const log = createLogger({ service: 't', write: (line) => lines.push(line) });
    log.error(`calling ${leaky().message}`, { error: new Error('outer', { cause: leaky() }), detail: leaky().message });
    expect(lines).toHaveLength(1);
    for (const [name, value] of Object.entries(secrets)) expect(lines[0], name).not.toContain(value);
  });
});
