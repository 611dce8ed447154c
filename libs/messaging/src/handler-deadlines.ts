// Route timeouts without a timer per message: one sweep, a few times a second, fails
// every handler past its deadline. A handler cannot be stopped from outside, so it is
// told through its AbortSignal and its message moves on to its retry tier.

export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

/**
 * One handler's deadline. A class, one object per message, no closures; it is its own
 * link in the running list, so starting and finishing it costs no hashing.
 */
export class Deadline {
  private controller: AbortController | undefined;
  private fail: ((error: Error) => void) | undefined;
  /** Links in HandlerDeadlines' list of running deadlines. */
  previous: Deadline | undefined;
  next: Deadline | undefined;
  running = true;

  constructor(
    private readonly owner: HandlerDeadlines,
    /** performance.now() time. */
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
  private head: Deadline | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  /** `now` is the handler's start, from performance.now(). */
  start(timeoutMs: number, now: number): Deadline {
    const deadline = new Deadline(this, now + timeoutMs, timeoutMs);
    deadline.next = this.head;
    if (this.head) this.head.previous = deadline;
    this.head = deadline;
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    return deadline;
  }

  forget(deadline: Deadline): void {
    if (!deadline.running) return;
    deadline.running = false;
    if (deadline.previous) deadline.previous.next = deadline.next;
    else this.head = deadline.next;
    if (deadline.next) deadline.next.previous = deadline.previous;
    deadline.previous = undefined;
    deadline.next = undefined;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    let deadline = this.head;
    while (deadline) {
      const next = deadline.next;
      if (deadline.at <= now) {
        this.forget(deadline);
        deadline.expire();
      }
      deadline = next;
    }
  }
}
