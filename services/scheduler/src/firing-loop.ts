// The leader's loop: on taking the lead it claims the transactional id (fencing any earlier
// holder), reads what has fired, makes up for missed firings by each schedule's policy, then
// fires every schedule on time until it loses the lead. Work begun under an earlier lead
// stops at its next step (the generation).
//
// The claim comes before the read so that the state read is final: an old leader that is
// still running, or paused and resumed, can no longer commit a firing this one would then
// fire again. A failed firing takes the lead over again the same way (claim, then read)
// before it is tried again, since its producer is replaced and another replica may have
// fired in between.
import type { Logger } from '@tickflow/runtime';
import { ProducerFencedError } from './adapters/tick-publisher.ts';
import { missedFirings, nextFiring } from './domain/firings.ts';
import type { Schedule } from './domain/schedules.ts';

export interface FiringLoopOptions {
  schedules: Schedule[];
  /** Takes the transactional id: nothing an earlier holder has under way can commit after it. */
  claim(): Promise<void>;
  /** What has fired, as committed (read_committed) up to now. */
  readState(): Promise<Map<string, Date>>;
  publishFiring(schedule: Schedule, scheduledTime: Date): Promise<unknown>;
  log: Logger;
  onFired?(schedule: Schedule, scheduledTime: Date): void;
}

// setTimeout cannot wait longer than about 24.8 days; a monthly schedule waits in steps.
const LONGEST_TIMER_MS = 86_400_000;
const FIRST_RETRY_MS = 1_000;
const LONGEST_RETRY_MS = 8_000;
// Fenced: another replica claimed the id, most likely because the group gave it the lead.
// Longer than a heartbeat and a rebalance, so that the group tells this replica so before
// it claims the id back; if the group does not, this one still leads and claims it back.
const FENCED_RETRY_MS = 5_000;

const LEAD = Symbol('taking the lead');

interface Failure {
  since: Date;
  what: string;
  message: string;
}

export class FiringLoop {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private lastFired = new Map<string, Date>();
  /** Where each schedule's next firing is counted from: its last firing, or the lead's start. */
  private readonly firedUpTo = new Map<string, Date>();
  private generation = 0;
  private leading = false;
  /** The claim and state read that the current lead's firings wait for; renewed after a failure. */
  private takeover: Promise<void> = Promise.resolve();
  /** What keeps failing, by schedule (or LEAD), until it succeeds: readiness reports it. */
  private readonly failures = new Map<string | typeof LEAD, Failure>();

  constructor(private readonly options: FiringLoopOptions) {}

  async lead(): Promise<void> {
    const generation = this.stopTimers();
    this.leading = true;
    this.startTakeover(generation);
    if (!(await this.takenOver(generation))) return;
    const now = new Date();
    for (const schedule of this.options.schedules.filter((s) => s.enabled)) {
      const missed = missedFirings(schedule, this.lastFired.get(schedule.name), now);
      if (missed.length > 0)
        this.options.log.info('catching up', { schedule: schedule.name, policy: schedule.catchUp.policy, firings: missed.length });
      for (const at of missed) {
        if (generation !== this.generation) return;
        await this.fireUntilSent(schedule, at, generation);
      }
      // What the policy did not make up stays missed; firings from here on are all made.
      this.firedUpTo.set(schedule.name, latest(this.firedUpTo.get(schedule.name), now));
      this.arm(schedule, generation);
    }
  }

  follow(): void {
    this.stopTimers();
    this.leading = false;
    this.failures.clear();
  }

  isLeading(): boolean {
    return this.leading;
  }

  /** The last firing of each schedule this leader knows of. */
  lastFirings(): Map<string, Date> {
    return new Map(this.lastFired);
  }

  /** The oldest failure not yet overcome (taking the lead, or a firing), or undefined when all is well. */
  failing(): string | undefined {
    const oldest = [...this.failures.values()].sort((a, b) => a.since.getTime() - b.since.getTime())[0];
    return oldest && `${oldest.what} failing since ${oldest.since.toISOString()}: ${oldest.message}`;
  }

  private stopTimers(): number {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    return ++this.generation;
  }

  private startTakeover(generation: number): void {
    this.takeover = this.takeOver(generation);
    // Awaited by every firing of the lead; one that ended with an earlier lead is of no concern.
    this.takeover.catch(() => undefined);
  }

