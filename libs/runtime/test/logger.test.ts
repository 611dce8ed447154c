import { trace } from '@opentelemetry/api';
import { stack } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type LoggerOptions, startTelemetry, type Telemetry } from '../src/index.ts';

function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ service: 'metering', write: (line) => lines.push(line), ...options });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, parsed };
}

describe('createLogger', () => {
  let telemetry: Telemetry;
  beforeAll(() => {
    telemetry = startTelemetry({ serviceName: 'runtime-logger-test', otlpEndpoint: stack.otlpEndpoint });
  });
  afterAll(() => telemetry.shutdown());

  it('writes one JSON object per line: time, level, service, msg, then the fields', () => {
    const { logger, lines, parsed } = capture();
    logger.info('contract metered', { contractId: 'c-1', dimensions: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [line] = parsed();
    expect(Object.keys(line ?? {})).toEqual(['time', 'level', 'service', 'msg', 'contractId', 'dimensions']);
    expect(line).toMatchObject({ level: 'info', service: 'metering', msg: 'contract metered', contractId: 'c-1', dimensions: 3 });
    expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
  });

  it('takes trace_id and span_id from the active span', () => {
    const { logger, parsed } = capture();
    const tracer = trace.getTracer('logger-test');
    const spanContext = tracer.startActiveSpan('handle', (span) => {
      logger.info('inside');
      span.end();
      return span.spanContext();
    });
    logger.info('outside');
    const [inside, outside] = parsed();
    expect(spanContext.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(inside).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
    expect(Object.keys(inside ?? {}).slice(0, 6)).toEqual(['time', 'level', 'service', 'msg', 'trace_id', 'span_id']);
    expect(outside).not.toHaveProperty('trace_id');
    expect(outside).not.toHaveProperty('span_id');
  });

  it('serializes errors as class, message and stack, with their cause', () => {
    class ClazarError extends Error {}
    const { logger, parsed } = capture();
    logger.error('send failed', { error: new ClazarError('503 from Clazar', { cause: new TypeError('socket hang up') }) });
    const error = parsed()[0]?.error as Record<string, unknown>;
    expect(error).toMatchObject({ class: 'ClazarError', message: '503 from Clazar' });
    expect(error.stack).toContain('logger.test.ts');
    expect(error.cause).toMatchObject({ class: 'TypeError', message: 'socket hang up' });
  });

  it('redacts fields named like secrets, however deep, and credentials in URLs', () => {
    class Credentials {
      user = 'svc';
      password = 'hunter2-class';
    }
    const { logger, lines, parsed } = capture();
    logger.warn('calling with postgres://tickflow:hunter2-msg@db:5432/x', {
      password: 'hunter2-top',
      Authorization: 'Bearer hunter2-auth',
      request: { headers: { 'x-api-key': 'hunter2-header', accept: 'json' }, body: { client: { apiKey: 'hunter2-nested' } } },
      targets: [{ name: 'a', ACCESS_TOKEN: 'hunter2-array' }],
      env: { S3_SECRET_ACCESS_KEY: 'hunter2-env', DATABASE_URL: 'postgresql://u:hunter2-url@db/x' },
      credentials: new Credentials(),
      holder: { login: new Credentials() },
      error: new Error('connect to redis://:hunter2-error@cache:6379 failed'),
    });
    expect(lines[0]).not.toContain('hunter2');
    const line = parsed()[0] ?? {};
    expect(line).toMatchObject({
      msg: 'calling with postgres://tickflow:[redacted]@db:5432/x',
      password: '[redacted]',
      Authorization: '[redacted]',
      request: { headers: { 'x-api-key': '[redacted]', accept: 'json' }, body: { client: { apiKey: '[redacted]' } } },
      targets: [{ name: 'a', ACCESS_TOKEN: '[redacted]' }],
      env: { S3_SECRET_ACCESS_KEY: '[redacted]', DATABASE_URL: 'postgresql://u:[redacted]@db/x' },
      credentials: '[redacted]',
      holder: { login: { user: 'svc', password: '[redacted]' } },
    });
  });

  it('redacts secrets bound to a child logger too', () => {
    const { logger, lines } = capture();
    logger.child({ clientSecret: 'hunter2-child' }).info('child');
    expect(lines[0]).toContain('"clientSecret":"[redacted]"');
    expect(lines[0]).not.toContain('hunter2');
  });

  it('drops lines below its level, info by default', () => {
    const byDefault = capture();
    byDefault.logger.debug('hidden');
    byDefault.logger.info('shown');
    expect(byDefault.parsed().map((line) => line.msg)).toEqual(['shown']);

    const warn = capture({ level: 'warn' });
    warn.logger.debug('d');
    warn.logger.info('i');
    warn.logger.warn('w');
    warn.logger.error('e');
    warn.logger.child({ job: 'x' }).info('child i');
    expect(warn.parsed().map((line) => [line.level, line.msg])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);

    const debug = capture({ level: 'debug' });
    debug.logger.debug('d');
    expect(debug.parsed().map((line) => line.level)).toEqual(['debug']);
  });

  it('adds a child logger’s fields to every line, the call’s fields winning', () => {
    const { logger, parsed } = capture();
    const child = logger.child({ contractId: 'c-1', month: '2025-01' }).child({ attempt: 1 });
    child.info('one', { attempt: 2 });
    logger.info('parent');
    const [one, parent] = parsed();
    expect(one).toMatchObject({ contractId: 'c-1', month: '2025-01', attempt: 2 });
    expect(parent).not.toHaveProperty('contractId');
  });

  it('never lets a field replace the level, message or trace of a line', () => {
    const { logger, parsed } = capture();
    logger.info('real', { level: 'error', msg: 'forged', service: 'other' });
    expect(parsed()[0]).toMatchObject({
      level: 'info',
      msg: 'real',
      service: 'metering',
      'fields.level': 'error',
      'fields.msg': 'forged',
      'fields.service': 'other',
    });
  });

  it('writes fields that JSON.stringify alone cannot: cycles and bigints', () => {
    const { logger, parsed } = capture();
    const job: Record<string, unknown> = { name: 'sync' };
    job.self = job;
    logger.info('odd fields', { job, bytes: 12345678901234567890n });
    expect(parsed()[0]).toMatchObject({ job: { name: 'sync', self: '[circular]' }, bytes: '12345678901234567890' });
  });
});
