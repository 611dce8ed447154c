// The Clazar API over HTTP: a bearer token from `POST /authenticate/`, reused until it expires
// or a 401 says it has, and usage records to `POST /metering/`. Failures are classified as the
// API means them: 5xx, 429, timeouts and network errors pass (RetryableError, retried on the
// tiers); refused credentials and other 4xx do not (FatalError, to the dead-letter topic). The
// client secret and the token are never part of an error or a log line.
import { FatalError, inSpan, RetryableError } from '@tickflow/runtime';
import { type ClazarUsageRecord, type MeteringReply, readMeteringReply, UnreadableReplyError } from '../domain/clazar-reply.ts';

export interface ClazarClientOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  /** Told of every HTTP call: for the latency and status-code metrics. */
  onCall?(call: { route: 'authenticate' | 'metering'; status: number | 'error'; seconds: number }): void;
}

/** A failed call, with the code a contract's state keeps (`HTTP_503`, `TIMEOUT`, `NETWORK`…). */
export interface ClazarFailure {
  code: string;
}

export class ClazarUnavailableError extends RetryableError implements ClazarFailure {
  override name = 'ClazarUnavailableError';
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class ClazarRefusedError extends FatalError implements ClazarFailure {
  override name = 'ClazarRefusedError';
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Token lifetime assumed when /authenticate/ does not say (`expires_in`). */
const DEFAULT_TOKEN_SECONDS = 3600;
/** A token is renewed this long before it expires, so none expires in flight. */
const RENEW_MARGIN_MS = 60_000;

export class ClazarClient {
  private token: { value: string; expiresAt: number } | undefined;
  private authenticating: Promise<string> | undefined;

  constructor(private readonly options: ClazarClientOptions) {}

  /** Sends one contract-month's records; resolves with Clazar's reading of each. */
  async sendUsage(records: readonly ClazarUsageRecord[], signal?: AbortSignal): Promise<MeteringReply> {
    let response = await this.meteringCall(records, await this.bearer(signal), signal);
    if (response.status === 401) {
      // The token expired early or was revoked: one more try with a fresh one.
      this.token = undefined;
      response = await this.meteringCall(records, await this.bearer(signal), signal);
    }
    const text = await readBody(response, 'metering');
    if (response.status >= 200 && response.status < 300) {
      try {
        return readMeteringReply(records, JSON.parse(text));
      } catch (error) {
        const problem = error instanceof UnreadableReplyError ? error.message : 'the reply is not JSON';
        // Clazar may have recorded the usage: a retry re-sends, and duplicates count as sent.
        throw new ClazarUnavailableError(`Clazar /metering/ answered ${response.status} but ${problem}`, 'UNREADABLE_REPLY');
      }
    }
    throw classifyStatus('/metering/', response.status, text);
  }

  private async bearer(signal?: AbortSignal): Promise<string> {
    if (this.token && this.token.expiresAt - RENEW_MARGIN_MS > Date.now()) return this.token.value;
    // Contracts sent at once share one authentication.
    this.authenticating ??= this.authenticate(signal).finally(() => {
      this.authenticating = undefined;
    });
    return this.authenticating;
  }

  private async authenticate(signal?: AbortSignal): Promise<string> {
    const response = await this.call(
      'authenticate',
      '/authenticate/',
      { client_id: this.options.clientId, client_secret: this.options.clientSecret },
      undefined,
      signal,
    );
    const text = await readBody(response, 'authenticate');
    if (response.status === 401 || response.status === 403) {
      throw new ClazarRefusedError(
        `Clazar refused the credentials (CLAZAR_CLIENT_ID, CLAZAR_CLIENT_SECRET): ${response.status}`,
        `AUTH_${response.status}`,
      );
    }
    if (response.status < 200 || response.status >= 300) throw classifyStatus('/authenticate/', response.status, text);
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new ClazarUnavailableError('Clazar /authenticate/ answered with a body that is not JSON', 'UNREADABLE_REPLY');
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new ClazarUnavailableError('Clazar /authenticate/ answered without an access_token', 'UNREADABLE_REPLY');
    }
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    this.token = { value: body.access_token, expiresAt: Date.now() + seconds * 1000 };
    return body.access_token;
  }

  private meteringCall(records: readonly ClazarUsageRecord[], token: string, signal?: AbortSignal): Promise<Response> {
    return this.call('metering', '/metering/', { request: records }, token, signal);
  }

  private call(
    route: 'authenticate' | 'metering',
    path: string,
    body: unknown,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<Response> {
    return inSpan(`clazar POST ${path}`, { 'http.request.method': 'POST', 'url.path': path }, async () => {
      const started = performance.now();
      const timeout = AbortSignal.timeout(this.options.timeoutMs);
      try {
        const response = await fetch(`${this.options.baseUrl.replace(/\/+$/, '')}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        this.options.onCall?.({ route, status: response.status, seconds: (performance.now() - started) / 1000 });
        return response;
      } catch (error) {
        this.options.onCall?.({ route, status: 'error', seconds: (performance.now() - started) / 1000 });
        if (timeout.aborted)
          throw new ClazarUnavailableError(`Clazar ${path} did not answer within ${this.options.timeoutMs} ms`, 'TIMEOUT');
        if (signal?.aborted) throw new ClazarUnavailableError(`Clazar ${path}: the call was stopped`, 'ABORTED');
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        throw new ClazarUnavailableError(`Clazar ${path} unreachable: ${cause}`, 'NETWORK');
      }
    });
  }
}

async function readBody(response: Response, route: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new ClazarUnavailableError(`Clazar /${route}/ reply cut off: ${(error as Error).message}`, 'NETWORK');
  }
}

function classifyStatus(path: string, status: number, text: string): Error {
  const said = text.replace(/\s+/g, ' ').slice(0, 300);
  if (status === 429 || status >= 500)
    return new ClazarUnavailableError(`Clazar ${path} answered ${status}${said ? `: ${said}` : ''}`, `HTTP_${status}`);
  return new ClazarRefusedError(`Clazar ${path} refused the request with ${status}${said ? `: ${said}` : ''}`, `HTTP_${status}`);
}
