// merchant_usage and the aggregator's bookkeeping in PostgreSQL. Deltas are only ever added:
// a stored total never goes down, whatever happens to Redis.
import { createPostgresPool, type Migration, migrate, withTransaction } from '@tickflow/runtime';
import type pg from 'pg';
import type { SkippedKey, UpsertRows } from '../domain/batch-plan.ts';

export interface RunRecord {
  runId: string;
  date: string;
  merchantId: string | null;
  status: 'completed' | 'failed';
  attempt: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  keysRead: number;
  rowsWritten: number;
  recoveredBatches: number;
  errorCount: number;
  errors: SkippedKey[];
  errorClass: string | null;
  errorMessage: string | null;
}

export interface UsageSummary {
  rows: number;
  merchants: number;
  /** Sum of metric_value per metric type, as decimal strings (they may pass 2^53). */
  totals: Record<string, string>;
}

export interface UsageRepository {
  /** Resolves once the tables exist; tries the migrations again after a failure. */
  ready(): Promise<void>;
  /** Resolves while PostgreSQL answers, asked anew on every call: for /readyz. */
  check(): Promise<void>;
  /**
   * Adds a batch's deltas to merchant_usage in one transaction with its batch id; a batch
   * whose id is already recorded is skipped (`applied: false`).
   */
  applyBatch(batchId: string, rows: UpsertRows): Promise<{ applied: boolean; rowsWritten: number }>;
  /** Forgets batch ids applied before `before`: no pending batch can be that old. */
  forgetBatchesBefore(before: Date): Promise<number>;
  recordRun(run: RunRecord): Promise<void>;
  lastRun(date: string): Promise<RunRecord | null>;
  summary(date: string): Promise<UsageSummary>;
  close(): Promise<void>;
}

/** PostgreSQL could not be reached, or refused the service's work. */
export class UsageRepositoryError extends Error {
  override name = 'UsageRepositoryError';
}

// Lock waits between concurrent runs on the same counters resolve in a retry.
const TRANSIENT = new Set(['40P01', '40001']);
const TRANSACTION_ATTEMPTS = 3;

export interface PostgresUsageRepositoryOptions {
  databaseUrl: string;
  schema: string;
  migrations: readonly Migration[];
  poolSize?: number;
  onMigrated?: (applied: string[]) => void;
}

export class PostgresUsageRepository implements UsageRepository {
  private readonly pool: pg.Pool;
  private readonly table: { usage: string; batches: string; runs: string };
  private migrated: Promise<void> | undefined;

  constructor(private readonly options: PostgresUsageRepositoryOptions) {
    // A PostgreSQL that stops answering fails the run, to be retried, rather than hold it forever.
    this.pool = createPostgresPool({
      databaseUrl: options.databaseUrl,
      applicationName: 'tickflow-aggregator',
      poolSize: options.poolSize ?? 4,
      statementTimeoutMs: 60_000,
    });
    const schema = `"${options.schema}"`;
    this.table = { usage: `${schema}.merchant_usage`, batches: `${schema}.aggregation_batches`, runs: `${schema}.aggregation_runs` };
  }

  ready(): Promise<void> {
    this.migrated ??= migrate(this.pool, this.options.schema, this.options.migrations).then(
      (applied) => this.options.onMigrated?.(applied),
      (error: unknown) => {
        this.migrated = undefined;
        throw repositoryError('migrations not applied', error);
      },
    );
    return this.migrated;
  }

  async check(): Promise<void> {
    await this.ready();
    await this.query('SELECT 1', []);
  }

