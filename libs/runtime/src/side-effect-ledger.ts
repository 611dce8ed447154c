// The side-effect ledger (ARCHITECTURE.md, "Side effects outside Kafka"). Kafka redelivers;
// an HTTP call to Clazar, an e-mail or a carrier fetch must not be repeated because of it. Each
// effect gets a row under its natural idempotency key (contract+month+dimension, claim+notice,
// client+type+period) that moves intended → done | failed | unknown:
//
//   intended  committed before the effect is called; holds a lease (holder, lease_until)
//   done      the effect happened; its result (JSON) is kept and returned to every later caller
//   failed    the effect is known not to have happened (the remote side refused it): a retry redoes it
//   unknown   the effect may or may not have happened: the next caller reconciles
//
// The remote call and the ledger writes are never in one transaction: the ledger makes the gap
// visible and safe, it cannot close it. What a redelivery does after a crash at each point:
//
//   before intended is committed     no row (or the earlier failed/unknown): as if the crashed attempt never began
//   after intended, before the call  intended with a lease: callers get a RetryableError until the lease runs
//                                    out, then the row counts as unknown (below); the effect never ran,
//                                    which a reconcile reports as not-done
//   during the call                  the same; the remote side may or may not have acted
//   after the call, before done      the same; the remote side acted, which a reconcile reports as done
//   after done is committed          done: the recorded result is returned and the effect is not called
//
// Unknown (or intended with its lease run out) is reconciled: `reconcile` asks the remote side
// (Clazar reports a duplicate) and says done-with-result, not-done (the effect is attempted) or
// unknown. Without `reconcile`, or when it says unknown, the effect's declared policy decides:
// `onUnknown: 'redo'` attempts the effect again (at least once: the remote side is idempotent or
// a duplicate is harmless); `'stop'` throws a FatalError naming the key (at most once: the message
// goes to the dead-letter topic and an operator resolves the row with markDone or markNotDone).
//
// One attempt at a time per key: the claim is a short transaction that locks the row and takes
// a lease; a caller that finds a live lease of another gets a RetryableError and is redelivered
// later. A lease, not a lock held through the call, because the call must not keep a connection
// or a transaction open, and because a crashed holder must not block the key for ever. The
// effect's `signal` aborts before the lease runs out; every write after the call is fenced on
// the holder, so an attempt that lost its lease never overwrites its successor's outcome.
//
// The table, side_effects, lives in the service's own schema and comes from
// `sideEffectLedgerMigration`, which a service appends to its list of migrations. What is stored
// is redacted (redaction.ts): error messages cut to 1000 characters, and results with fields named
// like a secret and secret-shaped strings replaced, so a later caller that finds `done` gets the
// redacted result. An effect should return what it needs later (an id, a status), not a token.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { FatalError, RetryableError } from './errors.ts';
import { type Migration, withTransaction } from './postgres.ts';
import { describeError, REDACTED, redact, SECRET_NAME } from './redaction.ts';

export type SideEffectState = 'intended' | 'done' | 'failed' | 'unknown';

export const sideEffectLedgerMigration: Migration = {
  // Text, not a file's number, so that it never collides with a service's own NNN versions.
  version: 'runtime.side_effects.1',
  name: 'runtime: side_effects',
  sql: `
    CREATE TABLE side_effects (
      key text PRIMARY KEY,
      state text NOT NULL CHECK (state IN ('intended', 'done', 'failed', 'unknown')),
      attempts integer NOT NULL,
      holder text,
      lease_until timestamptz,
      result jsonb,
      error_class text,
      error_message text,
      created_at timestamptz NOT NULL DEFAULT now(),
      attempted_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      done_at timestamptz
    );
    CREATE INDEX side_effects_open ON side_effects (updated_at) WHERE state <> 'done';
  `,
};

/** What the effect and its reconcile are given. */
export interface SideEffectAttempt {
  key: string;
  /** 1 for the first call of the effect; a reconcile sees the number of the attempt it asks about. */
  attempt: number;
  /** This caller's id in the holder column: worth sending to the remote side as a request id. */
  holder: string;
  /** Aborts before the lease runs out: an effect that honours it records its outcome before anyone may take over. */
  signal: AbortSignal;
}

export type Reconciliation<R> = { outcome: 'done'; result: R } | { outcome: 'not-done' } | { outcome: 'unknown' };

