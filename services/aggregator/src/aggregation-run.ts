// One aggregation run: finish the batches earlier runs left pending, then move one date's
// counters (or one merchant's) out of Redis into PostgreSQL, a batch at a time.
//
// Why nothing is lost or counted twice (the README has the whole argument):
// - a Lua script moves a batch of counters into a pending hash under a fresh batch id in one
//   atomic step, so each increment is in a counter or in exactly one batch;
// - one PostgreSQL transaction records the batch id and adds the batch's deltas; a batch id
//   already recorded is skipped, so applying a batch again changes nothing;
// - only then is the pending hash deleted, and every run starts by applying whatever pending
//   batches a crash (or a concurrent replica) left behind.
import { randomUUID } from 'node:crypto';
import type { UsageCounterStore } from './adapters/usage-counter-store.ts';
import type { UsageRepository } from './adapters/usage-repository.ts';
import {
  type FoundCounter,
  planUpsert,
  readMoveReply,
  readPendingBatch,
  type SkippedKey,
  SkippedKeys,
  sortScannedKeys,
  type UpsertRows,
} from './domain/batch-plan.ts';
import type { AggregationTarget } from './domain/fan-out.ts';
import { UsageKeyParser, usageKeyPattern } from './domain/usage-key.ts';

export interface AggregationRunnerOptions {
  metricTypes: ReadonlySet<string>;
  /** Counters per move script and per upsert statement. */
  batchSize: number;
  /** SCAN's COUNT hint. */
  scanCount: number;
  /** Batches being written to PostgreSQL while the next is moved out of Redis. */
  applyConcurrency: number;
  /** Skipped keys listed in a report (all are counted). */
  reportedErrorLimit: number;
  /** How long applied batch ids are kept; far longer than any batch can stay pending. */
  batchIdRetentionMs: number;
}

export interface RunReport {
  runId: string;
  date: string;
  merchantId: string | null;
  keysRead: number;
  rowsWritten: number;
  recoveredBatches: number;
  errorCount: number;
  errors: SkippedKey[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** A run that failed as a whole; `report` says how far it got. */
export class AggregationRunFailedError extends Error {
  override name = 'AggregationRunFailedError';
  constructor(
    readonly report: RunReport,
    cause: unknown,
  ) {
    const what = report.merchantId === null ? report.date : `${report.merchantId} on ${report.date}`;
    super(`aggregation of ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The run's deadline passed; what it moved so far is safe, the rest waits for the retry. */
export class RunDeadlineError extends Error {
  override name = 'RunDeadlineError';
}

interface Progress {
  keysRead: number;
  rowsWritten: number;
  recoveredBatches: number;
  skipped: SkippedKeys;
}

export class AggregationRunner {
  constructor(
    private readonly store: UsageCounterStore,
    private readonly repository: UsageRepository,
    private readonly options: AggregationRunnerOptions,
  ) {}

  async run(target: AggregationTarget, signal?: AbortSignal): Promise<RunReport> {
    const runId = randomUUID();
    const startedAt = new Date();
    const started = performance.now();
    const progress: Progress = {
      keysRead: 0,
      rowsWritten: 0,
      recoveredBatches: 0,
      skipped: new SkippedKeys(this.options.reportedErrorLimit),
    };
    const report = (): RunReport => ({
      runId,
      date: target.date,
      merchantId: target.merchantId,
      keysRead: progress.keysRead,
      rowsWritten: progress.rowsWritten,
      recoveredBatches: progress.recoveredBatches,
      errorCount: progress.skipped.count,
      errors: progress.skipped.first(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - started),
    });
    const applying = new ApplyQueue(this.options.applyConcurrency);
    try {
      // PostgreSQL first: while it is down nothing leaves Redis, so nothing piles up pending.
      await this.repository.ready();
      await this.finishPendingBatches(progress);
      const parser = new UsageKeyParser(this.options.metricTypes);
      // SCAN may return a key twice; a batch holds each key once (the move script reads it once).
      let batch = new Map<string, FoundCounter>();
      for await (const page of this.store.scanKeys(usageKeyPattern(target.date, target.merchantId), this.options.scanCount)) {
        if (signal?.aborted) throw new RunDeadlineError(`run for ${target.date} passed its deadline`);
        const { counters, skipped } = sortScannedKeys(page, parser, target);
        progress.skipped.add(skipped);
        for (const counter of counters) {
          batch.set(counter.key, counter);
          if (batch.size >= this.options.batchSize) {
            await this.moveBatch([...batch.values()], progress, applying);
            batch = new Map();
          }
        }
      }
      if (batch.size > 0) await this.moveBatch([...batch.values()], progress, applying);
      await applying.drain();
      await this.repository.forgetBatchesBefore(new Date(Date.now() - this.options.batchIdRetentionMs));
      return report();
    } catch (error) {
      // Whatever was moved is either applied or pending for the next run; wait for the writes
      // in flight so that the report counts them.
      await applying.settle();
      throw new AggregationRunFailedError(report(), error);
    }
  }

  /** Applies every pending batch: left by a crash, or in flight in another run right now. */
  private async finishPendingBatches(progress: Progress): Promise<void> {
    for (const batchId of await this.store.pendingBatchIds()) {
      const entries = await this.store.readPendingBatch(batchId);
      if (entries.length > 0) {
        const { deltas, skipped } = readPendingBatch(entries);
        progress.skipped.add(skipped);
        const { applied, rowsWritten } = await this.repository.applyBatch(batchId, planUpsert(deltas));
        if (applied) {
          progress.recoveredBatches += 1;
          progress.rowsWritten += rowsWritten;
        }
      }
      await this.store.finishPendingBatch(batchId);
    }
  }

  private async moveBatch(counters: FoundCounter[], progress: Progress, applying: ApplyQueue): Promise<void> {
    const batchId = randomUUID();
    const reply = await this.store.moveToPendingBatch(
      batchId,
      counters.map((c) => c.key),
    );
    const { moved, skipped } = readMoveReply(counters, reply);
    progress.skipped.add(skipped);
    if (moved.length === 0) return;
    progress.keysRead += moved.length;
    const rows = planUpsert(moved);
    await applying.add(() => this.applyBatch(batchId, rows, progress));
  }

  private async applyBatch(batchId: string, rows: UpsertRows, progress: Progress): Promise<void> {
    const { rowsWritten } = await this.repository.applyBatch(batchId, rows);
    progress.rowsWritten += rowsWritten;
    await this.store.finishPendingBatch(batchId);
  }
}

/** At most `limit` writes at once; the first failure is thrown to whoever adds or drains next. */
class ApplyQueue {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async add(write: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    const task: Promise<void> = write().then(
      () => {
        this.running.delete(task);
      },
      (error: unknown) => {
        this.running.delete(task);
        this.failure ??= { error };
      },
    );
    this.running.add(task);
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.throwIfFailed();
  }

  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  async settle(): Promise<void> {
    await Promise.all(this.running);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
