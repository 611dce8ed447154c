// A service's HTTP API (/v1/...) as the CLI calls it: the bearer token when there is one, a
// timeout, and every failure turned into a CommandError that says which service, which
// variable points at it and what it answered. The token itself is never part of a message.
import { CommandError } from './cli-errors.ts';

const REQUEST_TIMEOUT_MS = 10_000;

export interface ServiceApi {
  /** As people call it: "the aggregator". */
  name: string;
  baseUrl: string;
  /** The variables that point at it and carry its token, named in errors. */
  urlVar: string;
  tokenVar: string;
  token: string | undefined;
}

/** Calls `path`; resolves with the JSON reply of a 2xx, throws a CommandError otherwise. */
export async function callServiceApi<T>(api: ServiceApi, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (api.token) headers.authorization = `Bearer ${api.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new CommandError(`cannot reach ${api.name} at ${api.baseUrl} (${api.urlVar}): ${cause}`);
  }
  const reply = (await response.json().catch(() => undefined)) as (T & { error?: string }) | undefined;
  if (response.status === 401 || response.status === 403) {
    throw new CommandError(
      api.token
        ? `${api.name} at ${api.baseUrl} refused the token in ${api.tokenVar} (HTTP ${response.status})`
        : `${api.name} at ${api.baseUrl} wants a token: set ${api.tokenVar} (HTTP ${response.status})`,
    );
  }
  if (!response.ok) throw new CommandError(`${api.name} answered ${response.status}: ${reply?.error ?? response.statusText}`);
  if (reply === undefined) throw new CommandError(`${api.name} answered ${response.status} with a body that is not JSON`);
  return reply;
}