export interface SideEffectOptions<R> {
  /** What to do when the outcome of an earlier attempt is unknown and reconcile cannot tell. */
  onUnknown: 'redo' | 'stop';
  /** Asks the remote side whether an earlier attempt happened. */
  reconcile?: (attempt: SideEffectAttempt) => Promise<Reconciliation<R>>;
  /** True for an error after which the effect certainly did not happen (a refusal, a 4xx before any work): the row becomes failed. */
  definitelyNotDone?: (error: unknown) => boolean;
  /** A domain write committed in the same transaction as the done mark (also after a reconcile that finds it done). */
  onDone?: (client: pg.ClientBase, result: R) => Promise<void>;
  leaseMs?: number;
}

export interface PerformedSideEffect<R> {
  result: R;
  /** False when the result comes from the ledger (done earlier) or from a reconcile: the effect was not called. */
  performedNow: boolean;
  reconciled: boolean;
  attempts: number;
}

export interface SideEffectRecord {
  key: string;
  state: SideEffectState;
  attempts: number;
  holder: string | null;
  leaseUntil: Date | null;
  result: unknown;
  errorClass: string | null;
  errorMessage: string | null;
  createdAt: Date;
  attemptedAt: Date | null;
  updatedAt: Date;
  doneAt: Date | null;
}

export interface SideEffectLedgerOptions {
  pool: pg.Pool;
  /** The service's schema, where sideEffectLedgerMigration created side_effects. */
  schema: string;
  /** Names this process in the holder column, so an operator sees which replica holds a key. */
  holderName?: string;
  /** How long one attempt may hold a key; longer than the effect's own timeout. */
  leaseMs?: number;
}

type Queryable = pg.Pool | pg.ClientBase;

interface SideEffectRow {
  key: string;
  state: SideEffectState;
  attempts: number;
  holder: string | null;
  lease_until: Date | null;
  result: unknown;
  error_class: string | null;
  error_message: string | null;
  created_at: Date;
  attempted_at: Date | null;
  updated_at: Date;
  done_at: Date | null;
}

type Claim =
  | { kind: 'done'; result: unknown; attempts: number }
  | { kind: 'attempt'; attempt: number }
  | { kind: 'reconcile'; attempts: number };

/** The lease was taken over while this attempt ran: its outcome is its successor's to settle. */
class LeaseLostError extends RetryableError {
  override name = 'LeaseLostError';
}

const ERROR_MESSAGE_LENGTH = 1000;

export class SideEffectLedger {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly holderName: string;
  private readonly leaseMs: number;

  constructor(options: SideEffectLedgerOptions) {
    this.pool = options.pool;
    this.table = `${pg.escapeIdentifier(options.schema)}.side_effects`;
    this.holderName = options.holderName ?? `${hostname()}:${process.pid}`;
    this.leaseMs = options.leaseMs ?? 120_000;
  }

  /** Performs `effect` once for `key`, whatever the redeliveries; see the top of this file. */
  async perform<R>(
    key: string,
    effect: (attempt: SideEffectAttempt) => Promise<R>,
    options: SideEffectOptions<R>,
  ): Promise<PerformedSideEffect<R>> {
    const holder = `${this.holderName}/${randomUUID()}`;
    const leaseMs = options.leaseMs ?? this.leaseMs;
    const signal = AbortSignal.timeout(Math.floor(leaseMs * 0.8));
    const claim = await this.claim(key, holder, leaseMs);
    if (claim.kind === 'done') return { result: claim.result as R, performedNow: false, reconciled: false, attempts: claim.attempts };
    if (claim.kind === 'attempt') return this.attempt(key, holder, claim.attempt, signal, effect, options);

    const reconciliation = await this.reconcileOnce(key, holder, { key, attempt: claim.attempts, holder, signal }, options);
    if (reconciliation.outcome === 'done') {
      await this.settleDone(key, holder, reconciliation.result, options.onDone);
      return { result: reconciliation.result, performedNow: false, reconciled: true, attempts: claim.attempts };
    }
    if (reconciliation.outcome === 'unknown' && options.onUnknown === 'stop') {
      await this.release(key, holder, 'unknown');
      throw new FatalError(
        `side effect ${key}: the outcome of attempt ${claim.attempts} is unknown and the effect must not be repeated (onUnknown: 'stop'); ` +
          `check the remote side, then mark it done or not done in ${this.table}`,
      );
    }
    const attempt = await this.beginAttempt(key, holder, leaseMs);
    return this.attempt(key, holder, attempt, signal, effect, options);
  }

