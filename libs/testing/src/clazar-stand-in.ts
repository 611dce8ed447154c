// A local Clazar, on the stand-in kit (http-stand-in.ts): `POST /authenticate/` hands out
// bearer tokens for one pair of credentials (others: 401), and `POST /metering/` takes usage
// records with the reply shapes of the real API — a result per record: "success" with an id;
// `errors` with a `code` and `message` for a record it refuses (among them a duplicate: the
// same contract, dimension and hour accepted before); a status other than "success" without
// errors for a dimension not registered (a warning). Tokens expire; faults come from the kit.
// What it accepted is kept, so a test compares it with what should have been billed, exactly.
import { randomUUID } from 'node:crypto';
import { type HttpStandIn, type StandInReply, type StandInRequest, startHttpStandIn } from './http-stand-in.ts';

export interface ClazarUsage {
  id: string;
  cloud: string;
  contract_id: string;
  dimension: string;
  quantity: string;
  start_time: string;
  end_time: string;
}

export interface ClazarStandInOptions {
  clientId: string;
  clientSecret: string;
  /** Lifetime of a token, in seconds (`expires_in`); 3600 unless given. */
  tokenSeconds?: number;
  /** Dimensions answered with a warning (registered nowhere). */
  unregisteredDimensions?: readonly string[];
  /** Delay of every /metering/ reply, as a real API's latency. */
  replyDelayMs?: number;
  port?: number;
  /** Told of each usage record accepted: what `npm start` prints. */
  onAccepted?(usage: ClazarUsage): void;
}

export interface ClazarStandIn {
  readonly url: string;
  /** The kit underneath: its recorded requests and injected faults. */
  readonly http: HttpStandIn<'POST /authenticate/' | 'POST /metering/'>;
  /** Every record accepted, once each, in arrival order. */
  accepted(): ClazarUsage[];
  /** Makes every token handed out so far invalid, as if expired. */
  expireTokens(): void;
  /** Refuses the records `when` picks with this code and message (an error result) until cleared. */
  refuse(when: (record: Record<string, unknown>) => boolean, error: { code: string; message: string }): void;
  clearRefusals(): void;
  close(): Promise<void>;
}

const REQUIRED = ['cloud', 'contract_id', 'dimension', 'start_time', 'end_time', 'quantity'] as const;

export async function startClazarStandIn(options: ClazarStandInOptions): Promise<ClazarStandIn> {
  const tokens = new Map<string, number>();
  const accepted: ClazarUsage[] = [];
  const byHour = new Map<string, ClazarUsage>();
  const unregistered = new Set(options.unregisteredDimensions ?? []);
  let refusals: { when: (record: Record<string, unknown>) => boolean; error: { code: string; message: string } }[] = [];
  const tokenSeconds = options.tokenSeconds ?? 3600;

  function authenticate(request: StandInRequest): StandInReply {
    const body = request.body as { client_id?: unknown; client_secret?: unknown } | undefined;
    if (body?.client_id !== options.clientId || body?.client_secret !== options.clientSecret) {
      return { status: 401, body: { detail: 'Invalid client credentials.' } };
    }
    const token = randomUUID().replaceAll('-', '');
    tokens.set(token, Date.now() + tokenSeconds * 1000);
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: tokenSeconds } };
  }

  async function metering(request: StandInRequest): Promise<StandInReply> {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiresAt = token === undefined ? undefined : tokens.get(token);
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      return { status: 401, body: { detail: 'Authentication credentials were not provided or have expired.' } };
    }
    const records = (request.body as { request?: unknown } | undefined)?.request;
    if (!Array.isArray(records) || records.length === 0)
      return { status: 400, body: { detail: 'request: a non-empty list of usage records is required.' } };
    for (const [index, record] of records.entries()) {
      const missing = REQUIRED.filter((field) => typeof (record as Record<string, unknown>)?.[field] !== 'string');
      if (missing.length > 0) return { status: 400, body: { detail: `request[${index}]: ${missing.join(', ')} must be strings.` } };
      if (!/^\d+$/.test((record as { quantity: string }).quantity)) {
        return { status: 400, body: { detail: `request[${index}].quantity: must be a non-negative integer as a string.` } };
      }
    }
    if (options.replyDelayMs) await new Promise((resolve) => setTimeout(resolve, options.replyDelayMs));
    const results = (records as Record<string, string>[]).map((record) => {
      const refusal = refusals.find((r) => r.when(record));
      if (refusal)
        return {
          ...echo(record),
          status: 'failure',
          errors: [refusal.error.message],
          code: refusal.error.code,
          message: refusal.error.message,
        };
      if (unregistered.has(record.dimension as string)) {
        return {
          ...echo(record),
          status: 'dimension_not_registered',
          message: `Dimension ${record.dimension} is not registered for this listing.`,
        };
      }
      const hour = `${record.contract_id}|${record.dimension}|${(record.start_time as string).slice(0, 13)}`;
      const earlier = byHour.get(hour);
      if (earlier) {
        const message = 'Duplicate usage record: usage for this contract, dimension and hour was already recorded.';
        return { ...echo(record), id: earlier.id, status: 'failure', errors: [message], code: 'DUPLICATE_USAGE_RECORD', message };
      }
      const usage: ClazarUsage = { id: randomUUID(), ...(echo(record) as Omit<ClazarUsage, 'id'>) };
      byHour.set(hour, usage);
      accepted.push(usage);
      options.onAccepted?.(usage);
      return { ...usage, status: 'success' };
    });
    return { status: 200, body: { results } };
  }

  const http = await startHttpStandIn({
    routes: { 'POST /authenticate/': authenticate, 'POST /metering/': metering },
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  return {
    url: http.url,
    http,
    accepted: () => [...accepted],
    expireTokens: () => tokens.clear(),
    refuse: (when, error) => {
      refusals.push({ when, error });
    },
    clearRefusals: () => {
      refusals = [];
    },
    close: () => http.close(),
  };
}

function echo(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(REQUIRED.map((field) => [field, record[field]]));
}
