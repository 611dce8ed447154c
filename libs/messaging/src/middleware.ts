// Middleware every route can share. Each wraps the handler; the router applies them in
// the order given to `use`, the first outermost.
import type { Handler, Middleware } from './router.ts';

/** Logs each message handled, with how long it took; failures are logged by the router. */
export function logging(): Middleware {
  return (next) => async (message) => {
    const started = performance.now();
    await next(message);
    message.log.debug('handled', { type: message.event.type, ms: Math.round(performance.now() - started) });
  };
}

/**
 * Drops an event this process has already handled successfully (same CloudEvents id),
 * such as a tick produced twice. It remembers the last `capacity` ids; across replicas
 * and restarts, handlers stay idempotent on their own durable keys.
 */
export function dedupe({ capacity = 10_000 }: { capacity?: number } = {}): Middleware {
  const seen = new Set<string>();
  return (next) => async (message) => {
    const id = `${message.topic}\u0000${message.event.id}`;
    if (seen.has(id)) {
      message.log.info('duplicate event dropped', { eventId: message.event.id });
      return;
    }
    await next(message);
    seen.add(id);
    if (seen.size > capacity) seen.delete(seen.values().next().value as string);
  };
}

export type { Handler, Middleware };
