// The aggregator's own metrics, beside the messaging metrics every service has.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SurveyTotals } from './domain/usage-survey.ts';

export class AggregatorMetrics {
  readonly registry = new Registry();
  readonly incrementsAccepted = new Counter({
    name: 'tickflow_aggregator_increments_total',
    help: 'Usage increments accepted by POST /v1/usage.',
    registers: [this.registry],
  });
  readonly runs = new Counter({
    name: 'tickflow_aggregator_runs_total',
    help: 'Aggregation runs, by outcome: completed or failed.',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly runDuration = new Histogram({
    name: 'tickflow_aggregator_run_duration_seconds',
    help: 'Time an aggregation run took, whatever its outcome.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly keysMoved = new Counter({
    name: 'tickflow_aggregator_keys_moved_total',
    help: 'Usage counters moved from Redis into PostgreSQL.',
    registers: [this.registry],
  });
  readonly keysSkipped = new Counter({
    name: 'tickflow_aggregator_keys_skipped_total',
    help: 'Usage keys skipped by runs: malformed key, or a value that is not a counter.',
    registers: [this.registry],
  });
  readonly rowsWritten = new Counter({
    name: 'tickflow_aggregator_rows_written_total',
    help: 'merchant_usage rows inserted or added to.',
    registers: [this.registry],
  });
  readonly keysWaiting = new Gauge({
    name: 'tickflow_aggregator_keys_waiting',
    help: 'Usage keys in Redis, any date, at the last survey.',
    registers: [this.registry],
  });
  readonly keysNearTtl = new Gauge({
    name: 'tickflow_aggregator_keys_near_ttl',
    help: 'Usage keys that expire within AGGREGATOR_TTL_WARNING without having been moved, at the last survey.',
    registers: [this.registry],
  });
  readonly keysWithoutTtl = new Gauge({
    name: 'tickflow_aggregator_keys_without_ttl',
    help: 'Usage keys with no TTL (written by an application that did not EXPIRE them), at the last survey.',
    registers: [this.registry],
  });
  readonly pendingBatches = new Gauge({
    name: 'tickflow_aggregator_pending_batches',
    help: 'Batches moved out of the counters and not yet confirmed in PostgreSQL, at the last survey.',
    registers: [this.registry],
  });

  surveyed(survey: SurveyTotals, pendingBatches: number): void {
    this.keysWaiting.set(survey.keys);
    this.keysNearTtl.set(survey.nearTtl);
    this.keysWithoutTtl.set(survey.withoutTtl);
    this.pendingBatches.set(pendingBatches);
  }

  runFinished(
    outcome: 'completed' | 'failed',
    report: { keysRead: number; rowsWritten: number; errorCount: number; durationMs: number },
  ): void {
    this.runs.inc({ outcome });
    this.runDuration.observe(report.durationMs / 1000);
    this.keysMoved.inc(report.keysRead);
    this.keysSkipped.inc(report.errorCount);
    this.rowsWritten.inc(report.rowsWritten);
  }
}
