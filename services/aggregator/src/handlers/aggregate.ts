// One aggregation request: run it, record it, and say how it went on aggregator.events. A run
// that fails as a whole is retried through the delay tiers (and ends in the DLQ when they
// are spent); each failed attempt is announced too.
import { type AggregationRequested, aggregationCompleted, aggregationFailed } from '@tickflow/contracts';
import { FatalError, type Handler, RetryableError } from '@tickflow/messaging';
import { describeError } from '@tickflow/runtime';
import type { RunRecord } from '../adapters/usage-repository.ts';
import { AggregationRunFailedError, type AggregationRunner, type RunReport } from '../aggregation-run.ts';
import { targetKey, targetProblem } from '../domain/fan-out.ts';
import type { AggregatorMetrics } from '../metrics.ts';

export interface AggregateHandlerDependencies {
  runner: AggregationRunner;
  recordRun(run: RunRecord): Promise<void>;
  metrics: AggregatorMetrics;
}

export function aggregateHandler({ runner, recordRun, metrics }: AggregateHandlerDependencies): Handler<AggregationRequested> {
  return async (message) => {
    const target = { date: message.payload.date, merchantId: message.payload.merchantId };
    const problem = targetProblem(target);
    if (problem) throw new FatalError(`aggregation request: ${problem}`);
    const key = targetKey(target);
    let report: RunReport;
    try {
      report = await runner.run(target, message.signal);
    } catch (error) {
      if (!(error instanceof AggregationRunFailedError)) throw error;
      const failed = error.report;
      // Redacted: the cause may be a driver error quoting a connection string.
      const { errorClass, message: errorMessage } = describeError(error.cause);
      metrics.runFinished('failed', failed);
      // PostgreSQL may be what failed: the record is best effort, the event is the outcome.
      await recordRun({ ...failed, status: 'failed', attempt: message.attempt, errorClass, errorMessage }).catch(() => undefined);
      await message.emit(aggregationFailed, { ...failed, attempt: message.attempt, errorClass, errorMessage }, key);
      throw new RetryableError(error.message, { cause: error });
    }
    metrics.runFinished('completed', report);
    await recordRun({ ...report, status: 'completed', attempt: message.attempt, errorClass: null, errorMessage: null }).catch(
      (error: unknown) => message.log.warn('run not recorded', { error, runId: report.runId }),
    );
    await message.emit(aggregationCompleted, report, key);
    const { runId, keysRead, rowsWritten, recoveredBatches, errorCount, durationMs } = report;
    message.log.info('aggregation completed', {
      date: target.date,
      merchantId: target.merchantId,
      runId,
      keysRead,
      rowsWritten,
      recoveredBatches,
      errorCount,
      durationMs,
    });
  };
}
