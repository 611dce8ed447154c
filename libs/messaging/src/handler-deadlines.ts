// Route timeouts without a timer per message: one sweep, a few times a second, fails
// every handler past its deadline. A handler cannot be stopped from outside, so it is
// told through its AbortSignal and its message moves on to its retry tier.

export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

interface Running {
  deadline: number;
  timeoutMs: number;
  controller?: AbortController;
  fail?: (error: Error) => void;
}

export interface Deadline {
  readonly signal: AbortSignal;
  /** Resolves as `work` does, or rejects with HandlerTimeoutError once the deadline passes. */
  race(work: Promise<void>): Promise<void>;
  done(): void;
}

const SWEEP_MS = 100;

export class HandlerDeadlines {
  private readonly running = new Set<Running>();
  private sweeper: NodeJS.Timeout | undefined;

  start(timeoutMs: number): Deadline {
    const entry: Running = { deadline: Date.now() + timeoutMs, timeoutMs };
    this.running.add(entry);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    return {
      get signal() {
        entry.controller ??= new AbortController();
        return entry.controller.signal;
      },
      race: (work) =>
        new Promise<void>((resolve, reject) => {
          entry.fail = reject;
          work.then(resolve, reject);
        }),
      done: () => {
        this.running.delete(entry);
      },
    };
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const entry of this.running) {
      if (entry.deadline > now) continue;
      this.running.delete(entry);
      entry.controller?.abort();
      entry.fail?.(new HandlerTimeoutError(`handler did not finish within ${entry.timeoutMs} ms`));
    }
  }
}
