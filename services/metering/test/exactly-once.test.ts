// Exactly once at Clazar, under what a deployment does to metering: SIGKILLs at random points
// of a run (mid-read, mid-fan-out, mid-call to Clazar), two replicas on the same tick, the same
// tick replayed after each crash. Clazar (the stand-in) answers slowly, so kills land while
// calls are in flight. At the end, what Clazar accepted is compared with the expected bill
// line by line: nothing missing, nothing twice, every quantity exact.
import { randomInt } from 'node:crypto';
import { eventually } from '@tickflow/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { MeteringBed, type UsageRecord } from './metering-bed.ts';

const PLAN = 'svc:prod:plan-1';
const MONTH = '2026-06';
const PREFIX = 'omnistrate-metering/svc/prod/plan-1/2026/06/';
const CONTRACTS = 24;
const ROUNDS = 6;
const DIMENSIONS = ['cpu_core_hours', 'memory_byte_hours', 'storage_allocated_byte_hours', 'replica_hours'];

const bed = new MeteringBed({
  ...Object.fromEntries(DIMENSIONS.map((d) => [`DIMENSION_${d}`, d])),
  METERING_PLANS: PLAN,
  METERING_START_MONTH: MONTH,
  METERING_MAX_RETRIES: '20',
});

afterAll(async () => {
  await bed.stop();
});

describe('metering, exactly once', () => {
  it('bills every contract-dimension once through random kills, two replicas and replayed ticks', { timeout: 300_000 }, async () => {
    await bed.startClazar({ replyDelayMs: 150 });
    // Contract k has k+1 quarter-units per record of each dimension, in 6 hourly files.
    const expected: string[] = [];
    for (let file = 0; file < 6; file += 1) {
      const records: UsageRecord[] = [];
      for (let k = 0; k < CONTRACTS; k += 1) {
        for (const dimension of DIMENSIONS) {
          records.push({
            externalPayerId: `k${k}`,
            dimension,
            value: String((k + 1) * 0.25),
            pricePerUnit: '0.01',
            timestamp: `${MONTH}-02T0${file}:00:00Z`,
          });
        }
      }
      await bed.putFile(`${PREFIX}02/0${file}/usage.json`, records);
    }
    for (let k = 0; k < CONTRACTS; k += 1) for (const d of DIMENSIONS) expected.push(`k${k}/${d}=${Math.trunc(6 * (k + 1) * 0.25)}`);
    await bed.putMarker({ [PLAN]: '2026-07-01T00:00:00Z' });

    const tick = '2026-07-01T00:10:00.000Z';
    let kills = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      // Two replicas in the first rounds, racing for the same partitions.
      const replicas = await Promise.all(Array.from({ length: round < 2 ? 2 : 1 }, () => bed.start()));
      await bed.tick(tick);
      await new Promise((resolve) => setTimeout(resolve, randomInt(200, 2500)));
      for (const r of replicas) r.child.kill('SIGKILL');
      await Promise.all(replicas.map((r) => r.exited));
      kills += replicas.length;
    }
    const last = await bed.start();
    await bed.tick(tick);
    const status = await eventually(
      'every contract to be sent',
      async () => {
        const s = await bed.status(last.url, PLAN, MONTH);
        return s.counts.sent === CONTRACTS && s.status === 'completed' ? s : undefined;
      },
      120_000,
    );
    expect(status.counts).toMatchObject({ contracts: CONTRACTS, sent: CONTRACTS, error: 0, pending: 0 });

    const accepted = bed.clazar.accepted().map((a) => `${a.contract_id}/${a.dimension}=${a.quantity}`);
    expect(accepted.sort()).toEqual(expected.sort());
    // Re-sends happen only for calls a kill left without a known outcome: never more than the kills.
    const requests = bed.clazar.http.requests('POST /metering/').length;
    expect(requests).toBeGreaterThanOrEqual(CONTRACTS);
    expect(requests - CONTRACTS).toBeLessThanOrEqual(kills * 8);
  });
});
