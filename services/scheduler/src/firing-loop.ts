// The leader's loop: on taking the lead it reads what has fired, makes up for missed
// firings by each schedule's policy, then fires every schedule on time until it loses
// the lead. Work begun under an earlier lead stops at its next step (the generation).
import type { Logger } from '@tickflow/runtime';
import { missedFirings, nextFiring } from './domain/firings.ts';
import type { Schedule } from './domain/schedules.ts';

export interface FiringLoopOptions {
  schedules: Schedule[];
  readState(): Promise<Map<string, Date>>;
  /** Resolves once firings already under way are committed or given up. */
  settled(): Promise<void>;
  publishFiring(schedule: Schedule, scheduledTime: Date): Promise<unknown>;
  log: Logger;
  onFired?(schedule: Schedule, scheduledTime: Date): void;
}

// setTimeout cannot wait longer than about 24.8 days; a monthly schedule waits in steps.
const LONGEST_TIMER_MS = 86_400_000;
const RETRY_FIRING_MS = 1_000;

export class FiringLoop {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private lastFired = new Map<string, Date>();
  /** Where each schedule's next firing is counted from: its last firing, or the lead's start. */
  private readonly firedUpTo = new Map<string, Date>();
  private generation = 0;
  private leading = false;

  constructor(private readonly options: FiringLoopOptions) {}

  async lead(): Promise<void> {
    const generation = this.stopTimers();
    this.leading = true;
    // A firing begun under an earlier lead may still commit; read the state after it.
    await this.options.settled();
    const state = await this.options.readState();
    if (generation !== this.generation) return;
    this.lastFired = state;
    const now = new Date();
    for (const schedule of this.options.schedules.filter((s) => s.enabled)) {
      const missed = missedFirings(schedule, state.get(schedule.name), now);
      if (missed.length > 0)
        this.options.log.info('catching up', { schedule: schedule.name, policy: schedule.catchUp.policy, firings: missed.length });
      for (const at of missed) {
        if (generation !== this.generation) return;
        await this.fireUntilSent(schedule, at, generation);
      }
      // What the policy did not make up stays missed; firings from here on are all made.
      this.firedUpTo.set(schedule.name, now);
      this.arm(schedule, generation);
    }
  }

  follow(): void {
    this.stopTimers();
    this.leading = false;
  }

  isLeading(): boolean {
    return this.leading;
  }

  /** The last firing of each schedule this leader knows of. */
  lastFirings(): Map<string, Date> {
    return new Map(this.lastFired);
  }

  private stopTimers(): number {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    return ++this.generation;
  }

  /**
   * Counted from the last firing, not from now: a firing that took longer than the
   * schedule's period (a slow commit, a fenced producer's first transaction) delays the
   * next one but never skips it.
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
    while (generation === this.generation) {
      try {
        await this.options.publishFiring(schedule, at);
        this.lastFired.set(schedule.name, at);
        this.firedUpTo.set(schedule.name, at);
        this.options.onFired?.(schedule, at);
        return;
      } catch (error) {
        this.options.log.error('firing failed; trying again', { schedule: schedule.name, scheduledTime: at.toISOString(), error });
        await new Promise((resolve) => setTimeout(resolve, RETRY_FIRING_MS));
      }
    }
  }
}
