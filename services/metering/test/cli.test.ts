// `tickflow metering status` and `tickflow metering retry` against metering as a process: what
// the CLI shows is the service's state, a retry re-sends only what is in error, and a bad
// command line is refused naming what is wrong.
import { eventually, tickflow, tickflowJson } from '@tickflow/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeteringBed, type MonthStatus, type UsageRecord } from './metering-bed.ts';

const PLAN = 'svc:prod:plan-1';
const OTHER = 'svc:staging:plan-2';
const MONTH = '2026-07';
const TOKEN = 'metering-cli-test-token-0123456789';
const rec = (externalPayerId: string, value: number): UsageRecord => ({
  externalPayerId,
  dimension: 'cpu_core_hours',
  value,
  pricePerUnit: '0.01',
  timestamp: `${MONTH}-03T00:00:00Z`,
});

const bed = new MeteringBed({
  DIMENSION_cpu_core_hours: 'cpu_core_hours',
  METERING_PLANS: `${PLAN},${OTHER}`,
  METERING_START_MONTH: MONTH,
  METERING_MAX_RETRIES: '0',
  METERING_API_TOKEN: TOKEN,
});
let cliEnv: Record<string, string>;

beforeAll(async () => {
  await bed.startClazar();
  await bed.putFile('omnistrate-metering/svc/prod/plan-1/2026/07/usage.json', [rec('ok-1', 12), rec('bad-1', 7), rec('bad-2', 3)]);
  await bed.putMarker({ [PLAN]: '2026-08-01T00:00:00Z' });
  bed.clazar.refuse((r) => String(r.contract_id).startsWith('bad-'), { code: 'INVALID_CONTRACT', message: 'Contract is not active' });
  const service = await bed.start();
  cliEnv = { METERING_URL: service.url, METERING_API_TOKEN: TOKEN };
  const events = await bed.tap.read(`${bed.instance}.events`);
  await bed.tick('2026-08-01T00:10:00.000Z');
  await eventually('the month to complete', async () => events.find((e) => e.type === 'tickflow.metering.month.completed'), 30_000);
});

afterAll(async () => {
  await bed.stop();
});

describe('tickflow metering', () => {
  it("shows a plan-month's contracts, their bills and why they failed", async () => {
    const run = await tickflow(['metering', 'status', '--plan', PLAN, MONTH], cliEnv);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/month +2026-07: completed at /);
    expect(run.stdout).toContain('3: 1 sent, 2 in error, 0 skipped, 0 pending');
    expect(run.stdout).toMatch(/bad-1 +error +1 +0 +cpu_core_hours=7 +INVALID_CONTRACT: Contract is not active/);
    expect(run.stdout).toMatch(/ok-1 +sent +1 +0 +cpu_core_hours=12/);

    const json = await tickflowJson<MonthStatus>(['metering', 'status', '--plan', PLAN, MONTH], cliEnv);
    expect(json.contracts.map((c) => `${c.contractId}:${c.status}`).sort()).toEqual(['bad-1:error', 'bad-2:error', 'ok-1:sent']);
  });

  it('lists every plan when no plan is given', async () => {
    const plans = await tickflowJson<{ plan: string; status: string; lastProcessedMonth: string | null }[]>(
      ['metering', 'status', MONTH],
      cliEnv,
    );
    expect(plans.map((p) => [p.plan, p.status, p.lastProcessedMonth])).toEqual([
      [PLAN, 'completed', MONTH],
      [OTHER, 'not processed', null],
    ]);
    const run = await tickflow(['metering', 'status', MONTH], cliEnv);
    expect(run.stdout).toMatch(/svc:staging:plan-2 +2026-07 +not processed/);
  });

  it('re-sends one contract, then the rest in error, and nothing that was sent', async () => {
    bed.clazar.clearRefusals();
    const one = await tickflowJson<{ resent: string[] }>(['metering', 'retry', PLAN, MONTH, '--contract', 'bad-1'], cliEnv);
    expect(one.resent).toEqual(['bad-1']);
    await eventually('bad-1 to be sent', async () => {
      const s = await bed.status(cliEnv.METERING_URL as string, PLAN, MONTH, TOKEN);
      return s.contracts.find((c) => c.contractId === 'bad-1' && c.status === 'sent');
    });
    const refusedSent = await tickflow(['metering', 'retry', PLAN, MONTH, '--contract', 'ok-1'], cliEnv);
    expect(refusedSent.code).toBe(1);
    expect(refusedSent.stderr).toContain('contract ok-1 of svc:prod:plan-1 2026-07 is sent, not in error');

    const rest = await tickflow(['metering', 'retry', PLAN, MONTH], cliEnv);
    expect(rest.stdout).toContain('re-sending 1 contract of svc:prod:plan-1 2026-07: bad-2');
    await eventually('bad-2 to be sent', async () => {
      const s = await bed.status(cliEnv.METERING_URL as string, PLAN, MONTH, TOKEN);
      return s.contracts.every((c) => c.status === 'sent') || undefined;
    });
    expect(
      bed.clazar
        .accepted()
        .map((a) => `${a.contract_id}=${a.quantity}`)
        .sort(),
    ).toEqual(['bad-1=7', 'bad-2=3', 'ok-1=12']);
    const none = await tickflow(['metering', 'retry', PLAN, MONTH], cliEnv);
    expect(none.stdout).toContain('no contract of svc:prod:plan-1 2026-07 is in error');
  });

  it('refuses a bad month, an unknown plan and a wrong token, saying which', async () => {
    const badMonth = await tickflow(['metering', 'status', '2026-13'], cliEnv);
    expect([badMonth.code, badMonth.stderr]).toEqual([2, expect.stringContaining("month '2026-13' is not YYYY-MM")]);
    const unknown = await tickflow(['metering', 'retry', 'svc:prod:nope', MONTH], cliEnv);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("plan 'svc:prod:nope' is not one of METERING_PLANS");
    const wrongToken = await tickflow(['metering', 'status', MONTH], { ...cliEnv, METERING_API_TOKEN: 'not-the-token' });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('refused the token in METERING_API_TOKEN');
    expect(wrongToken.stderr).not.toContain('not-the-token');
  });
});
