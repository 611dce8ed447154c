// Claims in PostgreSQL (migrations/001_claims.sql): registered in one statement per batch,
// idempotently by the client's claim id, and read back with their attempts.
import { type ServiceDatabase, withTransaction } from '@tickflow/runtime';
import type { ClaimRegistration, PodStatus } from '../domain/claim.ts';

export interface Claim extends ClaimRegistration {
  podStatus: PodStatus;
  podLocation: string | null;
  podContentType: string | null;
  podSha256: string | null;
  attempts: number;
  lastAttemptAt: Date | null;
  lastError: { class: string; code: string | null; message: string | null } | null;
  nextAttemptAt: Date | null;
  registeredAt: Date;
  updatedAt: Date;
}

export interface AttemptRecord {
  attempt: number;
  outcome: 'success' | 'failed' | 'deferred' | 'gave_up' | 'reset';
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  traceId: string | null;
  at: Date;
}

export type Registered =
  | { claims: { claimId: string; result: 'created' | 'existing' }[] }
  /** A claim id already registered with another client, carrier or tracking number. */
  | { conflict: ClaimRegistration & { registered: ClaimRegistration } };

interface ClaimRow {
  claim_id: string;
  client_id: string;
  carrier: string;
  tracking_number: string;
  pod_status: PodStatus;
  pod_location: string | null;
  pod_content_type: string | null;
  pod_sha256: string | null;
  attempts: number;
  last_attempt_at: Date | null;
  last_error_class: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  next_attempt_at: Date | null;
  registered_at: Date;
  updated_at: Date;
  fetch_started_at: Date | null;
  fetched_by: string | null;
  carried_by: string | null;
}

/** What an attempt ended with, as the claim keeps it. */
export type AttemptEnd =
  | { outcome: 'success'; pod: { location: string; contentType: string; sha256: string } }
  | { outcome: 'failed'; error: { class: string; code: string; message: string }; nextAttemptAt: Date }
  | { outcome: 'gave_up'; error: { class: string; code: string; message: string } }
  /** Not an attempt: the fetch waits (a quota, a Retry-After) and the claim goes back to what it was. */
  | { outcome: 'deferred'; reason: string; until: Date };

export class ClaimRepository {
  private readonly t: { claims: string; attempts: string };

  constructor(private readonly db: ServiceDatabase) {
    this.t = { claims: db.table('claims'), attempts: db.table('attempts') };
  }

  /**
   * Registers a batch in one transaction: new claims are created `pending`; one already there
   * with the same values is `existing`; one there with other values refuses the whole batch.
   */
  async register(claims: readonly ClaimRegistration[]): Promise<Registered> {
    await this.db.ready();
    return withTransaction(this.db.pool, async (client) => {
      const inserted = await client.query<{ claim_id: string }>(
        `INSERT INTO ${this.t.claims} (claim_id, client_id, carrier, tracking_number)
         SELECT c."claimId", c."clientId", c.carrier, c."trackingNumber"
           FROM jsonb_to_recordset($1::jsonb) AS c("claimId" text, "clientId" text, carrier text, "trackingNumber" text)
         ON CONFLICT (claim_id) DO NOTHING RETURNING claim_id`,
        [JSON.stringify(claims)],
      );
      const created = new Set(inserted.rows.map((r) => r.claim_id));
      const others = claims.filter((c) => !created.has(c.claimId));
      if (others.length > 0) {
        const held = await client.query<ClaimRow>(`SELECT * FROM ${this.t.claims} WHERE claim_id = ANY($1)`, [
          others.map((c) => c.claimId),
        ]);
        const byId = new Map(held.rows.map((r) => [r.claim_id, registrationOf(r)]));
        for (const claim of others) {
          const registered = byId.get(claim.claimId) as ClaimRegistration;
          if (
            registered.clientId !== claim.clientId ||
            registered.carrier !== claim.carrier ||
            registered.trackingNumber !== claim.trackingNumber
          ) {
            throw new ConflictSignal({ ...claim, registered });
          }
        }
      }
      return {
        claims: claims.map((c) => ({ claimId: c.claimId, result: created.has(c.claimId) ? ('created' as const) : ('existing' as const) })),
      };
    }).catch((error: unknown) => {
      if (error instanceof ConflictSignal) return { conflict: error.conflict };
      throw error;
    });
  }

  async get(claimId: string): Promise<(Claim & { history: AttemptRecord[] }) | null> {
    await this.db.ready();
    const claim = await this.db.pool.query<ClaimRow>(`SELECT * FROM ${this.t.claims} WHERE claim_id = $1`, [claimId]);
    const row = claim.rows[0];
    if (row === undefined) return null;
    const history = await this.db.pool.query<{
      attempt: number;
      outcome: AttemptRecord['outcome'];
      error_class: string | null;
      error_code: string | null;
      error_message: string | null;
      trace_id: string | null;
      at: Date;
    }>(`SELECT * FROM ${this.t.attempts} WHERE claim_id = $1 ORDER BY seq`, [claimId]);
    return {
      ...claimOf(row),
      history: history.rows.map((h) => ({
        attempt: h.attempt,
        outcome: h.outcome,
        errorClass: h.error_class,
        errorCode: h.error_code,
        errorMessage: h.error_message,
        traceId: h.trace_id,
        at: h.at,
      })),
    };
  }

