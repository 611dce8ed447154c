// What goes wrong at Clazar and in the export, and what metering does about it: nothing lost,
// nothing accepted twice, every refusal kept with its payload, and secrets in no output.
import { eventually, tickflow, tickflowJson } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_SECRET, MeteringBed, type UsageRecord } from './metering-bed.ts';

const PLAN = 'svc:prod:plan-1';
const MONTH = '2026-08';
const PREFIX = 'omnistrate-metering/svc/prod/plan-1/2026/08/';
const DIMENSIONS = { DIMENSION_cpu_core_hours: 'cpu_core_hours', DIMENSION_replicas: 'replica_hours' };
const rec = (externalPayerId: string, dimension: string, value: number | string): UsageRecord => ({
  externalPayerId,
  dimension,
  value,
  pricePerUnit: '0.01',
  timestamp: `${MONTH}-03T00:00:00Z`,
});

let bed: MeteringBed;
afterEach(async () => {
  await bed?.stop();
});

async function monthWith(contracts: string[]): Promise<void> {
  await bed.putFile(
    `${PREFIX}usage.json`,
    contracts.flatMap((c, i) => [rec(c, 'cpu_core_hours', 10 + i), rec(c, 'replica_hours', 1)]),
  );
  await bed.putMarker({ [PLAN]: '2026-09-01T00:00:00Z' });
}

const env = { ...DIMENSIONS, METERING_PLANS: PLAN, METERING_START_MONTH: MONTH };

