// Metering's state in PostgreSQL, where the original kept a JSON file: per plan and month, the
// contracts sent (with Clazar's result ids), those in error with the exact payload that failed,
// those skipped and why, and per plan the last month processed.
import type { MeteredDimension, MeteringWarning } from '@tickflow/contracts';
import { type ServiceDatabase, withTransaction } from '@tickflow/runtime';
import type pg from 'pg';
import type { ClazarUsageRecord, MeteringReply } from '../domain/clazar-reply.ts';
import type { BillLine } from '../domain/contract-bill.ts';

export type PlanMonthStatus = 'sending' | 'completed' | 'failed' | 'dry_run';
export type ContractStatus = 'pending' | 'sent' | 'error' | 'skipped' | 'dry_run';

export interface PlanMonthRecord {
  plan: string;
  month: string;
  status: PlanMonthStatus;
  files: number;
  recordsRead: number;
  recordsSkipped: number;
  skippedByReason: Record<string, number>;
  error: string | null;
  computedAt: Date;
  completedAt: Date | null;
}

export interface ContractMonthRecord {
  plan: string;
  month: string;
  contractId: string;
  status: ContractStatus;
  bill: BillLine[];
  payload: { request: ClazarUsageRecord[] } | null;
  accepted: MeteredDimension[];
  warnings: MeteringWarning[];
  skipReason: string | null;
  errors: string[];
  code: string | null;
  message: string | null;
  sends: number;
  retryCount: number;
  lastRetryAt: Date | null;
  sentAt: Date | null;
  updatedAt: Date;
}

export interface ComputedMonth {
  plan: string;
  month: string;
  dryRun: boolean;
  files: number;
  recordsRead: number;
  recordsSkipped: number;
  skippedByReason: Record<string, number>;
  contracts: { contractId: string; bill: BillLine[]; payload: { request: ClazarUsageRecord[] } | null; skipReason: string | null }[];
}

/** What one answered request changed for a contract-month. */
export type SendOutcome = MeteringReply;

export interface MonthCounts {
  contracts: number;
  sent: number;
  failed: number;
  skipped: number;
  warnings: number;
}

interface ContractRow {
  plan: string;
  month: string;
  contract_id: string;
  status: ContractStatus;
  bill: BillLine[];
  payload: { request: ClazarUsageRecord[] } | null;
  accepted: MeteredDimension[];
  warnings: MeteringWarning[];
  skip_reason: string | null;
  errors: string[];
  code: string | null;
  message: string | null;
  sends: number;
  retry_count: number;
  last_retry_at: Date | null;
  sent_at: Date | null;
  updated_at: Date;
}

interface PlanMonthRow {
  plan: string;
  month: string;
  status: PlanMonthStatus;
  files: number;
  records_read: string;
  records_skipped: string;
  skipped_by_reason: Record<string, number>;
  error: string | null;
  computed_at: Date;
  completed_at: Date | null;
}

export class MeteringRepository {
  private readonly t: { progress: string; months: string; contracts: string };

  constructor(private readonly db: ServiceDatabase) {
    this.t = { progress: db.table('plan_progress'), months: db.table('plan_months'), contracts: db.table('contract_months') };
  }

  async lastProcessed(plan: string): Promise<string | null> {
    await this.db.ready();
    const result = await this.db.pool.query<{ last_processed_month: string }>(
      `SELECT last_processed_month FROM ${this.t.progress} WHERE plan = $1`,
      [plan],
    );
    return result.rows[0]?.last_processed_month ?? null;
  }

  async planMonth(plan: string, month: string): Promise<PlanMonthRecord | null> {
    await this.db.ready();
    const result = await this.db.pool.query<PlanMonthRow>(`SELECT * FROM ${this.t.months} WHERE plan = $1 AND month = $2`, [plan, month]);
    const row = result.rows[0];
    return row ? planMonthOf(row) : null;
  }