  /**
   * Begins an attempt at a claim for the message `messageId`: only a claim that is `pending`
   * or `failed`, or `fetching` by a fetcher whose lease (`leaseMs`) ran out, is taken; the
   * claim is then `fetching` and its attempt counted. Null when it is not to be fetched now
   * (another fetch holds it, or it is done): the message has nothing to do.
   */
  async beginAttempt(claimId: string, messageId: string, leaseMs: number): Promise<Claim | null> {
    await this.db.ready();
    const result = await this.db.pool.query<ClaimRow>(
      `UPDATE ${this.t.claims}
          SET pod_status = 'fetching', fetch_started_at = now(), fetched_by = $2, carried_by = $2, attempts = attempts + 1,
              last_attempt_at = now(), updated_at = now()
        WHERE claim_id = $1
          AND (pod_status IN ('pending', 'failed')
               OR (pod_status = 'fetching' AND fetch_started_at < now() - make_interval(secs => $3::double precision / 1000)))
        RETURNING *`,
      [claimId, messageId, leaseMs],
    );
    const row = result.rows[0];
    return row ? claimOf(row) : null;
  }

  /**
   * Ends the attempt `messageId` began, with its outcome, and adds it to the claim's history,
   * in one transaction. False when the attempt is no longer the claim's (its lease ran out and
   * another fetch took the claim): nothing is written.
   */
  async endAttempt(claimId: string, messageId: string, end: AttemptEnd, traceId: string | null): Promise<boolean> {
    return withTransaction(this.db.pool, async (client) => {
      const held = await client.query<ClaimRow>(
        `SELECT * FROM ${this.t.claims} WHERE claim_id = $1 AND pod_status = 'fetching' AND fetched_by = $2 FOR UPDATE`,
        [claimId, messageId],
      );
      const row = held.rows[0];
      if (row === undefined) return false;
      const error = end.outcome === 'failed' || end.outcome === 'gave_up' ? end.error : null;
      switch (end.outcome) {
        case 'success':
          await client.query(
            `UPDATE ${this.t.claims} SET pod_status = 'success', pod_location = $2, pod_content_type = $3, pod_sha256 = $4,
                    next_attempt_at = NULL, fetch_started_at = NULL, fetched_by = NULL, carried_by = NULL, updated_at = now()
              WHERE claim_id = $1`,
            [claimId, end.pod.location, end.pod.contentType, end.pod.sha256],
          );
          break;
        case 'failed':
        case 'gave_up':
          await client.query(
            `UPDATE ${this.t.claims} SET pod_status = $2, last_error_class = $3, last_error_code = $4, last_error_message = $5,
                    next_attempt_at = $6, fetch_started_at = NULL, fetched_by = NULL,
                    carried_by = CASE WHEN $2 = 'failed' THEN carried_by END, updated_at = now()
              WHERE claim_id = $1`,
            [claimId, end.outcome, end.error.class, end.error.code, end.error.message, end.outcome === 'failed' ? end.nextAttemptAt : null],
          );
          break;
        case 'deferred':
          // The attempt did not happen: given back, and the claim is again what it was before it.
          await client.query(
            `UPDATE ${this.t.claims} SET pod_status = CASE WHEN attempts <= 1 THEN 'pending' ELSE 'failed' END, attempts = attempts - 1,
                    next_attempt_at = $2, fetch_started_at = NULL, fetched_by = NULL, updated_at = now()
              WHERE claim_id = $1`,
            [claimId, end.until],
          );
          break;
      }
      await client.query(
        `INSERT INTO ${this.t.attempts} (claim_id, attempt, outcome, error_class, error_code, error_message, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          claimId,
          end.outcome === 'deferred' ? row.attempts - 1 : row.attempts,
          end.outcome,
          error?.class ?? null,
          error?.code ?? (end.outcome === 'deferred' ? 'deferred' : null),
          error?.message ?? (end.outcome === 'deferred' ? `${end.reason}; until ${end.until.toISOString()}` : null),
          traceId,
        ],
      );
      return true;
    });
  }

  /** Claims by id, of one status or all, a page at a time after the id given. */
  async list(filter: { status?: PodStatus; after?: string; limit: number }): Promise<Claim[]> {
    await this.db.ready();
    const result = await this.db.pool.query<ClaimRow>(
      `SELECT * FROM ${this.t.claims} WHERE ($1::text IS NULL OR pod_status = $1) AND claim_id > $2 ORDER BY claim_id LIMIT $3`,
      [filter.status ?? null, filter.after ?? '', filter.limit],
    );
    return result.rows.map(claimOf);
  }
}

/** Carries a conflict out of the transaction, which it rolls back. */
class ConflictSignal extends Error {
  constructor(readonly conflict: ClaimRegistration & { registered: ClaimRegistration }) {
    super(`claim ${conflict.claimId} is registered with other values`);
  }
}

function registrationOf(row: ClaimRow): ClaimRegistration {
  return { claimId: row.claim_id, clientId: row.client_id, carrier: row.carrier, trackingNumber: row.tracking_number };
}

function claimOf(row: ClaimRow): Claim {
  return {
    ...registrationOf(row),
    podStatus: row.pod_status,
    podLocation: row.pod_location,
    podContentType: row.pod_content_type,
    podSha256: row.pod_sha256,
    attempts: row.attempts,
    lastAttemptAt: row.last_attempt_at,
    lastError:
      row.last_error_class === null ? null : { class: row.last_error_class, code: row.last_error_code, message: row.last_error_message },
    nextAttemptAt: row.next_attempt_at,
    registeredAt: row.registered_at,
    updatedAt: row.updated_at,
  };
}
