// Route timeouts without a timer per message: one sweep, a few times a second, fails
// every handler past its deadline. A handler cannot be stopped from outside, so it is
// told through its AbortSignal and its message moves on to its retry tier.

export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

/** One handler's deadline. A class: one object per message, no closures. */
export class Deadline {
  private controller: AbortController | undefined;
  private fail: ((error: Error) => void) | undefined;

  constructor(
    private readonly owner: HandlerDeadlines,
    readonly at: number,
    readonly timeoutMs: number,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Resolves as `work` does, or rejects with HandlerTimeoutError once the deadline passes. */
  race(work: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.fail = reject;
      work.then(resolve, reject);
    });
  }

  done(): void {
    this.owner.forget(this);
  }

  expire(): void {
    this.controller?.abort();
    this.fail?.(new HandlerTimeoutError(`handler did not finish within ${this.timeoutMs} ms`));
  }
}

const SWEEP_MS = 100;

export class HandlerDeadlines {
  private readonly running = new Set<Deadline>();
  private sweeper: NodeJS.Timeout | undefined;

  start(timeoutMs: number): Deadline {
    const deadline = new Deadline(this, Date.now() + timeoutMs, timeoutMs);
    this.running.add(deadline);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    return deadline;
  }

  forget(deadline: Deadline): void {
    this.running.delete(deadline);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const deadline of this.running) {
      if (deadline.at > now) continue;
      this.running.delete(deadline);
      deadline.expire();
    }
  }
}
