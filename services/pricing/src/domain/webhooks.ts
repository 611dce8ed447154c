// Webhooks, as pure rules: what a registration must hold, which changes a subscriber wants,
// how a delivery is signed, and which addresses a delivery must never reach (SSRF): loopback,
// private, link-local (cloud metadata at 169.254.169.254), unique-local and unspecified ones.
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';

export interface WebhookFilter {
  clouds: string[];
  regions: string[];
  /** Instance families as in the type's name before the dot: `m5`, `c7g`. */
  instanceFamilies: string[];
  /** Price moves of at least this many percent (up or down); added and removed rows always count. */
  minPercent: string;
}

export interface WebhookRegistration extends WebhookFilter {
  url: string;
}

/** A registration from a request body, or the problem with it naming its field. */
export function readRegistration(body: unknown): { registration: WebhookRegistration } | { field: string; error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { field: 'body', error: 'the body must be a JSON object' };
  const b = body as Record<string, unknown>;
  if (typeof b.url !== 'string') return { field: 'url', error: 'url must be a string' };
  let url: URL;
  try {
    url = new URL(b.url);
  } catch {
    return { field: 'url', error: `url '${b.url}' is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { field: 'url', error: 'url must be http or https' };
  if (url.username !== '' || url.password !== '') return { field: 'url', error: 'url must not carry credentials' };
  const lists: Record<'clouds' | 'regions' | 'instanceFamilies', string[]> = { clouds: [], regions: [], instanceFamilies: [] };
  for (const field of ['clouds', 'regions', 'instanceFamilies'] as const) {
    const value = b[field];
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && /^[a-z0-9-]{1,40}$/.test(v))) {
      return {
        field,
        error: `${field} must be a list of lower-case names such as ${field === 'regions' ? 'us-east-1' : field === 'clouds' ? 'aws' : 'm5'}`,
      };
    }
    lists[field] = value as string[];
  }
  const minPercent = b.minPercent ?? 0;
  if (typeof minPercent !== 'number' || !Number.isFinite(minPercent) || minPercent < 0 || minPercent > 10_000) {
    return { field: 'minPercent', error: 'minPercent must be a number from 0 to 10000' };
  }
  return { registration: { url: url.toString(), ...lists, minPercent: String(minPercent) } };
}

/** The family of an instance type: `m5.large` → `m5`. */
export const familyOf = (instanceType: string) => instanceType.split('.')[0] ?? instanceType;

/** `X-Tickflow-Signature`: HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret, hex. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Why an address must not be reached by a webhook, or null when it may. */
export function forbiddenAddress(address: string): string | null {
  const version = isIP(address);
  if (version === 4) return forbiddenV4(address);
  if (version === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return forbiddenV4(mapped[1] as string);
    if (lower === '::1') return 'a loopback address';
    if (lower === '::') return 'the unspecified address';
    if (/^f[cd]/.test(lower)) return 'a unique-local (private) address';
    if (/^fe[89ab]/.test(lower)) return 'a link-local address';
    return null;
  }
  return 'not an IP address';
}

function forbiddenV4(address: string): string | null {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 127) return 'a loopback address';
  if (a === 0) return 'the unspecified network';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address';
  if (a === 169 && b === 254) return 'a link-local address (cloud metadata lives there)';
  if (a === 100 && b >= 64 && b <= 127) return 'a carrier-grade NAT address';
  if (a >= 224) return 'a multicast or reserved address';
  return null;
}