  private async takeOver(generation: number): Promise<void> {
    await this.options.claim();
    const state = await this.options.readState();
    if (generation !== this.generation) return;
    // Another replica may have fired since this one last read: what it committed counts.
    for (const [name, at] of state) {
      this.lastFired.set(name, latest(this.lastFired.get(name), at));
      this.firedUpTo.set(name, latest(this.firedUpTo.get(name), at));
    }
  }

  /** Waits for the lead's takeover, taking over again after each failure; false once the lead is lost. */
  private async takenOver(generation: number): Promise<boolean> {
    for (let attempt = 0; generation === this.generation; attempt++) {
      const takeover = this.takeover;
      try {
        await takeover;
        this.failures.delete(LEAD);
        return generation === this.generation;
      } catch (error) {
        this.failed(generation, LEAD, 'taking the lead', error, {});
        await sleep(retryDelay(attempt, error));
        this.takeOverAgain(takeover, generation);
      }
    }
    return false;
  }

  /** One new takeover for every firing that failed under the same one. */
  private takeOverAgain(failed: Promise<void>, generation: number): void {
    if (generation === this.generation && this.takeover === failed) this.startTakeover(generation);
  }

  /**
   * Counted from the last firing, not from now: a firing that took longer than the
   * schedule's period (a slow commit, a takeover after a failure) delays the next one but
   * never skips it.
   */
  private arm(schedule: Schedule, generation: number): void {
    const next = nextFiring(schedule, this.firedUpTo.get(schedule.name) ?? new Date());
    if (!next) return;
    const timer = setTimeout(
      () => void this.due(schedule, next, generation),
      Math.max(0, Math.min(next.getTime() - Date.now(), LONGEST_TIMER_MS)),
    );
    this.timers.set(schedule.name, timer);
  }

  private async due(schedule: Schedule, at: Date, generation: number): Promise<void> {
    if (generation !== this.generation) return;
    if (Date.now() < at.getTime()) {
      const timer = setTimeout(() => void this.due(schedule, at, generation), Math.min(at.getTime() - Date.now(), LONGEST_TIMER_MS));
      this.timers.set(schedule.name, timer);
      return;
    }
    await this.fireUntilSent(schedule, at, generation);
    if (generation === this.generation) this.arm(schedule, generation);
  }

  /** A firing is never skipped for a passing fault: it is tried again until sent or the lead is lost. */
  private async fireUntilSent(schedule: Schedule, at: Date, generation: number): Promise<void> {
    for (let attempt = 0; await this.takenOver(generation); attempt++) {
      const takeover = this.takeover;
      // Committed already: by another replica that led meanwhile, or by this one's last try,
      // whose commit went through although its answer was lost.
      if ((this.lastFired.get(schedule.name)?.getTime() ?? Number.NEGATIVE_INFINITY) >= at.getTime()) {
        this.failures.delete(schedule.name);
        return;
      }
      try {
        await this.options.publishFiring(schedule, at);
        this.lastFired.set(schedule.name, at);
        this.firedUpTo.set(schedule.name, at);
        this.failures.delete(schedule.name);
        this.options.onFired?.(schedule, at);
        return;
      } catch (error) {
        this.failed(generation, schedule.name, `firing ${schedule.name}`, error, {
          schedule: schedule.name,
          scheduledTime: at.toISOString(),
        });
        await sleep(retryDelay(attempt, error));
        this.takeOverAgain(takeover, generation);
      }
    }
  }

  private failed(generation: number, key: string | typeof LEAD, what: string, error: unknown, fields: Record<string, unknown>): void {
    this.options.log.error(`${what} failed; trying again`, { ...fields, error });
    // A lead already lost has nothing left to report.
    if (generation === this.generation && !this.failures.has(key))
      this.failures.set(key, { since: new Date(), what, message: error instanceof Error ? error.message : String(error) });
  }
}

function retryDelay(attempt: number, error: unknown): number {
  return error instanceof ProducerFencedError ? FENCED_RETRY_MS : Math.min(FIRST_RETRY_MS * 2 ** attempt, LONGEST_RETRY_MS);
}

function latest(a: Date | undefined, b: Date): Date {
  return a && a > b ? a : b;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