  async applyBatch(batchId: string, rows: UpsertRows): Promise<{ applied: boolean; rowsWritten: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.applyBatchOnce(batchId, rows);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt < TRANSACTION_ATTEMPTS && code !== undefined && TRANSIENT.has(code)) continue;
        throw repositoryError(`batch ${batchId} not applied`, error);
      }
    }
  }

  private applyBatchOnce(batchId: string, rows: UpsertRows): Promise<{ applied: boolean; rowsWritten: number }> {
    return withTransaction(this.pool, async (client) => {
      // A second transaction with the same id waits here for the first, then finds it.
      const claimed = await client.query(
        `INSERT INTO ${this.table.batches} (batch_id, counters) VALUES ($1, $2) ON CONFLICT (batch_id) DO NOTHING`,
        [batchId, rows.merchantIds.length],
      );
      if (claimed.rowCount === 0) return { applied: false, rowsWritten: 0 };
      // Each column travels as one line-separated text (no part of a usage key may hold
      // whitespace): PostgreSQL splits it far cheaper than the client quotes array elements.
      const upsert = await client.query(
        `INSERT INTO ${this.table.usage} (date, merchant_id, metric_type, metric_value, updated_at)
         SELECT date, merchant_id, metric_type, delta, now()
           FROM unnest(string_to_array($1, E'\\n')::date[], string_to_array($2, E'\\n'), string_to_array($3, E'\\n'),
                       string_to_array($4, E'\\n')::bigint[]) AS delta(date, merchant_id, metric_type, delta)
         ON CONFLICT (date, merchant_id, metric_type)
         DO UPDATE SET metric_value = merchant_usage.metric_value + EXCLUDED.metric_value, updated_at = EXCLUDED.updated_at`,
        [rows.dates.join('\n'), rows.merchantIds.join('\n'), rows.metricTypes.join('\n'), rows.values.join('\n')],
      );
      return { applied: true, rowsWritten: upsert.rowCount ?? 0 };
    });
  }

  async forgetBatchesBefore(before: Date): Promise<number> {
    const result = await this.query(`DELETE FROM ${this.table.batches} WHERE applied_at < $1`, [before]);
    return result.rowCount ?? 0;
  }

  async recordRun(run: RunRecord): Promise<void> {
    await this.query(
      `INSERT INTO ${this.table.runs} (run_id, date, merchant_id, status, attempt, started_at, finished_at, duration_ms, keys_read,
         rows_written, recovered_batches, error_count, errors, error_class, error_message)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (run_id) DO NOTHING`,
      [
        run.runId,
        run.date,
        run.merchantId,
        run.status,
        run.attempt,
        run.startedAt,
        run.finishedAt,
        run.durationMs,
        run.keysRead,
        run.rowsWritten,
        run.recoveredBatches,
        run.errorCount,
        JSON.stringify(run.errors),
        run.errorClass,
        run.errorMessage,
      ],
    );
  }

  async lastRun(date: string): Promise<RunRecord | null> {
    const result = await this.query<RunRow>(
      `SELECT run_id, to_char(date, 'YYYY-MM-DD') AS date, merchant_id, status, attempt, started_at, finished_at, duration_ms,
              keys_read, rows_written, recovered_batches, error_count, errors, error_class, error_message
         FROM ${this.table.runs} WHERE date = $1 ORDER BY finished_at DESC LIMIT 1`,
      [date],
    );
    const row = result.rows[0];
    return row ? runRecordOf(row) : null;
  }

  async summary(date: string): Promise<UsageSummary> {
    const result = await this.query<{ metric_type: string; rows: number; total: string; merchants: number }>(
      `SELECT metric_type, count(*)::int AS rows, sum(metric_value)::text AS total,
              (SELECT count(DISTINCT merchant_id)::int FROM ${this.table.usage} WHERE date = $1) AS merchants
         FROM ${this.table.usage} WHERE date = $1 GROUP BY metric_type ORDER BY metric_type`,
      [date],
    );
    return {
      rows: result.rows.reduce((sum, r) => sum + r.rows, 0),
      merchants: result.rows[0]?.merchants ?? 0,
      totals: Object.fromEntries(result.rows.map((r) => [r.metric_type, r.total])),
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    await this.ready();
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw repositoryError('query failed', error);
    }
  }
}

interface RunRow {
  run_id: string;
  date: string;
  merchant_id: string | null;
  status: 'completed' | 'failed';
  attempt: number;
  started_at: Date;
  finished_at: Date;
  duration_ms: number;
  keys_read: string;
  rows_written: string;
  recovered_batches: number;
  error_count: string;
  errors: SkippedKey[];
  error_class: string | null;
  error_message: string | null;
}

function runRecordOf(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    date: row.date,
    merchantId: row.merchant_id,
    status: row.status,
    attempt: row.attempt,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at.toISOString(),
    durationMs: row.duration_ms,
    keysRead: Number(row.keys_read),
    rowsWritten: Number(row.rows_written),
    recoveredBatches: row.recovered_batches,
    errorCount: Number(row.error_count),
    errors: row.errors,
    errorClass: row.error_class,
    errorMessage: row.error_message,
  };
}

function repositoryError(what: string, error: unknown): UsageRepositoryError {
  if (error instanceof UsageRepositoryError) return error;
  // pg's messages name tables and constraints, never the connection string.
  return new UsageRepositoryError(`PostgreSQL: ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