describe('metering under failures', () => {
  it('retries 5xx, 429 and lost replies, and Clazar accepts each contract-dimension once', async () => {
    bed = new MeteringBed(env);
    await bed.startClazar();
    await monthWith(['a', 'b', 'c', 'd']);
    const forContract = (id: string) => (request: { body: unknown }) =>
      ((request.body as { request?: { contract_id: string }[] }).request ?? [])[0]?.contract_id === id;
    bed.clazar.http.injectFault('POST /metering/', { kind: 'status', status: 503 }, { when: forContract('a') });
    bed.clazar.http.injectFault('POST /metering/', { kind: 'rateLimit', retryAfter: 1 }, { when: forContract('b') });
    // Clazar records c's usage, but the reply never arrives: the re-send meets duplicates.
    bed.clazar.http.injectFault('POST /metering/', { kind: 'reset', processed: true }, { when: forContract('c') });
    bed.clazar.http.injectFault('POST /metering/', { kind: 'timeout', processed: true }, { when: forContract('d') });
    const service = await bed.start();
    const events = await bed.tap.read(`${bed.instance}.events`);
    await bed.tick('2026-09-01T00:10:00.000Z');
    await eventually('the month to complete', async () => events.find((e) => e.type === 'tickflow.metering.month.completed'), 45_000);

    const accepted = bed.clazar
      .accepted()
      .map((u) => `${u.contract_id}:${u.dimension}:${u.quantity}`)
      .sort();
    expect(accepted).toEqual([
      'a:cpu_core_hours:10',
      'a:replicas:1',
      'b:cpu_core_hours:11',
      'b:replicas:1',
      'c:cpu_core_hours:12',
      'c:replicas:1',
      'd:cpu_core_hours:13',
      'd:replicas:1',
    ]);
    const status = await bed.status(service.url, PLAN, MONTH);
    expect(status.counts).toMatchObject({ contracts: 4, sent: 4, error: 0, pending: 0 });
    for (const id of ['c', 'd']) {
      const contract = status.contracts.find((c) => c.contractId === id);
      expect(contract?.accepted.map((a) => a.duplicate)).toEqual([true, true]);
    }
    // Events are keyed by contract: the tap may read some after the month's announcement.
    const failed = await eventually(
      'four contract.failed events',
      async () => {
        const found = events.filter((e) => e.type === 'tickflow.metering.contract.failed');
        return found.length >= 4 ? found : undefined;
      },
      10_000,
    );
    expect(failed.map((e) => `${e.key}:${e.payload.code}:${e.payload.final}`).sort()).toEqual([
      'a:HTTP_503:false',
      'b:HTTP_429:false',
      'c:NETWORK:false',
      'd:TIMEOUT:false',
    ]);
    // The client secret and the bearer token reach neither the log nor the events.
    const output = service.output.join('');
    expect(output).not.toContain(CLIENT_SECRET);
    for (const token of bed.clazar.http.requests('POST /metering/').map((r) => r.headers.authorization?.slice(7))) {
      expect(output).not.toContain(token);
      expect(JSON.stringify(events)).not.toContain(token);
    }
  });

  it('takes a new token when Clazar says the one in use expired, and sends each contract once', async () => {
    bed = new MeteringBed({ ...env });
    await bed.startClazar();
    await monthWith(['a']);
    await bed.start();
    const events = await bed.tap.read(`${bed.instance}.events`);
    await bed.tick('2026-09-01T00:10:00.000Z');
    await eventually('August to complete', async () => events.find((e) => e.type === 'tickflow.metering.month.completed'), 45_000);

    // The token the service holds is revoked before September: its first call meets a 401.
    bed.clazar.expireTokens();
    await bed.putFile('omnistrate-metering/svc/prod/plan-1/2026/09/usage.json', [
      { ...rec('b', 'cpu_core_hours', 5), timestamp: '2026-09-03T00:00:00Z' },
    ]);
    await bed.putMarker({ [PLAN]: '2026-10-01T00:00:00Z' });
    await bed.tick('2026-10-01T00:10:00.000Z');
    await eventually(
      'September to complete',
      async () => (events.filter((e) => e.type === 'tickflow.metering.month.completed').length === 2 ? true : undefined),
      45_000,
    );
    // August's call, September's with the revoked token (401), and its re-send with a new one.
    const tokens = bed.clazar.http.requests('POST /metering/').map((r) => r.headers.authorization);
    expect(tokens).toHaveLength(3);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[1]);
    expect(bed.clazar.http.requests('POST /authenticate/')).toHaveLength(2);
    expect(bed.clazar.accepted().map((u) => `${u.contract_id}:${u.dimension}:${u.quantity}`)).toEqual([
      'a:cpu_core_hours:10',
      'a:replicas:1',
      'b:cpu_core_hours:5',
      'b:replicas:0', // every configured dimension is billed, 0 when it has no usage
    ]);
    expect(events.filter((e) => e.type === 'tickflow.metering.contract.failed')).toEqual([]);
  });

  it('keeps what Clazar refuses with its payload, records warnings, and re-sends the refused lines on the next run only', async () => {
    bed = new MeteringBed(env);
    await bed.startClazar({ unregisteredDimensions: ['replicas'] });
    await monthWith(['a', 'b']);
    bed.clazar.refuse((r) => r.contract_id === 'b' && r.dimension === 'cpu_core_hours', {
      code: 'INVALID_CONTRACT',
      message: 'Contract is not active',
    });
    const service = await bed.start();
    const events = await bed.tap.read(`${bed.instance}.events`);
    await bed.tick('2026-09-01T00:10:00.000Z');
    const completed = await eventually(
      'the month to complete',
      async () => events.find((e) => e.type === 'tickflow.metering.month.completed'),
      30_000,
    );
    expect(completed.payload).toMatchObject({ contracts: 2, sent: 1, failed: 1, warnings: 2 });

    let status = await bed.status(service.url, PLAN, MONTH);
    const b = status.contracts.find((c) => c.contractId === 'b');
    expect(b).toMatchObject({ status: 'error', code: 'INVALID_CONTRACT', message: 'Contract is not active', sends: 1, retryCount: 0 });
    expect(b?.payload?.request.map((r) => `${r.dimension}:${r.quantity}`)).toEqual(['cpu_core_hours:11']);
    expect(status.contracts.find((c) => c.contractId === 'a')?.warnings.map((w) => w.dimension)).toEqual(['replicas']);
    const failed = await eventually('b failed', async () => events.find((e) => e.type === 'tickflow.metering.contract.failed'), 10_000);
    expect(failed.payload).toMatchObject({
      contractId: 'b',
      code: 'INVALID_CONTRACT',
      final: true,
      errors: ['cpu_core_hours: INVALID_CONTRACT: Contract is not active'],
    });

    // The next run re-sends b's refused line, from its stored payload, before anything new.
    bed.clazar.clearRefusals();
    await bed.tick('2026-10-01T00:10:00.000Z');
    await eventually(
      'b to be sent',
      async () => {
        status = await bed.status(service.url, PLAN, MONTH);
        return status.contracts.find((c) => c.contractId === 'b' && c.status === 'sent');
      },
      30_000,
    );
    const bAfter = status.contracts.find((c) => c.contractId === 'b');
    expect(bAfter).toMatchObject({ sends: 2, retryCount: 1 });
    const sentToClazar = bed.clazar.http
      .requests('POST /metering/')
      .map((r) =>
        (r.body as { request: { contract_id: string; dimension: string }[] }).request
          .map((x) => `${x.contract_id}:${x.dimension}`)
          .join(','),
      );
    expect(sentToClazar.sort()).toEqual(['a:cpu_core_hours,a:replicas', 'b:cpu_core_hours', 'b:cpu_core_hours,b:replicas']);
  });

  it('dead-letters a contract Clazar answers 400 at once; a replay once fixed gets it accepted once, a second replay sends nothing', async () => {
    bed = new MeteringBed(env);
    await bed.startClazar();
    await monthWith(['a', 'b']);
    bed.clazar.http.injectFault(
      'POST /metering/',
      { kind: 'status', status: 400, body: { detail: 'request is malformed' } },
      { when: (request) => ((request.body as { request?: { contract_id: string }[] }).request ?? [])[0]?.contract_id === 'a' },
    );
    const service = await bed.start();
    const events = await bed.tap.read(`${bed.instance}.events`);
    const dead = await bed.tap.read(`${bed.instance}.requests.dlq`);
    await bed.tick('2026-09-01T00:10:00.000Z');
    const letter = await eventually('a in the DLQ', async () => dead.find((e) => e.key === 'a'), 30_000);
    expect(letter.type).toBe('tickflow.metering.contract');
    expect(letter.headers.tickflow_dlq_reason).toBe('fatal');
    expect(letter.headers.tickflow_error_message).toContain('400');
    const completed = await eventually(
      'the month to complete',
      async () => events.find((e) => e.type === 'tickflow.metering.month.completed'),
      30_000,
    );
    expect(completed.payload).toMatchObject({ contracts: 2, sent: 1, failed: 1 });
    const callsFor = (id: string) =>
      bed.clazar.http
        .requests('POST /metering/')
        .filter((r) => ((r.body as { request?: { contract_id: string }[] }).request ?? [])[0]?.contract_id === id);
    // Final: no retry on the tiers.
    expect(callsFor('a')).toHaveLength(1);
    const before = await bed.status(service.url, PLAN, MONTH);
    expect(before.contracts.find((c) => c.contractId === 'a')).toMatchObject({ status: 'error', code: 'HTTP_400' });

    // The fault was one call: Clazar takes the request now. Replaying the dead letter sends a's usage.
    const replay = await tickflow(['dlq', 'replay', `${bed.instance}.requests`, '--all']);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    await eventually('a to be accepted', async () => bed.clazar.accepted().filter((u) => u.contract_id === 'a').length === 2, 30_000);
    const sent = await eventually(
      'a sent',
      async () => events.find((e) => e.type === 'tickflow.metering.contract.sent' && e.key === 'a'),
      30_000,
    );
    expect(sent.payload.dimensions).toHaveLength(2);

    // A second replay of the same dead letter finds a sent: it is read, and nothing goes to Clazar.
    expect((await tickflow(['dlq', 'replay', `${bed.instance}.requests`, '--all'])).code).toBe(0);
    await eventually(
      'the replay to be read',
      async () => {
        const [group] = await tickflowJson<{ total: number; partitions: { topic: string }[] }[]>(['lag', '--group', bed.instance]);
        return group !== undefined && group.total === 0 && group.partitions.some((p) => p.topic === `${bed.instance}.requests`);
      },
      30_000,
    );
    expect(callsFor('a')).toHaveLength(2);
    expect(
      bed.clazar
        .accepted()
        .map((u) => `${u.contract_id}:${u.dimension}:${u.quantity}`)
        .sort(),
    ).toEqual(['a:cpu_core_hours:10', 'a:replicas:1', 'b:cpu_core_hours:11', 'b:replicas:1']);
    const after = await bed.status(service.url, PLAN, MONTH);
    expect(after.contracts.find((c) => c.contractId === 'a')).toMatchObject({ status: 'sent' });
  });

  it('fails a month with a malformed file, naming it, and sends nothing of it', async () => {
    bed = new MeteringBed(env);
    await bed.startClazar();
    await monthWith(['a']);
    await bed.putFile(
      `${PREFIX}15/07/broken.json`,
      '[{"externalPayerId": "a", "dimension": "cpu_core_hours", "value": 1}, {"externalPayerId": ',
    );
    const service = await bed.start();
    const dead = await bed.tap.read(`${bed.instance}.requests.dlq`);
    await bed.tick('2026-09-01T00:10:00.000Z');
    const letter = await eventually(
      'the plan-month in the DLQ',
      async () => dead.find((e) => e.type === 'tickflow.metering.plan-month'),
      30_000,
    );
    expect(letter.headers.tickflow_dlq_reason).toBe('fatal');
    expect(letter.headers.tickflow_error_message).toContain(`${PREFIX}15/07/broken.json`);
    const status = await bed.status(service.url, PLAN, MONTH);
    expect(status.status).toBe('failed');
    expect(status.error).toContain('broken.json');
    expect(status.contracts).toEqual([]);
    expect(bed.clazar.http.requests('POST /metering/')).toEqual([]);
  });

  it('computes and shows everything in a dry run, and sends nothing', async () => {
    bed = new MeteringBed({ ...env, METERING_DRY_RUN: 'true' });
    await bed.startClazar();
    await monthWith(['a', 'b']);
    const service = await bed.start();
    const events = await bed.tap.read(`${bed.instance}.events`);
    await bed.tick('2026-09-01T00:10:00.000Z');
    const completed = await eventually(
      'the dry run to complete',
      async () => events.find((e) => e.type === 'tickflow.metering.month.completed'),
      30_000,
    );
    expect(completed.payload).toMatchObject({ dryRun: true, contracts: 2, sent: 0 });
    const status = await bed.status(service.url, PLAN, MONTH);
    expect(status.status).toBe('dry_run');
    expect(status.lastProcessedMonth).toBeNull();
    expect(status.contracts.map((c) => `${c.contractId}:${c.status}:${c.bill.map((l) => l.quantity).join('/')}`)).toEqual([
      'a:dry_run:10/1',
      'b:dry_run:11/1',
    ]);
    expect(bed.clazar.http.requests()).toEqual([]);
  });

  it('refuses to start on a malformed or hostile formula, naming the variable and never the secret', async () => {
    bed = new MeteringBed({ ...env, DIMENSION_bad: 'cpu_core_hours +', DIMENSION_evil: 'constructor' });
    await expect(bed.start()).rejects.toThrow(
      /DIMENSION_bad: formula expected a number.*\n[\s\S]*DIMENSION_evil: formula unknown name 'constructor'/,
    );
    await expect(bed.start({ DIMENSION_bad: '', DIMENSION_evil: '', METERING_PLANS: 'svc:prod' })).rejects.toThrow(
      /METERING_PLANS: must be a comma-separated list of service:environment:plan/,
    );
    const refused = await bed.start({ DIMENSION_bad: '', DIMENSION_evil: '', METERING_PLANS: '' }).then(
      () => new Error('it started'),
      (error: Error) => error,
    );
    expect(refused.message).toMatch(/METERING_PLANS/);
    expect(refused.message).not.toContain(CLIENT_SECRET);
  });
});
