// A local AWS price list (the public Bulk API, no credentials), on the stand-in kit: the
// service index, EC2's region index, and each region's offer file generated as a stream of
// any size (aws-offer-file.ts). Like the real one (S3 behind CloudFront) it sends `ETag` and
// `Last-Modified` and answers a conditional GET with 304; an old version stays served after a
// region moves on. Faults (5xx, timeouts, a cut mid-body) come from the kit.
import { createHash } from 'node:crypto';
import { type OfferFileSpec, offerFileChunks, publicationDateOf } from './aws-offer-file.ts';
import { type HttpStandIn, type StandInReply, type StandInRequest, startHttpStandIn } from './http-stand-in.ts';

export type AwsRegionOffer = Omit<OfferFileSpec, 'region'>;

export interface AwsPriceListStandInOptions {
  /** Each region's current offer. */
  regions: Readonly<Record<string, AwsRegionOffer>>;
  port?: number;
}

type Route =
  | 'GET /offers/v1.0/aws/index.json'
  | 'GET /offers/v1.0/aws/AmazonEC2/current/region_index.json'
  | 'GET /offers/v1.0/aws/AmazonEC2/:version/:region/index.json';

export interface AwsPriceListStandIn {
  /** The base URL, as `PRICING_AWS_BASE_URL` takes it. */
  readonly url: string;
  readonly http: HttpStandIn<Route>;
  /** Publishes a new current offer for a region (or adds the region); the one before stays served under its version. */
  publish(region: string, offer: AwsRegionOffer): void;
  /** The spec of a region's current offer. */
  current(region: string): OfferFileSpec;
  /** Offer-file downloads answered with a body (not 304), per region. */
  downloads(region?: string): number;
  close(): Promise<void>;
}

export const OFFER_ROUTE = 'GET /offers/v1.0/aws/AmazonEC2/:version/:region/index.json' as const;

export async function startAwsPriceListStandIn(options: AwsPriceListStandInOptions): Promise<AwsPriceListStandIn> {
  const current = new Map<string, OfferFileSpec>();
  const served = new Map<string, OfferFileSpec>(); // `${version}/${region}`
  const downloads = new Map<string, number>();
  let indexPublishedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

  const publish = (region: string, offer: AwsRegionOffer) => {
    const spec = { ...offer, region };
    current.set(region, spec);
    served.set(`${spec.version}/${region}`, spec);
    indexPublishedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  };
  for (const [region, offer] of Object.entries(options.regions)) publish(region, offer);

  function serviceIndex(): StandInReply {
    return {
      body: {
        formatVersion: 'v1.0',
        disclaimer: 'This pricing list is for informational purposes only.',
        publicationDate: indexPublishedAt,
        offers: {
          AmazonEC2: {
            offerCode: 'AmazonEC2',
            versionIndexUrl: '/offers/v1.0/aws/AmazonEC2/index.json',
            currentVersionUrl: '/offers/v1.0/aws/AmazonEC2/current/index.json',
            currentRegionIndexUrl: '/offers/v1.0/aws/AmazonEC2/current/region_index.json',
            savingsPlanVersionIndexUrl: '/savingsPlan/v1.0/aws/AWSComputeSavingsPlan/current/region_index.json',
          },
          AmazonS3: {
            offerCode: 'AmazonS3',
            versionIndexUrl: '/offers/v1.0/aws/AmazonS3/index.json',
            currentVersionUrl: '/offers/v1.0/aws/AmazonS3/current/index.json',
            currentRegionIndexUrl: '/offers/v1.0/aws/AmazonS3/current/region_index.json',
          },
        },
      },
    };
  }

  function regionIndex(): StandInReply {
    const regions = Object.fromEntries(
      [...current.values()].map((spec) => [
        spec.region,
        { regionCode: spec.region, currentVersionUrl: `/offers/v1.0/aws/AmazonEC2/${spec.version}/${spec.region}/index.json` },
      ]),
    );
    return {
      body: {
        formatVersion: 'v1.0',
        disclaimer: 'This pricing list is for informational purposes only.',
        publicationDate: indexPublishedAt,
        regions,
      },
    };
  }

  function offerFile(request: StandInRequest): StandInReply {
    const spec = served.get(`${request.params.version}/${request.params.region}`);
    // What S3 answers for a key that does not exist and may not be listed.
    if (spec === undefined) {
      return {
        status: 403,
        headers: { 'content-type': 'application/xml' },
        body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
      };
    }
    const etag = etagOf(spec);
    const lastModified = new Date(spec.publicationDate ?? publicationDateOf(spec.version)).toUTCString();
    const validators = { etag, 'last-modified': lastModified };
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) return { status: 304, headers: validators };
    } else if (request.headers['if-modified-since'] !== undefined) {
      const since = Date.parse(request.headers['if-modified-since']);
      if (!Number.isNaN(since) && Date.parse(lastModified) <= since) return { status: 304, headers: validators };
    }
    downloads.set(spec.region, (downloads.get(spec.region) ?? 0) + 1);
    return { headers: { ...validators, 'content-type': 'application/json' }, body: offerFileChunks(spec) };
  }

  const http = await startHttpStandIn({
    port: options.port,
    routes: {
      'GET /offers/v1.0/aws/index.json': serviceIndex,
      'GET /offers/v1.0/aws/AmazonEC2/current/region_index.json': regionIndex,
      [OFFER_ROUTE]: offerFile,
    } as Record<Route, (request: StandInRequest) => StandInReply>,
  });

  return {
    url: http.url,
    http,
    publish,
    current: (region) => {
      const spec = current.get(region);
      if (spec === undefined) throw new Error(`the stand-in has no region ${region}`);
      return spec;
    },
    downloads: (region) => (region === undefined ? [...downloads.values()].reduce((a, b) => a + b, 0) : (downloads.get(region) ?? 0)),
    close: () => http.close(),
  };
}

/** A strong ETag of everything that decides the file's bytes, as S3 gives one per object. */
function etagOf(spec: OfferFileSpec): string {
  return `"${createHash('md5').update(JSON.stringify(spec)).digest('hex')}"`;
}
