// A local AWS Price List Query API (the `pricing` service: what boto3's `get_products` calls),
// on the stand-in kit, for the real `@aws-sdk/client-pricing` to talk to. As the real one:
// AWS JSON 1.1 (`POST /`, `X-Amz-Target: AWSPriceListService.<Operation>`), requests signed
// with SigV4 for the service `pricing` (the stand-in checks the credential scope and the access
// key, not the signature's bytes), `GetProducts` with `TERM_MATCH`, `EQUALS`, `CONTAINS`,
// `ANY_OF` and `NONE_OF` filters, at most 100 products a page, `PriceList` as JSON strings with
// the terms keyed by `<sku>.<offerTermCode>`, an opaque `NextToken` that can be made to
// expire, `GetAttributeValues`, and errors as `{"__type", "Message"}` with `x-amzn-ErrorType`.
// The products are the offer-file generator's (aws-offer-file.ts), so both APIs agree.
import { type OfferFileSpec, offerProductDocuments } from './aws-offer-file.ts';
import { type HttpStandIn, type StandInReply, type StandInRequest, startHttpStandIn } from './http-stand-in.ts';

export interface AwsPricingApiStandInOptions {
  /** Each region's current offer, as for the bulk price list stand-in. */
  regions: Readonly<Record<string, Omit<OfferFileSpec, 'region'>>>;
  /** The access key a request must be signed with; any when not given. */
  accessKeyId?: string;
  port?: number;
}

export const PRICING_API_ROUTE = 'POST /' as const;

export interface AwsPricingApiStandIn {
  /** The endpoint, as the SDK's `endpoint` takes it. */
  readonly url: string;
  readonly http: HttpStandIn<typeof PRICING_API_ROUTE>;
  publish(region: string, offer: Omit<OfferFileSpec, 'region'>): void;
  /** Tokens handed out so far stop working (`ExpiredNextTokenException`), as they do after a while. */
  expireTokens(): void;
  /** The operation and the page (0 for a first page) of each request so far; `refused` when its token was not taken. */
  calls(): PricingApiCall[];
  clearCalls(): void;
  close(): Promise<void>;
}

export interface PricingApiCall {
  operation: string;
  region: string | undefined;
  page: number;
  refused?: true;
}

interface Filter {
  Type?: unknown;
  Field?: unknown;
  Value?: unknown;
}

const FILTER_TYPES = new Set(['TERM_MATCH', 'EQUALS', 'CONTAINS', 'ANY_OF', 'NONE_OF']);

