// One place that knows what a secret looks like, used wherever text leaves the process: log
// lines, dead-letter headers, failure events. Errors are where secrets leak: a client library
// puts the URL it called (with its key) or the header it sent into its message, and that
// message is then logged, written to the DLQ and announced on an events topic.
//
// Two nets: the values the service was configured with as secrets (registered at start, so
// `S3_SECRET_ACCESS_KEY`'s value is cut wherever it appears, whatever its shape), and the
// shapes secrets have in text whatever their source.

export const REDACTED = '[redacted]';

/** A field name that says its value is a secret: the whole value is redacted. */
export const SECRET_NAME = /passw(or)?d|secret|token|authorization|api[_-]?key|credential|cookie|private[_-]?key|signature/i;

const SHAPES: [RegExp, string][] = [
  // user:password@ in any URL or connection string.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s/@]+@/gi, `$1${REDACTED}@`],
  // Authorization header values, as a header line or in prose.
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // Query and form parameters, and key=value / key: value pairs, named like a secret.
  [
    /\b([A-Za-z0-9_-]*(?:passw(?:or)?d|secret|token|api[_-]?key|apikey|access[_-]?key|signature|credential)[A-Za-z0-9_-]*)(["']?\s*[=:]\s*["']?)[^\s&"',;}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // JSON Web Tokens.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // AWS access key ids.
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
];

const registered = new Set<string>();
let registeredPattern: RegExp | undefined;

/**
 * Values that must never appear in output, such as the service's API token and the
 * credentials it was configured with. Short values are not registered: cutting every
 * "abc" from every message would garble text and protect nothing.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < 6 || registered.has(value)) return;
  registered.add(value);
  const escaped = [...registered].sort((a, b) => b.length - a.length).map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  registeredPattern = new RegExp(escaped.join('|'), 'g');
}

/** `text` with every secret it holds replaced by [redacted]. */
export function redact(text: string): string {
  let out = registeredPattern ? text.replace(registeredPattern, REDACTED) : text;
  for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
  return out;
}

/** An error's class, message and stack, redacted and cut to size: what may be written about it. */
export function describeError(error: unknown, limits: { message?: number; stack?: number } = {}) {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    errorClass: err.name !== 'Error' ? err.name : err.constructor.name || err.name,
    message: redact(err.message).slice(0, limits.message ?? 1000),
    stack: redact(err.stack ?? '').slice(0, limits.stack ?? 2000),
  };
}
