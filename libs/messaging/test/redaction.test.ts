// A secret inside an error never reaches a dead letter or a failure event.
import { jobFailed } from '@tickflow/contracts';
import { registerSecret } from '@tickflow/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { RETRY } from '../src/envelope.ts';
import { FatalError } from '../src/errors.ts';
import { TestBed } from './test-bed.ts';

let bed: TestBed | undefined;
afterEach(async () => {
  await bed?.stop();
  bed = undefined;
});

describe('a handler error carrying secrets', () => {
  it('is redacted in the dead letter and in the job.failed event', async () => {
    const configured = 'carrier-api-key-5c1e9b7a';
    registerSecret(configured);
    const secrets = ['hunter2-db-password', 'sk_live_feedfacecafebeef', configured];
    bed = new TestBed(
      async () => {
        throw new FatalError(
          `GET https://carrier.example/track?apikey=${configured} refused; Authorization: Bearer ${secrets[1]}; db postgres://svc:${secrets[0]}@db/x`,
        );
      },
      {},
      1,
    );
    await bed.start();
    await bed.send('job-leaky', { key: 'claim-1' });
    const [dead] = await bed.read(`${bed.topic}.dlq`, 1);
    const [event] = await bed.read(bed.router.eventsTopic, 1);
    const failed = (await bed.codec.decodeAs(jobFailed, event?.value ?? null)).payload;
    const written = [dead?.headers[RETRY.errorMessage], dead?.headers[RETRY.errorStack], failed.errorMessage].join('\n');
    for (const secret of secrets) expect(written).not.toContain(secret);
    expect(dead?.headers[RETRY.errorMessage]).toContain('postgres://svc:[redacted]@db/x');
    expect(failed.errorMessage).toContain('Bearer [redacted]');
  });
});
