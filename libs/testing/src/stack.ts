// How tests reach the real stack. The same variables that point tickflow at existing
// infrastructure point the tests there too; two more name the test-only APIs.
import { randomUUID } from 'node:crypto';
import { loadConfig, loadInfrastructure, stringVar, urlVar } from '@tickflow/runtime';
import { z } from 'zod';

const testApis = loadConfig(
  z.object({
    JAEGER_QUERY_URL: urlVar(['http', 'https'], 'http://127.0.0.1:16686'),
    SMTP_SINK_API_URL: urlVar(['http', 'https'], 'http://127.0.0.1:8025'),
    TEST_RUN_ID: stringVar(randomUUID().slice(0, 8)),
  }),
);

export const stack = {
  ...loadInfrastructure(),
  jaegerQueryUrl: testApis.JAEGER_QUERY_URL,
  smtpSinkApiUrl: testApis.SMTP_SINK_API_URL,
};

/** A name no other test run uses, so tests never see each other's topics, keys or rows. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${testApis.TEST_RUN_ID}-${randomUUID().slice(0, 8)}`;
}

/** Polls `check` until it returns a value, or fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
