import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { jobFailed } from '@tickflow/contracts';
import { eventually } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudEventHeaders, newCloudEvent, RETRY } from '../src/envelope.ts';
import { DeferError, FatalError, RetryableError } from '../src/errors.ts';
import { type Delivery, recording, TestBed } from './test-bed.ts';

// Real span ids, so the trace context the router writes can be checked.
trace.setGlobalTracerProvider(new BasicTracerProvider());

let bed: TestBed | undefined;
afterEach(async () => {
  await bed?.stop();
  bed = undefined;
});

describe('Router', () => {
  it('passes a message that fails twice through two delay tiers, each delay honoured, then succeeds', async () => {
    const deliveries: Delivery[] = [];
    bed = new TestBed(
      recording(deliveries, (_m, n) => {
        if (n <= 2) throw new RetryableError(`failure ${n}`);
      }),
      { retry: ['1s', '2s'] },
    );
    await bed.start();
    await bed.send('job-1', { key: 'k1' });
    await eventually('three deliveries', async () => (deliveries.length >= 3 ? true : undefined), 30_000);
    expect(deliveries.map((d) => d.attempt)).toEqual([0, 1, 2]);
    const [first, second, third] = deliveries as [Delivery, Delivery, Delivery];
    expect(second.at - first.at).toBeGreaterThanOrEqual(1000);
    expect(third.at - second.at).toBeGreaterThanOrEqual(2000);
    const retried = await bed.read(`${bed.topic}.retry.2s`, 1);
    expect(retried[0]?.headers[RETRY.attempt]).toBe('2');
    expect(retried[0]?.headers[RETRY.originalTopic]).toBe(bed.topic);
    expect(retried[0]?.headers.ce_type).toBe('tickflow.test.job');
    expect(retried[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('sends a fatal failure straight to the DLQ with every header, key and value untouched', async () => {
    bed = new TestBed(
      async () => {
        throw new FatalError('tracking number is invalid');
      },
      { retry: ['1s'] },
    );
    await bed.start();
    const sent = await bed.send('job-fatal', { key: 'claim-7' });
    const [original] = await bed.read(bed.topic, 1);
    const [dead] = await bed.read(`${bed.topic}.dlq`, 1);
    expect(dead?.key?.toString()).toBe('claim-7');
    expect(dead?.value?.equals(original?.value as Buffer)).toBe(true);
    const h = dead?.headers ?? {};
    for (const name of ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time']) expect(h[name], name).toBe(sent[name]);
    expect(h['content-type']).toBe(sent['content-type']);
    expect(h[RETRY.dlqReason]).toBe('fatal');
    expect(h[RETRY.attempt]).toBe('1');
    expect(h[RETRY.originalTopic]).toBe(bed.topic);
    expect(h[RETRY.originalPartition]).toBe(String(original?.partition));
    expect(h[RETRY.originalOffset]).toBe(original?.offset);
    expect(Number.isNaN(Date.parse(h[RETRY.firstFailedAt] ?? ''))).toBe(false);
    expect(Number(h[RETRY.notBefore])).toBeGreaterThan(0);
    expect(h[RETRY.errorClass]).toBe('FatalError');
    expect(h[RETRY.errorMessage]).toBe('tracking number is invalid');
    expect(h[RETRY.errorStack]).toContain('FatalError: tracking number is invalid');
    expect(h.traceparent).toBeDefined();
  });

  it('dead-letters undecodable messages without calling the handler', async () => {
    const handled: string[] = [];
    bed = new TestBed(async (m) => {
      handled.push(m.payload.id);
    });
    await bed.start();
    const headers = await bed.send('good', { key: 'good' });
    await bed.sendRaw(Buffer.from('not avro at all'), headers, { key: 'bad-wire' });
    await bed.sendRaw(Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]), headers, { key: 'unknown-schema' });
    await bed.sendRaw(await bed.codec.encode(jobFailed, failedEvent()), headers, { key: 'wrong-type' });
    const { ce_id: _id, ...noId } = headers;
    await bed.sendRaw(await bed.codec.encode((await import('./test-bed.ts')).testJob, { id: 'x' }), noId, { key: 'no-ce-id' });
    const dead = await bed.read(`${bed.topic}.dlq`, 4);
    expect(dead.map((d) => d.key?.toString()).sort()).toEqual(['bad-wire', 'no-ce-id', 'unknown-schema', 'wrong-type']);
    for (const d of dead) expect(d.headers[RETRY.dlqReason]).toBe('undecodable');
    expect(dead.find((d) => d.key?.toString() === 'no-ce-id')?.headers[RETRY.errorMessage]).toContain('ce_id');
    await eventually('the good message', async () => (handled.includes('good') ? true : undefined));
    expect(handled).toEqual(['good']);
  });

  it('dead-letters an exhausted message and emits a failure event', async () => {
    const deliveries: Delivery[] = [];
    bed = new TestBed(
      recording(deliveries, () => {
        throw new Error('carrier API timeout');
      }),
      { retry: ['1s'] },
    );
    await bed.start();
    const sent = await bed.send('job-x', { key: 'contract-9' });
    const [dead] = await bed.read(`${bed.topic}.dlq`, 1);
    expect(dead?.headers[RETRY.dlqReason]).toBe('exhausted');
    expect(dead?.headers[RETRY.attempt]).toBe('2');
    expect(deliveries.map((d) => d.attempt)).toEqual([0, 1]);
    const [event] = await bed.read(bed.router.eventsTopic, 1);
    expect(event?.headers.ce_type).toBe('tickflow.job.failed');
    const decoded = await bed.codec.decodeAs(jobFailed, event?.value ?? null);
    expect(decoded.payload).toMatchObject({
      topic: bed.topic,
      key: 'contract-9',
      eventId: sent.ce_id,
      eventType: 'tickflow.test.job',
      attempts: 2,
      reason: 'exhausted',
      errorClass: 'Error',
      errorMessage: 'carrier API timeout',
    });
  });

  it('re-delays a deferred message without spending an attempt', async () => {
    const deliveries: Delivery[] = [];
    let until = 0;
    bed = new TestBed(
      recording(deliveries, (_m, n) => {
        if (n === 1) {
          until = Date.now() + 1500;
          throw new DeferError(new Date(until));
        }
      }),
      { retry: ['1s', '2s', '4s'] },
    );
    await bed.start();
    await bed.send('job-quota', { key: 'chronopost' });
    await eventually('the second delivery', async () => (deliveries.length >= 2 ? true : undefined), 20_000);
    expect(deliveries.map((d) => d.attempt)).toEqual([0, 0]);
    expect(deliveries[1]?.at).toBeGreaterThanOrEqual(until);
    // A defer waits on the delay ladder, not in a retry tier.
    const [waiting] = await bed.read(`${bed.topic}.delay.1s`, 1);
    expect(waiting?.headers[RETRY.attempt]).toBe('0');
  });

  it("aborts a handler past its route's timeout and retries its message once it has stopped", async () => {
    const deliveries: Delivery[] = [];
    let abortedAfterMs: number | undefined;
    bed = new TestBed(
      recording(deliveries, (m, n) => {
        if (m.payload.id !== 'job-stuck' || n > 1) return;
        const started = Date.now();
        // Never settles by itself: only the deadline's abort ends it.
        return new Promise<void>((_resolve, reject) => {
          m.signal.addEventListener('abort', () => {
            abortedAfterMs = Date.now() - started;
            reject(m.signal.reason);
          });
        });
      }),
      { retry: ['1s'], timeoutMs: 500 },
      1,
    );
    await bed.start();
    await bed.send('job-stuck', { key: 'k' });
    await bed.send('job-next', { key: 'k' });
    await eventually('the stuck job retried', async () => (deliveries.length >= 3 ? true : undefined), 20_000);
    expect(deliveries.map((d) => [d.id, d.attempt])).toEqual([
      ['job-stuck', 0],
      ['job-next', 0],
      ['job-stuck', 1],
    ]);
    expect(abortedAfterMs).toBeGreaterThanOrEqual(500);
    const [retried] = await bed.read(`${bed.topic}.retry.1s`, 1);
    expect(retried?.headers[RETRY.attempt]).toBe('1');
  });

  it('lets a due message in one partition pass while another partition waits', async () => {
    const deliveries: Delivery[] = [];
    bed = new TestBed(
      recording(deliveries, () => undefined),
      { retry: ['10s'] },
      2,
    );
    await bed.start();
    const retryTopic = `${bed.topic}.retry.10s`;
    const now = Date.now();
    const waitHeaders = (notBefore: number) => ({ [RETRY.attempt]: '1', [RETRY.notBefore]: String(notBefore) });
    await bed.send('late', { topic: retryTopic, partition: 0, headers: waitHeaders(now + 8000) });
    await bed.send('soon', { topic: retryTopic, partition: 1, headers: waitHeaders(now + 1000) });
    await eventually('both deliveries', async () => (deliveries.length >= 2 ? true : undefined), 30_000);
    expect(deliveries.map((d) => d.id)).toEqual(['soon', 'late']);
    const [soon, late] = deliveries as [Delivery, Delivery];
    expect(soon.at).toBeGreaterThanOrEqual(now + 1000);
    expect(soon.at).toBeLessThan(now + 8000);
    expect(late.at).toBeGreaterThanOrEqual(now + 8000);
  });

  it('routes each event type on a topic to its own handler, and dead-letters a type it has no route for', async () => {
    const seen: string[] = [];
    bed = new TestBed(async (m) => {
      seen.push(`job:${m.payload.id}`);
    });
    bed.router.route(bed.topic, jobFailed, async (m) => {
      seen.push(`failed:${m.payload.eventId}`);
    });
    expect(() => bed?.router.route(bed.topic, jobFailed, async () => undefined)).toThrow('already routes tickflow.job.failed');
    await bed.start();
    await bed.send('j1');
    const failedHeaders = { ...cloudEventHeaders(newCloudEvent('tickflow/test', jobFailed.type)) };
    await bed.sendRaw(await bed.codec.encode(jobFailed, { ...failedEvent(), eventId: 'e1' }), failedHeaders);
    const unrouted = { ...failedHeaders, ce_type: 'tickflow.unknown.thing' };
    await bed.sendRaw(Buffer.from([0]), unrouted, { key: 'unrouted' });
    await eventually('both handlers', async () => (seen.length >= 2 ? true : undefined));
    expect(seen.sort()).toEqual(['failed:e1', 'job:j1']);
    const [dead] = await bed.read(`${bed.topic}.dlq`, 1);
    expect(dead?.key?.toString()).toBe('unrouted');
    expect(dead?.headers[RETRY.errorMessage]).toContain('no route for event type tickflow.unknown.thing');
  });

  it('provisions every topic from the route declaration, idempotently', async () => {
    bed = new TestBed(async () => undefined, { retry: ['2s', '4s'] });
    await bed.start();
    await bed.transport.ensureTopics(bed.router.topicSpecs());
    expect(bed.router.topicSpecs().map((s) => s.name)).toEqual([
      `${bed.service}.events`,
      bed.topic,
      `${bed.topic}.retry.2s`,
      `${bed.topic}.retry.4s`,
      ...['1s', '10s', '1m', '10m', '1h'].map((step) => `${bed?.topic}.delay.${step}`),
      `${bed.topic}.dlq`,
    ]);
  });
});

function failedEvent() {
  return {
    topic: 't',
    key: null,
    eventId: 'e',
    eventType: 'x',
    attempts: 1,
    reason: 'fatal' as const,
    errorClass: 'E',
    errorMessage: 'm',
    firstFailedAt: new Date().toISOString(),
    failedAt: new Date().toISOString(),
    dlqReason: null,
  };
}