  /**
   * Marks `key` done with `result` inside the caller's transaction, beside its domain write; also
   * an operator's way to settle an unknown effect found done on the remote side. Takes the key
   * from any holder, whose later writes then find their lease lost.
   */
  async markDone(db: Queryable, key: string, result: unknown): Promise<void> {
    await db.query(
      `INSERT INTO ${this.table} (key, state, attempts, result, done_at) VALUES ($1, 'done', 0, $2, now())
       ON CONFLICT (key) DO UPDATE SET state = 'done', result = EXCLUDED.result, holder = NULL, lease_until = NULL,
         done_at = now(), updated_at = now()`,
      [key, jsonOf(result)],
    );
  }

  /** An operator's way to settle an unknown effect found not done: the next delivery attempts it. False if it is done. */
  async markNotDone(db: Queryable, key: string, reason: string): Promise<boolean> {
    const updated = await db.query(
      `UPDATE ${this.table} SET state = 'failed', holder = NULL, lease_until = NULL, error_class = 'MarkedNotDone', error_message = $2,
         updated_at = now()
       WHERE key = $1 AND state <> 'done'`,
      [key, redact(reason).slice(0, ERROR_MESSAGE_LENGTH)],
    );
    return updated.rowCount === 1;
  }

  async get(key: string): Promise<SideEffectRecord | null> {
    const result = await this.pool.query<SideEffectRow>(`SELECT * FROM ${this.table} WHERE key = $1`, [key]);
    const row = result.rows[0];
    return row ? recordOf(row) : null;
  }

  /** The most recently changed rows, optionally only those in `states`: for status endpoints. */
  async list(filter: { states?: readonly SideEffectState[]; keyPrefix?: string; limit?: number } = {}): Promise<SideEffectRecord[]> {
    const result = await this.pool.query<SideEffectRow>(
      `SELECT * FROM ${this.table}
        WHERE ($1::text[] IS NULL OR state = ANY($1::text[])) AND ($2::text IS NULL OR starts_with(key, $2))
        ORDER BY updated_at DESC, key LIMIT $3`,
      [filter.states ?? null, filter.keyPrefix ?? null, filter.limit ?? 100],
    );
    return result.rows.map(recordOf);
  }

  /** Takes the key for `holder`, and says what to do with it. */
  private async claim(key: string, holder: string, leaseMs: number): Promise<Claim> {
    const insert = `INSERT INTO ${this.table} (key, state, attempts, holder, lease_until, attempted_at)
         VALUES ($1, 'intended', 1, $2, now() + $3 * interval '1 millisecond', now())
         ON CONFLICT (key) DO NOTHING`;
    // A key seen for the first time, the common case, is taken by one statement: no
    // transaction around it, one round trip instead of three.
    const first = await this.pool.query(insert, [key, holder, leaseMs]);
    if (first.rowCount === 1) return { kind: 'attempt', attempt: 1 };
    return withTransaction(this.pool, async (client) => {
      const inserted = await client.query(insert, [key, holder, leaseMs]);
      if (inserted.rowCount === 1) return { kind: 'attempt', attempt: 1 };

      // Waits for a concurrent claim of the same key to commit, then sees its lease.
      const found = await client.query<SideEffectRow & { leased: boolean }>(
        `SELECT *, holder IS NOT NULL AND lease_until > now() AS leased FROM ${this.table} WHERE key = $1 FOR UPDATE`,
        [key],
      );
      const row = found.rows[0];
      if (!row) throw new RetryableError(`side effect ${key}: its ledger row went away while being claimed`);
      if (row.state === 'done') return { kind: 'done', result: row.result, attempts: row.attempts };
      if (row.leased) {
        throw new RetryableError(
          `side effect ${key} is in progress (attempt ${row.attempts} by ${row.holder}, lease until ${row.lease_until?.toISOString()})`,
        );
      }
      if (row.state === 'failed') {
        await client.query(
          `UPDATE ${this.table} SET state = 'intended', attempts = attempts + 1, holder = $2, lease_until = now() + $3 * interval '1 millisecond',
             attempted_at = now(), updated_at = now()
           WHERE key = $1`,
          [key, holder, leaseMs],
        );
        return { kind: 'attempt', attempt: row.attempts + 1 };
      }
      // intended whose holder let its lease run out (it crashed, or outlived its lease), or unknown.
      const lapsed = row.state === 'intended';
      await client.query(
        `UPDATE ${this.table} SET state = 'unknown', holder = $2, lease_until = now() + $3 * interval '1 millisecond', updated_at = now(),
           error_class = CASE WHEN $4::boolean THEN 'LeaseExpired' ELSE error_class END,
           error_message = CASE WHEN $4::boolean THEN $5::text ELSE error_message END
         WHERE key = $1`,
        [key, holder, leaseMs, lapsed, `attempt ${row.attempts} by ${row.holder} recorded no outcome before its lease ran out`],
      );
      return { kind: 'reconcile', attempts: row.attempts };
    });
  }

