// Counters expire after AGGREGATOR_KEY_TTL; one that nears its end unmoved (a date no tick
// covers any more, runs failing for days) is usage about to be lost. A periodic survey of
// every usage key feeds the gauges that alert on it. A survey reads every key's TTL (seconds
// of Redis time for a million keys), so the first comes one interval after start, not at
// once, where it would slow the runs a restarted service has to catch up on.
import type { UsageCounterStore } from './adapters/usage-counter-store.ts';
import { ALL_USAGE_KEYS } from './domain/usage-key.ts';
import type { AggregatorMetrics } from './metrics.ts';

export interface KeyTtlWatchOptions {
  intervalMs: number;
  nearTtlMs: number;
  scanCount: number;
  onError: (error: unknown) => void;
}

export class KeyTtlWatch {
  private timer: NodeJS.Timeout | undefined;
  private surveying: Promise<void> | undefined;

  constructor(
    private readonly store: UsageCounterStore,
    private readonly metrics: AggregatorMetrics,
    private readonly options: KeyTtlWatchOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.survey(), this.options.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One survey at a time: a slow one (millions of keys) is not stacked on. */
  survey(): Promise<void> {
    this.surveying ??= (async () => {
      try {
        const survey = await this.store.surveyTtl(ALL_USAGE_KEYS, this.options.scanCount, this.options.nearTtlMs);
        const pending = await this.store.pendingBatchIds();
        this.metrics.surveyed(survey, pending.length);
      } catch (error) {
        this.options.onError(error);
      } finally {
        this.surveying = undefined;
      }
    })();
    return this.surveying;
  }
}
