import { stack, uniqueName } from '@tickflow/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresPool,
  FatalError,
  migrate,
  RetryableError,
  type SideEffectAttempt,
  SideEffectLedger,
  sideEffectLedgerMigration,
  withTransaction,
} from '../src/index.ts';

const schema = uniqueName('runtime-ledger');
const table = `${pg.escapeIdentifier(schema)}.side_effects`;
let pool: pg.Pool;
let ledger: SideEffectLedger;

beforeAll(async () => {
  pool = createPostgresPool({ databaseUrl: stack.databaseUrl, applicationName: 'runtime-ledger-test', poolSize: 6 });
  expect(await migrate(pool, schema, [sideEffectLedgerMigration])).toEqual(['runtime: side_effects']);
  await pool.query(`CREATE TABLE ${pg.escapeIdentifier(schema)}.invoices (key text PRIMARY KEY, remote_id text NOT NULL)`);
  ledger = new SideEffectLedger({ pool, schema, holderName: 'test-replica' });
});

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await pool.end();
});

/** An effect that counts its real calls, the way a stand-in remote side would. */
function countedEffect<R>(outcome: (call: number, attempt: SideEffectAttempt) => Promise<R> | R) {
  const effect = Object.assign(
    async (attempt: SideEffectAttempt) => {
      effect.calls += 1;
      effect.attempts.push(attempt);
      return outcome(effect.calls, attempt);
    },
    { calls: 0, attempts: [] as SideEffectAttempt[] },
  );
  return effect;
}

/** A row as a crashed replica leaves it: intended, its lease run out, no outcome. */
async function leaveIntended(key: string, leaseUntil: string): Promise<void> {
  await pool.query(
    `INSERT INTO ${table} (key, state, attempts, holder, lease_until, attempted_at)
     VALUES ($1, 'intended', 1, 'crashed-replica/1', now() + $2::interval, now())`,
    [key, leaseUntil],
  );
}

class RemoteRefused extends Error {
  override name = 'RemoteRefused';
}

const refused = (error: unknown) => error instanceof RemoteRefused;

