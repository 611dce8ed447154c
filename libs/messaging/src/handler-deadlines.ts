// Route timeouts without a timer per message: one sweep, a few times a second, tells every
// handler past its deadline to stop, through its AbortSignal. A handler cannot be stopped
// from outside, so the router waits for it to end before its message moves on: a handler
// never runs beside its own retry.

export class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

/**
 * One handler's deadline. A class, one object per message, no closures; it is its own
 * link in the running list, so starting and finishing it costs no hashing.
 */
export class Deadline {
  private controller: AbortController | undefined;
  /** Why the handler was told to stop, if it was. */
  abortedBy: 'timeout' | 'stop' | undefined;
  /** Links in HandlerDeadlines' list of running deadlines. */
  previous: Deadline | undefined;
  next: Deadline | undefined;
  running = true;

  constructor(
    private readonly owner: HandlerDeadlines,
    readonly topic: string,
    /** performance.now() time. */
    readonly at: number,
    readonly timeoutMs: number,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  message(): string {
    return `handler did not finish within ${this.timeoutMs} ms`;
  }

  done(): void {
    this.owner.forget(this);
  }

  abort(by: 'timeout' | 'stop'): void {
    if (this.abortedBy) return;
    this.abortedBy = by;
    this.controller?.abort(by === 'timeout' ? new HandlerTimeoutError(this.message()) : new Error('the service is stopping'));
  }
}

const SWEEP_MS = 100;

export class HandlerDeadlines {
  private head: Deadline | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly onTimeout: (deadline: Deadline) => void = () => undefined) {}

  /** `now` is the handler's start, from performance.now(). */
  start(topic: string, timeoutMs: number, now: number): Deadline {
    const deadline = new Deadline(this, topic, now + timeoutMs, timeoutMs);
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

  /** Tells every running handler to stop: the service is shutting down. */
  abortAll(): void {
    for (let deadline = this.head; deadline; deadline = deadline.next) deadline.abort('stop');
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    for (let deadline = this.head; deadline; deadline = deadline.next) {
      // Told once; it stays in the list until its handler ends, so stop can reach it too.
      if (deadline.at <= now && !deadline.abortedBy) {
        deadline.abort('timeout');
        this.onTimeout(deadline);
      }
    }
  }
}
