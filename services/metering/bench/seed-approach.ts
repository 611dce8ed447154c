// The seed's approach to one plan-month, as its script does it, for the benchmark to measure
// beside metering in the same run: list the prefix, read each file whole and JSON.parse it,
// total in binary floats (each record truncated, as the original), then authenticate and send
// one contract after another. Run as its own process so its peak RSS is its own; prints one
// JSON line: {ms, records, contracts, maxRssBytes}.
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client, loadInfrastructure } from '@tickflow/runtime';

const [bucket, prefix, clazarUrl, clientId, clientSecret, start, end] = process.argv.slice(2) as string[];
const s3 = createS3Client(loadInfrastructure({ TICKFLOW_ENV: 'local', ...process.env }).s3);
const began = performance.now();

const keys: string[] = [];
let token: string | undefined;
do {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
  for (const o of page.Contents ?? []) if (o.Key?.endsWith('.json')) keys.push(o.Key);
  token = page.IsTruncated ? page.NextContinuationToken : undefined;
} while (token);

const totals = new Map<string, Map<string, number>>();
let records = 0;
for (const key of keys) {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const rows = JSON.parse(await (object.Body as { transformToString(): Promise<string> }).transformToString()) as {
    externalPayerId?: string;
    dimension?: string;
    value: number | string;
  }[];
  for (const row of rows) {
    records += 1;
    if (!row.externalPayerId || !row.dimension) continue;
    const contract = totals.get(row.externalPayerId) ?? new Map<string, number>();
    totals.set(row.externalPayerId, contract);
    contract.set(row.dimension, (contract.get(row.dimension) ?? 0) + Math.trunc(Number(row.value)));
  }
}

const auth = await fetch(`${clazarUrl}/authenticate/`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ client_id: clientId, client_secret: clientSecret }),
});
const { access_token } = (await auth.json()) as { access_token: string };
for (const [contractId, dimensions] of totals) {
  const request = [...dimensions].map(([dimension, total]) => ({
    cloud: 'aws',
    contract_id: contractId,
    dimension,
    start_time: start,
    end_time: end,
    quantity: String(Math.max(0, Math.trunc(total))),
  }));
  const response = await fetch(`${clazarUrl}/metering/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
    body: JSON.stringify({ request }),
  });
  if (!response.ok) throw new Error(`Clazar answered ${response.status} for ${contractId}`);
  await response.text();
}
console.log(
  JSON.stringify({ ms: performance.now() - began, records, contracts: totals.size, maxRssBytes: process.resourceUsage().maxRSS * 1024 }),
);
