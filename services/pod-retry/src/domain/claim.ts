// A claim as the registration API takes it: the e-commerce claim that needs a carrier's proof
// of delivery (POD). Pure: a request body in, claims out or the first field that is wrong.
// Identifiers are the client's own (`CLM-2024-001`), so registering one twice is a no-op,
// not a second claim.

export const POD_STATUSES = ['pending', 'fetching', 'success', 'failed', 'gave_up'] as const;
export type PodStatus = (typeof POD_STATUSES)[number];

export interface ClaimRegistration {
  claimId: string;
  clientId: string;
  /** One of the carriers the service is configured with: `dhl`, `colissimo`, `chronopost`. */
  carrier: string;
  trackingNumber: string;
}

export type ClaimsReading = { claims: ClaimRegistration[] } | { field: string; error: string };

/** Claims registered by one request at most. */
export const MAX_BATCH = 1000;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
/** What carriers print on a label: letters and digits, 8 to 40 (DHL's are 10 to 39, La Poste's 11 to 15, Chronopost's 13). */
const TRACKING_NUMBER = /^[A-Z0-9]{8,40}$/;

/**
 * Reads `{claimId, clientId, carrier, trackingNumber}` or `{claims: [...]}`. Tracking numbers
 * are upper-cased and spaces dropped, as printed labels group them (`JJ 1234 5678`); the same
 * claim twice in one batch is taken once, the same id with other values is refused.
 */
export function readClaims(body: unknown, carriers: readonly string[]): ClaimsReading {
  const batch = isObject(body) && 'claims' in body;
  const items = batch ? (body as { claims: unknown }).claims : [body];
  if (!Array.isArray(items) || items.length === 0) return { field: 'claims', error: 'claims must be a non-empty list of claims' };
  if (items.length > MAX_BATCH) return { field: 'claims', error: `claims holds ${items.length} claims; at most ${MAX_BATCH} at once` };
  const byId = new Map<string, ClaimRegistration>();
  for (const [i, item] of items.entries()) {
    const at = (name: string) => (batch ? `claims[${i}].${name}` : name);
    if (!isObject(item)) return { field: batch ? `claims[${i}]` : 'body', error: 'a claim must be an object' };
    for (const name of ['claimId', 'clientId'] as const) {
      const value = item[name];
      if (typeof value !== 'string' || !ID.test(value)) {
        return { field: at(name), error: `${name} must be 1 to 64 letters, digits or . _ : - (starting with a letter or digit)` };
      }
    }
    const carrier = typeof item.carrier === 'string' ? item.carrier.trim().toLowerCase() : undefined;
    if (carrier === undefined || !carriers.includes(carrier)) {
      return {
        field: at('carrier'),
        error: `carrier must be one of ${carriers.join(', ')}${carrier === undefined ? '' : `, got '${item.carrier}'`}`,
      };
    }
    const trackingNumber = typeof item.trackingNumber === 'string' ? item.trackingNumber.replace(/\s+/g, '').toUpperCase() : '';
    if (!TRACKING_NUMBER.test(trackingNumber)) {
      return { field: at('trackingNumber'), error: 'trackingNumber must be 8 to 40 letters and digits' };
    }
    const claim = { claimId: item.claimId as string, clientId: item.clientId as string, carrier, trackingNumber };
    const seen = byId.get(claim.claimId);
    if (seen !== undefined && !sameClaim(seen, claim)) {
      return { field: at('claimId'), error: `claim ${claim.claimId} is in this batch twice with different values` };
    }
    byId.set(claim.claimId, claim);
  }
  return { claims: [...byId.values()] };
}

export function sameClaim(a: ClaimRegistration, b: ClaimRegistration): boolean {
  return a.claimId === b.claimId && a.clientId === b.clientId && a.carrier === b.carrier && a.trackingNumber === b.trackingNumber;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