  /**
   * Stores a computed month in one transaction: the month, each contract's bill and payload,
   * and (not in a dry run) the plan's last month processed. A month already stored live is
   * kept as it is — its bills are what was sent — and returned as `false`; a dry run's preview
   * is replaced.
   */
  async saveComputedMonth(month: ComputedMonth): Promise<boolean> {
    await this.db.ready();
    return withTransaction(this.db.pool, async (client) => {
      const existing = await client.query<{ status: PlanMonthStatus }>(
        `SELECT status FROM ${this.t.months} WHERE plan = $1 AND month = $2 FOR UPDATE`,
        [month.plan, month.month],
      );
      const status = existing.rows[0]?.status;
      if (status === 'sending' || status === 'completed') return false;
      if (month.dryRun && status !== undefined && status !== 'dry_run' && status !== 'failed') return false;
      await client.query(`DELETE FROM ${this.t.contracts} WHERE plan = $1 AND month = $2 AND status = 'dry_run'`, [
        month.plan,
        month.month,
      ]);
      await client.query(
        `INSERT INTO ${this.t.months} (plan, month, status, files, records_read, records_skipped, skipped_by_reason, error, computed_at, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, now(), NULL)
         ON CONFLICT (plan, month) DO UPDATE SET status = EXCLUDED.status, files = EXCLUDED.files, records_read = EXCLUDED.records_read,
           records_skipped = EXCLUDED.records_skipped, skipped_by_reason = EXCLUDED.skipped_by_reason, error = NULL,
           computed_at = now(), completed_at = NULL`,
        [
          month.plan,
          month.month,
          month.dryRun ? 'dry_run' : 'sending',
          month.files,
          month.recordsRead,
          month.recordsSkipped,
          JSON.stringify(month.skippedByReason),
        ],
      );
      // One statement for all contracts: a month may hold tens of thousands.
      const rows = month.contracts.map((c) => ({
        contract_id: c.contractId,
        status: month.dryRun ? 'dry_run' : c.skipReason ? 'skipped' : 'pending',
        bill: c.bill,
        payload: c.payload,
        skip_reason: c.skipReason,
      }));
      await client.query(
        `INSERT INTO ${this.t.contracts} (plan, month, contract_id, status, bill, payload, skip_reason)
         SELECT $1, $2, r.contract_id, r.status, r.bill, r.payload, r.skip_reason
           FROM jsonb_to_recordset($3::jsonb) AS r(contract_id text, status text, bill jsonb, payload jsonb, skip_reason text)
         ON CONFLICT (plan, month, contract_id) DO NOTHING`,
        [month.plan, month.month, JSON.stringify(rows)],
      );
      if (!month.dryRun) {
        await client.query(
          `INSERT INTO ${this.t.progress} (plan, last_processed_month) VALUES ($1, $2)
           ON CONFLICT (plan) DO UPDATE SET last_processed_month = GREATEST(plan_progress.last_processed_month, EXCLUDED.last_processed_month),
             updated_at = now()`,
          [month.plan, month.month],
        );
      }
      return true;
    });
  }

  /** The month could not be computed (a malformed file): nothing of it was stored or sent. */
  async recordMonthFailure(plan: string, month: string, error: string): Promise<void> {
    await this.db.ready();
    await this.db.pool.query(
      `INSERT INTO ${this.t.months} (plan, month, status, error) VALUES ($1, $2, 'failed', $3)
       ON CONFLICT (plan, month) DO UPDATE SET status = 'failed', error = EXCLUDED.error, computed_at = now()
       WHERE plan_months.status IN ('failed', 'dry_run')`,
      [plan, month, error],
    );
  }

  async contract(plan: string, month: string, contractId: string): Promise<ContractMonthRecord | null> {
    await this.db.ready();
    const result = await this.db.pool.query<ContractRow>(
      `SELECT * FROM ${this.t.contracts} WHERE plan = $1 AND month = $2 AND contract_id = $3`,
      [plan, month, contractId],
    );
    const row = result.rows[0];
    return row ? contractOf(row) : null;
  }

  async contracts(
    plan: string,
    month: string,
    filter: { status?: ContractStatus; contractId?: string } = {},
  ): Promise<ContractMonthRecord[]> {
    await this.db.ready();
    const result = await this.db.pool.query<ContractRow>(
      `SELECT * FROM ${this.t.contracts}
        WHERE plan = $1 AND month = $2 AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR contract_id = $4)
        ORDER BY contract_id`,
      [plan, month, filter.status ?? null, filter.contractId ?? null],
    );
    return result.rows.map(contractOf);
  }

  /** Contracts of the plan in error with re-sends left, oldest month first: what a run re-sends before new data. */
  async contractsToResend(plan: string, maxRetries: number): Promise<ContractMonthRecord[]> {
    await this.db.ready();
    const result = await this.db.pool.query<ContractRow>(
      `SELECT * FROM ${this.t.contracts} WHERE plan = $1 AND status = 'error' AND retry_count < $2 ORDER BY month, contract_id`,
      [plan, maxRetries],
    );
    return result.rows.map(contractOf);
  }

