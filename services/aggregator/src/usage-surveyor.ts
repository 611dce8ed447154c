// Passes over every usage key in Redis: the one way this service looks at counters it is not
// moving. Applications INCRBY the counters directly, so no index of ours can list a date's keys
// (it would miss theirs, and those — no TTL, malformed — are what a status is for); finding
// them means a SCAN of the whole keyspace, seconds of Redis time for a million keys. So a pass
// is never made per request: one pass summarises every date at once (domain/usage-survey.ts),
// at most one runs at a time, and requests share it — the last one while it is recent enough,
// else the one running, else the next, which starts when the running one ends. However many
// requests, for however many dates, Redis sees back-to-back passes at worst, never two at once.
//
// The same passes feed the gauges that alert on counters nearing their TTL unmoved; a timer
// makes one each interval, the first one interval after start, not at once, where it would slow
// the runs a restarted service has to catch up on.
import type { UsageCounterStore } from './adapters/usage-counter-store.ts';
import { ALL_USAGE_KEYS } from './domain/usage-key.ts';
import { type DateSurvey, type SurveyTallyOptions, type SurveyTotals, UsageSurveyTally } from './domain/usage-survey.ts';

export interface UsageSurvey {
  startedAt: Date;
  finishedAt: Date;
  totals: SurveyTotals;
  dates: ReadonlyMap<string, DateSurvey>;
  /** Batches moved out of Redis, any date, not yet confirmed in PostgreSQL. */
  pendingBatches: number;
}

export interface UsageSurveyorOptions extends SurveyTallyOptions {
  scanCount: number;
  /** Called with every survey made, whoever asked for it. */
  onSurvey(survey: UsageSurvey): void;
}

export class UsageSurveyor {
  private last: UsageSurvey | undefined;
  private running: { startedAt: number; survey: Promise<UsageSurvey> } | undefined;
  private next: Promise<UsageSurvey> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: UsageCounterStore,
    private readonly options: UsageSurveyorOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * A survey begun less than `maxAgeMs` ago. With 0, one begun after this call: it sees
   * every write made before it.
   */
  read(maxAgeMs: number): Promise<UsageSurvey> {
    const oldest = this.clock() - maxAgeMs;
    if (this.last && this.last.startedAt.getTime() > oldest) return Promise.resolve(this.last);
    if (this.running && this.running.startedAt > oldest) return this.running.survey;
    // Queued behind the running one, so it begins after this call: fresh for every caller until then.
    if (this.next) return this.next;
    if (!this.running) return this.begin();
    const ended = this.running.survey.then(
      () => undefined,
      () => undefined,
    );
    this.next = ended.then(() => {
      this.next = undefined;
      return this.begin();
    });
    return this.next;
  }

  /** A survey every `intervalMs`, for the gauges; failures go to `onError`. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.timer = setInterval(() => this.read(0).catch(onError), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private begin(): Promise<UsageSurvey> {
    const startedAt = this.clock();
    const survey = this.survey(startedAt).finally(() => {
      if (this.running?.survey === survey) this.running = undefined;
    });
    this.running = { startedAt, survey };
    return survey;
  }

  private async survey(startedAt: number): Promise<UsageSurvey> {
    const tally = new UsageSurveyTally(this.options);
    for await (const counters of this.store.inspectCounters(ALL_USAGE_KEYS, this.options.scanCount)) tally.add(counters);
    const pendingBatches = (await this.store.pendingBatchIds()).length;
    const survey: UsageSurvey = {
      startedAt: new Date(startedAt),
      finishedAt: new Date(this.clock()),
      ...tally.result(),
      pendingBatches,
    };
    // A failed survey is not kept: the next request tries again.
    this.last = survey;
    this.options.onSurvey(survey);
    return survey;
  }
}