export async function startAwsPricingApiStandIn(options: AwsPricingApiStandInOptions): Promise<AwsPricingApiStandIn> {
  const documents = new Map<string, Record<string, unknown>[]>();
  const publish = (region: string, offer: Omit<OfferFileSpec, 'region'>) =>
    documents.set(region, offerProductDocuments({ ...offer, region }));
  for (const [region, offer] of Object.entries(options.regions)) publish(region, offer);
  // A token names the generation it was handed out in; expiring tokens starts a new one.
  let generation = 1;
  const calls: PricingApiCall[] = [];

  function handle(request: StandInRequest): StandInReply {
    const target = request.headers['x-amz-target'] ?? '';
    const auth = request.headers.authorization ?? '';
    const scope = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[a-z0-9-]+\/([^/]+)\/aws4_request,/.exec(auth);
    if (scope === null) return error(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (scope[2] !== 'pricing')
      return error(400, 'InvalidSignatureException', `Credential should be scoped to correct service: 'pricing'.`);
    if (options.accessKeyId !== undefined && scope[1] !== options.accessKeyId) {
      return error(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    switch (target) {
      case 'AWSPriceListService.GetProducts':
        return getProducts(body);
      case 'AWSPriceListService.GetAttributeValues':
        return getAttributeValues(body);
      default:
        return error(400, 'UnknownOperationException', `Unknown operation ${target}`);
    }
  }

  /** Where a request's token points, and why it is refused if it is (an invalid token points nowhere). */
  function page(body: Record<string, unknown>): { offset: number; refused?: StandInReply } {
    const token = body.NextToken;
    if (token === undefined || token === null) return { offset: 0 };
    const decoded = /^(\d+):(\d+)$/.exec(Buffer.from(String(token), 'base64url').toString());
    if (decoded === null) {
      return {
        offset: -1,
        refused: error(400, 'InvalidNextTokenException', 'The pagination token is invalid. Try again without a pagination token.'),
      };
    }
    const offset = Number(decoded[2]);
    if (Number(decoded[1]) !== generation) {
      return {
        offset,
        refused: error(400, 'ExpiredNextTokenException', 'The pagination token expired. Try again without a pagination token.'),
      };
    }
    return { offset };
  }
  const tokenFor = (offset: number) => Buffer.from(`${generation}:${offset}`).toString('base64url');
  const maxResults = (body: Record<string, unknown>, limit: number): number | StandInReply => {
    const max = body.MaxResults ?? 100;
    return Number.isInteger(max) && (max as number) >= 1 && (max as number) <= limit
      ? (max as number)
      : error(400, 'InvalidParameterException', `Input Parameters are invalid. MaxResults must be from 1 to ${limit}`);
  };

  function getProducts(body: Record<string, unknown>): StandInReply {
    if (body.ServiceCode === undefined || body.ServiceCode === '') {
      return error(400, 'InvalidParameterException', 'Input Parameters are invalid. serviceCode cannot be null or empty');
    }
    if (body.ServiceCode !== 'AmazonEC2') return error(400, 'NotFoundException', `Service ${String(body.ServiceCode)} was not found`);
    if (body.FormatVersion !== undefined && body.FormatVersion !== 'aws_v1') {
      return error(
        400,
        'InvalidParameterException',
        `Input Parameters are invalid. FormatVersion ${String(body.FormatVersion)} is not supported`,
      );
    }
    const filters = (Array.isArray(body.Filters) ? body.Filters : []) as Filter[];
    const bad = filters.find((f) => !FILTER_TYPES.has(String(f.Type)) || typeof f.Field !== 'string' || typeof f.Value !== 'string');
    if (bad !== undefined)
      return error(400, 'InvalidParameterException', `Input Parameters are invalid. Filter ${JSON.stringify(bad)} is not valid`);
    const max = maxResults(body, 100);
    if (typeof max !== 'number') return max;
    const at = page(body);
    const region = filters.find((f) => f.Field === 'regionCode')?.Value as string | undefined;
    calls.push({ operation: 'GetProducts', region, page: Math.floor(at.offset / max), ...(at.refused ? { refused: true } : {}) });
    if (at.refused) return at.refused;
    const all = [...documents.values()].flat().filter((doc) => filters.every((f) => matches(doc, f)));
    const slice = all.slice(at.offset, at.offset + max);
    const next = at.offset + max < all.length ? tokenFor(at.offset + max) : undefined;
    return json({ FormatVersion: 'aws_v1', PriceList: slice.map((doc) => JSON.stringify(doc)), ...(next ? { NextToken: next } : {}) });
  }

  function getAttributeValues(body: Record<string, unknown>): StandInReply {
    if (body.ServiceCode !== 'AmazonEC2') return error(400, 'NotFoundException', `Service ${String(body.ServiceCode)} was not found`);
    if (typeof body.AttributeName !== 'string' || body.AttributeName === '') {
      return error(400, 'InvalidParameterException', 'Input Parameters are invalid. attributeName cannot be null or empty');
    }
    const max = maxResults(body, 10_000);
    if (typeof max !== 'number') return max;
    const at = page(body);
    calls.push({
      operation: 'GetAttributeValues',
      region: undefined,
      page: Math.floor(at.offset / max),
      ...(at.refused ? { refused: true } : {}),
    });
    if (at.refused) return at.refused;
    const name = body.AttributeName;
    const values = [...new Set([...documents.values()].flat().flatMap((doc) => attributeOf(doc, name) ?? []))].sort();
    const next = at.offset + max < values.length ? tokenFor(at.offset + max) : undefined;
    return json({
      AttributeValues: values.slice(at.offset, at.offset + max).map((Value) => ({ Value })),
      ...(next ? { NextToken: next } : {}),
    });
  }

  const http = await startHttpStandIn({ routes: { [PRICING_API_ROUTE]: handle }, port: options.port });
  return {
    url: http.url,
    http,
    publish,
    expireTokens: () => {
      generation += 1;
    },
    calls: () => [...calls],
    clearCalls: () => {
      calls.length = 0;
    },
    close: () => http.close(),
  };
}

function attributeOf(doc: Record<string, unknown>, name: string): string | undefined {
  const product = doc.product as { productFamily?: string; sku?: string; attributes?: Record<string, string> };
  if (name === 'productFamily') return product.productFamily;
  if (name === 'sku') return product.sku;
  return product.attributes?.[name];
}

function matches(doc: Record<string, unknown>, filter: Filter): boolean {
  const value = attributeOf(doc, filter.Field as string);
  const wanted = filter.Value as string;
  switch (filter.Type) {
    case 'TERM_MATCH':
    case 'EQUALS':
      return value === wanted;
    case 'CONTAINS':
      return value?.includes(wanted) === true;
    case 'ANY_OF':
      return value !== undefined && wanted.split(',').includes(value);
    default:
      return value === undefined || !wanted.split(',').includes(value);
  }
}

function json(body: unknown): StandInReply {
  return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) };
}

function error(status: number, type: string, message: string): StandInReply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type },
    body: JSON.stringify({ __type: type, Message: message }),
  };
}
