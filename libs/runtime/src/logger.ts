// Logs are one JSON object per line, so that a collector can parse them without rules
// per service, and each carries the active trace, so that a line leads to its trace in Jaeger.
// Secrets never reach a log: fields named like one are redacted wherever they are nested,
// and every string goes through the one redaction function (redaction.ts), because a
// connection string or a key is easily logged under an innocent name or inside an error.
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { REDACTED, redact, SECRET_NAME } from './redaction.ts';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line; fields given to a call win over them. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  service: string;
  /** Lines below this level are dropped; `info` unless given (services pass their LOG_LEVEL). */
  level?: LogLevel;
  /** Receives each line without its newline; standard output unless given. */
  write?: (line: string) => void;
}

export { REDACTED };
const reservedKeys = new Set(['time', 'level', 'service', 'msg', 'trace_id', 'span_id']);

export function createLogger(options: LoggerOptions): Logger {
  const threshold = logLevels.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));

  const loggerWith = (bound: LogFields): Logger => {
    const log = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (logLevels.indexOf(level) < threshold) return;
      const line: LogFields = { time: new Date().toISOString(), level, service: options.service, msg: redact(msg) };
      const spanContext = trace.getActiveSpan()?.spanContext();
      if (spanContext && isSpanContextValid(spanContext)) {
        line.trace_id = spanContext.traceId;
        line.span_id = spanContext.spanId;
      }
      for (const [key, value] of Object.entries({ ...bound, ...fields })) {
        // A field must not pass itself off as the line's level, time or trace.
        line[reservedKeys.has(key) ? `fields.${key}` : key] = SECRET_NAME.test(key) ? REDACTED : loggable(value, new WeakSet());
      }
      write(serialize(line));
    };
    return {
      debug: (msg, fields) => log('debug', msg, fields),
      info: (msg, fields) => log('info', msg, fields),
      warn: (msg, fields) => log('warn', msg, fields),
      error: (msg, fields) => log('error', msg, fields),
      child: (fields) => loggerWith({ ...bound, ...fields }),
    };
  };
  return loggerWith({});
}

/** `value` made safe for JSON.stringify: secrets redacted, errors spelled out, cycles and bigints tamed. */
function loggable(value: unknown, ancestors: WeakSet<object>): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.has(value)) return '[circular]';
  ancestors.add(value);
  try {
    if (value instanceof Error) {
      const error: LogFields = { class: errorClass(value), message: redact(value.message), stack: redact(value.stack ?? '') };
      if (value.cause !== undefined) error.cause = loggable(value.cause, ancestors);
      return error;
    }
    if (Array.isArray(value)) return value.map((item) => loggable(item, ancestors));
    // What JSON.stringify would write is what gets redacted: a URL's href, a class instance's own fields.
    if ('toJSON' in value && typeof value.toJSON === 'function') return loggable(value.toJSON(), ancestors);
    return Object.fromEntries(
      Object.entries(value).map(([key, nested]) => [key, SECRET_NAME.test(key) ? REDACTED : loggable(nested, ancestors)]),
    );
  } finally {
    ancestors.delete(value);
  }
}

function errorClass(error: Error): string {
  // A subclass that does not set `name` still reports 'Error'; its constructor knows better.
  return error.name !== 'Error' ? error.name : error.constructor.name || error.name;
}

/** A line that cannot be serialized (a throwing toJSON) is still written, without its fields. */
function serialize(line: LogFields): string {
  try {
    return JSON.stringify(line);
  } catch (error) {
    const { time, level, service, msg, trace_id, span_id } = line;
    return JSON.stringify({
      time,
      level,
      service,
      msg,
      trace_id,
      span_id,
      log_error: `fields not serializable: ${error instanceof Error ? errorClass(error) : typeof error}`,
    });
  }
}
