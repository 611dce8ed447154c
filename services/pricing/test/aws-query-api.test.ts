// AWS through the Price List Query API (PRICING_AWS_SOURCE=query-api, the seed's `--boto3`
// mode): the real @aws-sdk/client-pricing against the Query API stand-in, which serves the same
// products as the bulk stand-in's offer files. The catalogue comes out the same either way; a
// region pages 100 products at a time, resumes at the page that failed, reads again from page 1
// when a token expires, and a refusal dead-letters without the secret key anywhere.
import { PRICING_API_ROUTE } from '@tickflow/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { PricingBed, QUERY_API_KEY } from './pricing-bed.ts';

const V1 = '20261101000000';
const SPEC = { version: V1, instanceTypes: ['m5.large', 'c5.large'] };
// 54 products a type, 108 in all: two pages of at most 100.
const ROWS = 2 * (54 + 12 * 12);
const withoutVersion = (rows: string[]) => rows.map((r) => r.replace(/ @\d+$/, ''));
const pagesOf = (bed: PricingBed, region: string) =>
  (bed.queryApi?.calls() ?? [])
    .filter((c) => c.operation === 'GetProducts' && c.region === region)
    .map((c) => (c.refused ? `${c.page} refused` : c.page));

let bed: PricingBed;
afterEach(async () => {
  await bed?.stop();
});

describe('pricing, AWS through the Price List Query API', () => {
  it('makes the same catalogue as the offer files, listing the regions with GetAttributeValues', async () => {
    bed = new PricingBed();
    await bed.startPriceList({ 'eu-west-1': SPEC });
    await bed.start();
    await bed.tick();
    await bed.completed(1);
    const fromFiles = withoutVersion(await bed.catalogue('eu-west-1'));
    expect(fromFiles).toHaveLength(ROWS);
    await bed.stop();

    bed = new PricingBed();
    await bed.startPriceList({});
    await bed.startQueryApi({ 'eu-west-1': SPEC, 'us-east-1': { version: V1, instanceTypes: ['t3.micro'] } });
    await bed.start();
    await bed.tick();
    const done = await bed.completed(2);
    expect(done.map((e) => [e.key, e.payload.result, e.payload.version, e.payload.rows]).sort()).toEqual([
      ['aws/eu-west-1', 'synced', '20261201020000', ROWS],
      ['aws/us-east-1', 'synced', '20261201020000', 54 + 12 * 12],
    ]);
    expect(withoutVersion(await bed.catalogue('eu-west-1'))).toEqual(fromFiles);
    expect(pagesOf(bed, 'eu-west-1')).toEqual([0, 1]);
    expect(bed.queryApi?.calls().filter((c) => c.operation === 'GetAttributeValues')).toHaveLength(1);
    // Every request signed for the service `pricing` with the key from the environment.
    expect(
      bed.queryApi?.http
        .requests(PRICING_API_ROUTE)
        .every((r) => r.headers.authorization?.startsWith(`AWS4-HMAC-SHA256 Credential=${QUERY_API_KEY.id}/`)),
    ).toBe(true);
  });

  it('resumes at the page that failed, and reads again from page 1 when its token expired', async () => {
    bed = new PricingBed();
    await bed.startPriceList({});
    await bed.startQueryApi({ 'eu-west-1': SPEC });
    await bed.start({ PRICING_AWS_REGIONS: 'eu-west-1' });
    // Page 2 is throttled until the fault is lifted: the SDK's own retries, then the tiers.
    const throttled = (r: { body: unknown }) => (r.body as { NextToken?: string }).NextToken !== undefined;
    bed.queryApi?.http.injectFault(
      PRICING_API_ROUTE,
      {
        kind: 'status',
        status: 429,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ThrottlingException' },
        body: JSON.stringify({ __type: 'ThrottlingException', Message: 'Rate exceeded' }),
      },
      { times: 'always', when: throttled },
    );
    await bed.tick();
    const failed = await bed.eventuallyRegion('eu-west-1', (r) => r.last_result === 'failed');
    expect(failed.last_error).toMatch(/^GetProducts: ThrottlingException: Rate exceeded/);
    expect(failed).toMatchObject({ staging_pages: 1, current_version: null });
    bed.queryApi?.http.clearFaults();
    const [first] = await bed.completed(1);
    expect(first?.payload).toMatchObject({ result: 'synced', rows: ROWS });
    const pages = pagesOf(bed, 'eu-west-1');
    expect(pages[0]).toBe(0);
    expect(pages.slice(1).every((p) => p === 1)).toBe(true);

    // The next sync's page 2 is slow; meanwhile AWS expires its tokens: page 1 again, then page 2, in the same attempt.
    bed.queryApi?.clearCalls();
    bed.queryApi?.http.injectFault(PRICING_API_ROUTE, { kind: 'delay', ms: 1500 }, { when: throttled });
    await bed.tick();
    await bed.eventuallyRegion('eu-west-1', (r) => r.staging_pages === 1 && r.staging_version === '20261202020000');
    bed.queryApi?.expireTokens();
    const [, second] = await bed.completed(2);
    expect(second?.payload).toMatchObject({ result: 'synced', version: '20261202020000', rows: ROWS, changes: 0 });
    expect(pagesOf(bed, 'eu-west-1')).toEqual([0, '1 refused', 0, 1]);
  });

  it('dead-letters a refusal with AWS’s words, and never shows the secret key', async () => {
    bed = new PricingBed();
    await bed.startPriceList({});
    await bed.startQueryApi({ 'eu-west-1': SPEC });
    const service = await bed.start({ PRICING_AWS_REGIONS: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY00000000' });
    const dead = await bed.tap.read(`${bed.instance}.requests.dlq`);
    await bed.tick();
    const [letter] = await bed.eventuallyEvents(dead, 1);
    expect(letter?.key).toBe('aws/eu-west-1');
    expect(letter?.headers.tickflow_error_message).toBe(
      'GetProducts: UnrecognizedClientException: The security token included in the request is invalid.',
    );
    const everything = `${JSON.stringify(letter)}${service.output.join('')}`;
    expect(everything).not.toContain(QUERY_API_KEY.secret);
  });
});