  private async reconcileOnce<R>(
    key: string,
    holder: string,
    attempt: SideEffectAttempt,
    options: SideEffectOptions<R>,
  ): Promise<Reconciliation<R>> {
    if (!options.reconcile) return { outcome: 'unknown' };
    try {
      return await options.reconcile(attempt);
    } catch (error) {
      await this.release(key, holder, 'unknown', error).catch(() => undefined);
      throw error;
    }
  }

  /** After a reconcile: intended again, one more attempt, under the lease already held. */
  private async beginAttempt(key: string, holder: string, leaseMs: number): Promise<number> {
    const updated = await this.pool.query<{ attempts: number }>(
      `UPDATE ${this.table} SET state = 'intended', attempts = attempts + 1, lease_until = now() + $3 * interval '1 millisecond',
         attempted_at = now(), updated_at = now()
       WHERE key = $1 AND holder = $2 RETURNING attempts`,
      [key, holder, leaseMs],
    );
    const row = updated.rows[0];
    if (!row) throw new LeaseLostError(`side effect ${key}: another caller took it over during the reconcile`);
    return row.attempts;
  }

  private async attempt<R>(
    key: string,
    holder: string,
    attempt: number,
    signal: AbortSignal,
    effect: (attempt: SideEffectAttempt) => Promise<R>,
    options: SideEffectOptions<R>,
  ): Promise<PerformedSideEffect<R>> {
    let result: R;
    try {
      result = await effect({ key, attempt, holder, signal });
    } catch (error) {
      // If this write fails too, the row stays intended and is reconciled once its lease runs out.
      await this.release(key, holder, options.definitelyNotDone?.(error) ? 'failed' : 'unknown', error).catch(() => undefined);
      throw error;
    }
    await this.settleDone(key, holder, result, options.onDone);
    return { result, performedNow: true, reconciled: false, attempts: attempt };
  }

  private async settleDone<R>(key: string, holder: string, result: R, onDone: SideEffectOptions<R>['onDone']): Promise<void> {
    try {
      await withTransaction(this.pool, async (client) => {
        const updated = await client.query(
          `UPDATE ${this.table} SET state = 'done', result = $3, holder = NULL, lease_until = NULL, done_at = now(), updated_at = now()
           WHERE key = $1 AND holder = $2`,
          [key, holder, jsonOf(result)],
        );
        if (updated.rowCount !== 1) throw new LeaseLostError(`side effect ${key}: done, but another caller took it over meanwhile`);
        await onDone?.(client, result);
      });
    } catch (error) {
      // Done on the remote side but not recorded (the domain write or PostgreSQL failed): unknown, to be reconciled.
      if (!(error instanceof LeaseLostError)) await this.release(key, holder, 'unknown', error).catch(() => undefined);
      throw error;
    }
  }

  /** Gives the key up in `state`, with the error that put it there; a no-op if the lease was lost. */
  private async release(key: string, holder: string, state: 'failed' | 'unknown', error?: unknown): Promise<void> {
    const described = error === undefined ? undefined : describeError(error, { message: ERROR_MESSAGE_LENGTH });
    await this.pool.query(
      `UPDATE ${this.table} SET state = $3, holder = NULL, lease_until = NULL, updated_at = now(),
         error_class = COALESCE($4, error_class), error_message = COALESCE($5, error_message)
       WHERE key = $1 AND holder = $2`,
      [key, holder, state, described?.errorClass ?? null, described?.message ?? null],
    );
  }
}

/** A result as stored: JSON, with fields named like a secret and secret-shaped strings redacted. */
function jsonOf(value: unknown): string {
  return JSON.stringify(value ?? null, (name, nested) =>
    SECRET_NAME.test(name) ? REDACTED : typeof nested === 'string' ? redact(nested) : nested,
  );
}

function recordOf(row: SideEffectRow): SideEffectRecord {
  return {
    key: row.key,
    state: row.state,
    attempts: row.attempts,
    holder: row.holder,
    leaseUntil: row.lease_until,
    result: row.result,
    errorClass: row.error_class,
    errorMessage: row.error_message,
    createdAt: row.created_at,
    attemptedAt: row.attempted_at,
    updatedAt: row.updated_at,
    doneAt: row.done_at,
  };
}