  /**
   * Records an answered request, inside the side-effect ledger's transaction (so the ledger's
   * done mark and this write commit together). `wasInError`: the request was a re-send.
   */
  async recordSend(
    client: pg.ClientBase,
    plan: string,
    month: string,
    contractId: string,
    outcome: SendOutcome,
    wasInError: boolean,
  ): Promise<void> {
    const refused = outcome.refused.length > 0;
    await client.query(
      `UPDATE ${this.t.contracts}
          SET status = $4, payload = $5, accepted = accepted || $6::jsonb, warnings = warnings || $7::jsonb, errors = $8,
              code = $9, message = $10, sends = sends + 1,
              retry_count = retry_count + CASE WHEN $11 THEN 1 ELSE 0 END,
              last_retry_at = CASE WHEN $11 THEN now() ELSE last_retry_at END,
              sent_at = CASE WHEN $4 = 'sent' THEN now() ELSE sent_at END, updated_at = now()
        WHERE plan = $1 AND month = $2 AND contract_id = $3`,
      [
        plan,
        month,
        contractId,
        refused ? 'error' : 'sent',
        refused ? JSON.stringify({ request: outcome.refused }) : null,
        JSON.stringify(outcome.accepted),
        JSON.stringify(outcome.warnings),
        JSON.stringify(outcome.errors),
        outcome.code,
        outcome.message,
        wasInError,
      ],
    );
  }

  /** A send failed without an answer (5xx, 429, network): kept as the contract's last error; `final` puts it in error. */
  async recordSendFailure(
    plan: string,
    month: string,
    contractId: string,
    failure: { code: string; message: string },
    final: boolean,
  ): Promise<void> {
    await this.db.ready();
    await this.db.pool.query(
      `UPDATE ${this.t.contracts}
          SET code = $4, message = $5, status = CASE WHEN $6 AND status = 'pending' THEN 'error' ELSE status END, updated_at = now()
        WHERE plan = $1 AND month = $2 AND contract_id = $3 AND status IN ('pending', 'error')`,
      [plan, month, contractId, failure.code, failure.message, final],
    );
  }

  /** Counts of a month still `sending` whose contracts all have an outcome; null otherwise. */
  async monthReadyToComplete(plan: string, month: string): Promise<(MonthCounts & { record: PlanMonthRecord }) | null> {
    await this.db.ready();
    // Asked after every contract's send: the partial index answers "any left?" without
    // counting the month's contracts each time.
    const left = await this.db.pool.query(
      `SELECT 1 FROM ${this.t.contracts} WHERE plan = $1 AND month = $2 AND status = 'pending' LIMIT 1`,
      [plan, month],
    );
    if (left.rowCount !== 0) return null;
    const result = await this.db.pool.query<
      PlanMonthRow & { contracts: number; sent: number; failed: number; skipped: number; warned: number; pending: number }
    >(
      `SELECT m.*,
              count(c.contract_id)::int AS contracts,
              count(*) FILTER (WHERE c.status = 'sent')::int AS sent,
              count(*) FILTER (WHERE c.status = 'error')::int AS failed,
              count(*) FILTER (WHERE c.status = 'skipped')::int AS skipped,
              count(*) FILTER (WHERE jsonb_array_length(c.warnings) > 0)::int AS warned,
              count(*) FILTER (WHERE c.status = 'pending')::int AS pending
         FROM ${this.t.months} m LEFT JOIN ${this.t.contracts} c ON c.plan = m.plan AND c.month = m.month
        WHERE m.plan = $1 AND m.month = $2 AND m.status = 'sending'
        GROUP BY m.plan, m.month`,
      [plan, month],
    );
    const row = result.rows[0];
    if (!row || row.pending > 0) return null;
    return {
      contracts: row.contracts,
      sent: row.sent,
      failed: row.failed,
      skipped: row.skipped,
      warnings: row.warned,
      record: planMonthOf(row),
    };
  }

  /** True for the one caller that moved the month from sending to completed. */
  async markMonthCompleted(plan: string, month: string): Promise<boolean> {
    const result = await this.db.pool.query(
      `UPDATE ${this.t.months} SET status = 'completed', completed_at = now() WHERE plan = $1 AND month = $2 AND status = 'sending'`,
      [plan, month],
    );
    return result.rowCount === 1;
  }
}

function planMonthOf(row: PlanMonthRow): PlanMonthRecord {
  return {
    plan: row.plan,
    month: row.month,
    status: row.status,
    files: row.files,
    recordsRead: Number(row.records_read),
    recordsSkipped: Number(row.records_skipped),
    skippedByReason: row.skipped_by_reason,
    error: row.error,
    computedAt: row.computed_at,
    completedAt: row.completed_at,
  };
}

function contractOf(row: ContractRow): ContractMonthRecord {
  return {
    plan: row.plan,
    month: row.month,
    contractId: row.contract_id,
    status: row.status,
    bill: row.bill,
    payload: row.payload,
    accepted: row.accepted,
    warnings: row.warnings,
    skipReason: row.skip_reason,
    errors: row.errors,
    code: row.code,
    message: row.message,
    sends: row.sends,
    retryCount: row.retry_count,
    lastRetryAt: row.last_retry_at,
    sentAt: row.sent_at,
    updatedAt: row.updated_at,
  };
}