describe('SideEffectLedger.perform', () => {
  it('commits intended before the effect, done after, and never calls a done effect again', async () => {
    const key = uniqueName('contract-1:2025-01:queries');
    const seenDuringCall: unknown[] = [];
    const effect = countedEffect(async () => {
      // Read through another connection: what is seen here is committed.
      seenDuringCall.push(await ledger.get(key));
      return { recordId: 'rec-1', status: 'success' };
    });

    const first = await ledger.perform(key, effect, { onUnknown: 'stop' });
    const second = await ledger.perform(key, effect, { onUnknown: 'stop' });

    expect(effect.calls).toBe(1);
    expect(seenDuringCall[0]).toMatchObject({ state: 'intended', attempts: 1, holder: expect.stringMatching(/^test-replica\//) });
    expect(first).toEqual({ result: { recordId: 'rec-1', status: 'success' }, performedNow: true, reconciled: false, attempts: 1 });
    expect(second).toEqual({ result: { recordId: 'rec-1', status: 'success' }, performedNow: false, reconciled: false, attempts: 1 });
    expect(await ledger.get(key)).toMatchObject({ state: 'done', attempts: 1, holder: null, leaseUntil: null, doneAt: expect.any(Date) });
  });

  it('reconciles a row left intended by a crash between the call and the commit', async () => {
    const key = uniqueName('claim-7:notice-1');
    await leaveIntended(key, '-1 second');
    const effect = countedEffect(() => ({ sent: true }));
    const reconcile = countedEffect(() => ({ outcome: 'done' as const, result: { sent: true, duplicate: true } }));

    const performed = await ledger.perform(key, effect, { onUnknown: 'stop', reconcile });

    expect(reconcile.calls).toBe(1);
    expect(reconcile.attempts[0]).toMatchObject({ key, attempt: 1 });
    expect(effect.calls).toBe(0);
    expect(performed).toEqual({ result: { sent: true, duplicate: true }, performedNow: false, reconciled: true, attempts: 1 });
    expect(await ledger.get(key)).toMatchObject({ state: 'done', result: { sent: true, duplicate: true } });
  });

  it('attempts the effect again when reconcile says the earlier attempt did not happen', async () => {
    const key = uniqueName('client-3:weekly:2025-w02');
    await leaveIntended(key, '-1 second');
    const effect = countedEffect(() => 'mailed');
    const reconcile = countedEffect(() => ({ outcome: 'not-done' as const }));

    const performed = await ledger.perform(key, effect, { onUnknown: 'stop', reconcile });

    expect([reconcile.calls, effect.calls]).toEqual([1, 1]);
    expect(performed).toMatchObject({ result: 'mailed', performedNow: true, attempts: 2 });
    expect(effect.attempts[0]?.attempt).toBe(2);
  });

  it("redoes an effect of unknown outcome under onUnknown: 'redo'", async () => {
    const key = uniqueName('contract-2:2025-01:api_calls');
    const effect = countedEffect((call) => {
      if (call === 1) throw new Error('socket hang up');
      return { ok: true };
    });

    await expect(ledger.perform(key, effect, { onUnknown: 'redo' })).rejects.toThrow('socket hang up');
    expect(await ledger.get(key)).toMatchObject({
      state: 'unknown',
      attempts: 1,
      holder: null,
      errorClass: 'Error',
      errorMessage: 'socket hang up',
    });

    const performed = await ledger.perform(key, effect, { onUnknown: 'redo' });
    expect(effect.calls).toBe(2);
    expect(performed).toMatchObject({ result: { ok: true }, performedNow: true, attempts: 2 });
  });

  it("stops with a FatalError naming the key under onUnknown: 'stop', and keeps stopping", async () => {
    const key = uniqueName('contract-3:2025-01:storage_gb');
    const effect = countedEffect((): string => {
      throw new Error('timeout after 30s');
    });
    await expect(ledger.perform(key, effect, { onUnknown: 'stop' })).rejects.toThrow('timeout after 30s');

    const reconcile = countedEffect(() => ({ outcome: 'unknown' as const }));
    for (const options of [{ onUnknown: 'stop' as const }, { onUnknown: 'stop' as const, reconcile }]) {
      const stopped = ledger.perform(key, effect, options);
      await expect(stopped).rejects.toBeInstanceOf(FatalError);
      await expect(stopped).rejects.toThrow(key);
    }
    expect([effect.calls, reconcile.calls]).toEqual([1, 1]);
    // Released, so an operator's decision, not a lease, decides what comes next.
    expect(await ledger.get(key)).toMatchObject({ state: 'unknown', attempts: 1, holder: null, errorMessage: 'timeout after 30s' });

    expect(await ledger.markNotDone(pool, key, 'checked the Clazar console: no record')).toBe(true);
    const effectAfterCheck = countedEffect(() => 'sent');
    await expect(ledger.perform(key, effectAfterCheck, { onUnknown: 'stop' })).resolves.toMatchObject({ result: 'sent', attempts: 2 });
    expect(effectAfterCheck.calls).toBe(1);
  });

  it('records failed when the remote side refused, and retries it without reconciling', async () => {
    const key = uniqueName('contract-4:2025-01:documents');
    const effect = countedEffect((call) => {
      if (call === 1) throw new RemoteRefused('429 Too Many Requests');
      return { accepted: true };
    });
    const reconcile = countedEffect(() => ({ outcome: 'unknown' as const }));

    await expect(ledger.perform(key, effect, { onUnknown: 'stop', reconcile, definitelyNotDone: refused })).rejects.toBeInstanceOf(
      RemoteRefused,
    );
    expect(await ledger.get(key)).toMatchObject({ state: 'failed', errorClass: 'RemoteRefused', errorMessage: '429 Too Many Requests' });

    const performed = await ledger.perform(key, effect, { onUnknown: 'stop', reconcile, definitelyNotDone: refused });
    expect(performed).toMatchObject({ result: { accepted: true }, performedNow: true, attempts: 2 });
    expect([effect.calls, reconcile.calls]).toEqual([2, 0]);
  });

  it('turns away a redelivery that arrives beside a slow first attempt; the effect runs once', async () => {
    const key = uniqueName('claim-9:notice-2');
    let callStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      callStarted = resolve;
    });
    let finishCall: () => void = () => undefined;
    const mayFinish = new Promise<void>((resolve) => {
      finishCall = resolve;
    });
    const effect = countedEffect(async () => {
      callStarted();
      await mayFinish;
      return 'fetched';
    });
    const replicaA = new SideEffectLedger({ pool, schema, holderName: 'replica-a' });
    const replicaB = new SideEffectLedger({ pool, schema, holderName: 'replica-b' });

    const slowFirst = replicaA.perform(key, effect, { onUnknown: 'redo' });
    await started;
    const beside = replicaB.perform(key, effect, { onUnknown: 'redo' });
    await expect(beside).rejects.toBeInstanceOf(RetryableError);
    await expect(beside).rejects.toThrow(/in progress \(attempt 1 by replica-a\//);
    finishCall();
    await expect(slowFirst).resolves.toMatchObject({ result: 'fetched', performedNow: true });

    // Its retry finds the effect done.
    await expect(replicaB.perform(key, effect, { onUnknown: 'redo' })).resolves.toMatchObject({ result: 'fetched', performedNow: false });
    expect(effect.calls).toBe(1);
  });

  it('runs the effect once when many callers perform one key at the same moment', async () => {
    const key = uniqueName('client-8:monthly:2025-01');
    const effect = countedEffect(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'rendered';
    });
    const settled = await Promise.allSettled(Array.from({ length: 8 }, () => ledger.perform(key, effect, { onUnknown: 'redo' })));
    expect(effect.calls).toBe(1);
    const performedNow = settled.filter((s) => s.status === 'fulfilled' && s.value.performedNow);
    expect(performedNow).toHaveLength(1);
    for (const s of settled) {
      if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(RetryableError);
      else expect(s.value.result).toBe('rendered');
    }
  });

  it('turns a caller away while a live lease is held, and takes over a stale one', async () => {
    const live = uniqueName('claim-11:notice-1');
    await leaveIntended(live, '5 minutes');
    const effect = countedEffect(() => 'pod.pdf');
    await expect(ledger.perform(live, effect, { onUnknown: 'redo' })).rejects.toThrow(RetryableError);
    await expect(ledger.perform(live, effect, { onUnknown: 'redo' })).rejects.toThrow(/crashed-replica\/1/);
    expect(effect.calls).toBe(0);

    const stale = uniqueName('claim-12:notice-1');
    await leaveIntended(stale, '-1 second');
    const performed = await ledger.perform(stale, effect, { onUnknown: 'redo' });
    expect(effect.calls).toBe(1);
    expect(performed).toMatchObject({ result: 'pod.pdf', performedNow: true, attempts: 2 });
    expect(await ledger.get(stale)).toMatchObject({ state: 'done', attempts: 2, errorClass: 'LeaseExpired' });
  });

  it('does not overwrite the outcome of the caller that took over a lease', async () => {
    const key = uniqueName('contract-5:2025-01:queries');
    const effect = countedEffect(async () => {
      // While this attempt runs, its lease is taken over (it outlived the lease).
      await pool.query(`UPDATE ${table} SET holder = 'successor/1' WHERE key = $1`, [key]);
      return 'late';
    });
    await expect(ledger.perform(key, effect, { onUnknown: 'redo' })).rejects.toBeInstanceOf(RetryableError);
    expect(await ledger.get(key)).toMatchObject({ state: 'intended', holder: 'successor/1' });
  });

  it('aborts the effect before its lease runs out, leaving the outcome unknown', async () => {
    const key = uniqueName('claim-13:notice-1');
    const effect = countedEffect(
      (_call, attempt) =>
        new Promise<string>((_resolve, reject) => attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason))),
    );
    const started = Date.now();
    await expect(ledger.perform(key, effect, { onUnknown: 'redo', leaseMs: 1_000 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await ledger.get(key)).toMatchObject({ state: 'unknown', holder: null, errorClass: 'TimeoutError' });
  });

  it('commits the done mark and the domain write of onDone together, or neither', async () => {
    const key = uniqueName('contract-6:2025-01:queries');
    const invoices = `${pg.escapeIdentifier(schema)}.invoices`;
    const effect = countedEffect(() => ({ remoteId: 'r-1' }));
    const onDone = async (client: pg.ClientBase, result: { remoteId: string }) => {
      await client.query(`INSERT INTO ${invoices} (key, remote_id) VALUES ($1, $2)`, [key, result.remoteId]);
      await client.query(`INSERT INTO ${invoices} (key, remote_id) VALUES ($1, $2)`, [key, result.remoteId]);
    };
    await expect(ledger.perform(key, effect, { onUnknown: 'redo', onDone })).rejects.toThrow(/duplicate key/);
    expect((await pool.query(`SELECT 1 FROM ${invoices} WHERE key = $1`, [key])).rowCount).toBe(0);
    expect(await ledger.get(key)).toMatchObject({ state: 'unknown', holder: null });

    const writeOnce = async (client: pg.ClientBase, result: { remoteId: string }) => {
      await client.query(`INSERT INTO ${invoices} (key, remote_id) VALUES ($1, $2)`, [key, result.remoteId]);
    };
    const reconcile = async () => ({ outcome: 'done' as const, result: { remoteId: 'r-1' } });
    await expect(ledger.perform(key, effect, { onUnknown: 'stop', reconcile, onDone: writeOnce })).resolves.toMatchObject({
      reconciled: true,
    });
    expect((await pool.query(`SELECT remote_id FROM ${invoices} WHERE key = $1`, [key])).rows).toEqual([{ remote_id: 'r-1' }]);
    expect(effect.calls).toBe(1);
  });

  it('stores error messages redacted and cut to 1000 characters', async () => {
    const key = uniqueName('contract-7:2025-01:queries');
    const effect = countedEffect((): string => {
      throw new Error(`POST https://svc:hunter2secret@api.clazar.io/metering/ failed: ${'x'.repeat(2000)}`);
    });
    await expect(ledger.perform(key, effect, { onUnknown: 'redo' })).rejects.toThrow();
    const record = await ledger.get(key);
    expect(record?.errorMessage).toHaveLength(1000);
    expect(record?.errorMessage).not.toContain('hunter2secret');
  });

  it('stores results with secret fields redacted', async () => {
    const key = uniqueName('contract-8:2025-01:queries');
    await ledger.perform(key, async () => ({ id: 'rec-9', accessToken: 'abc.def.ghi' }), { onUnknown: 'redo' });
    expect((await ledger.get(key))?.result).toEqual({ id: 'rec-9', accessToken: '[redacted]' });
  });
});

describe('SideEffectLedger.markDone', () => {
  it('leaves no done mark when the transaction around it rolls back', async () => {
    const key = uniqueName('claim-20:notice-1');
    await expect(
      withTransaction(pool, async (client) => {
        await ledger.markDone(client, key, { mailed: true });
        throw new Error('domain write failed');
      }),
    ).rejects.toThrow('domain write failed');
    expect(await ledger.get(key)).toBeNull();

    const effect = countedEffect(() => ({ mailed: true }));
    await ledger.perform(key, effect, { onUnknown: 'stop' });
    expect(effect.calls).toBe(1);
  });

  it('makes perform skip the effect once its transaction commits', async () => {
    const key = uniqueName('claim-21:notice-1');
    await withTransaction(pool, (client) => ledger.markDone(client, key, { mailed: true }));
    const effect = countedEffect(() => ({ mailed: false }));
    await expect(ledger.perform(key, effect, { onUnknown: 'stop' })).resolves.toEqual({
      result: { mailed: true },
      performedNow: false,
      reconciled: false,
      attempts: 0,
    });
    expect(effect.calls).toBe(0);
  });
});

describe('SideEffectLedger.list', () => {
  it('lists rows by state and key prefix, most recently changed first', async () => {
    const prefix = uniqueName('listing');
    await ledger.markDone(pool, `${prefix}:a`, 1);
    await leaveIntended(`${prefix}:b`, '5 minutes');
    await ledger
      .perform(
        `${prefix}:c`,
        countedEffect((): number => {
          throw new RemoteRefused('400 invalid contract');
        }),
        { onUnknown: 'stop', definitelyNotDone: refused },
      )
      .catch(() => undefined);

    const all = await ledger.list({ keyPrefix: prefix });
    expect(all.map((r) => r.key)).toEqual([`${prefix}:c`, `${prefix}:b`, `${prefix}:a`]);
    const open = await ledger.list({ keyPrefix: prefix, states: ['intended', 'failed', 'unknown'] });
    expect(open.map((r) => [r.key, r.state])).toEqual([
      [`${prefix}:c`, 'failed'],
      [`${prefix}:b`, 'intended'],
    ]);
    expect(open[0]).toMatchObject({ attempts: 1, errorClass: 'RemoteRefused', errorMessage: '400 invalid contract' });
  });
});
