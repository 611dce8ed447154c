// The seed's approach to one region, as its sync script does it, for the benchmark to measure
// beside tickflow: the whole offer file fetched into memory and parsed with JSON.parse, the
// products joined to their terms in memory, and the catalogue written out as one JSON file
// (the seed's cache.json). The rows are read with the same functions tickflow uses, so the
// difference measured is the approach, not the reading of a row.
// Usage: tsx seed-approach.ts <offer file URL> <output file>; prints {ms, bytes, rows, maxRssBytes}.
import { writeFileSync } from 'node:fs';
import { readProduct, readTerms, type TermKind } from '../src/domain/ec2-offer.ts';

const [url, out] = process.argv.slice(2) as [string, string];
const started = performance.now();
const text = await (await fetch(url)).text();
const file = JSON.parse(text) as { products: Record<string, unknown>; terms: Record<TermKind, Record<string, unknown>> };
const rows: Record<string, unknown>[] = [];
for (const [sku, value] of Object.entries(file.products)) {
  const read = readProduct(sku, value);
  if (read.kind !== 'instance') continue;
  for (const kind of ['OnDemand', 'Reserved'] as const) {
    const terms = file.terms[kind]?.[sku];
    if (terms === undefined) continue;
    for (const rate of readTerms(kind, sku, terms).rates) rows.push({ ...read.product, ...rate });
  }
}
writeFileSync(out, JSON.stringify(rows));
console.log(
  JSON.stringify({
    ms: performance.now() - started,
    bytes: Buffer.byteLength(text),
    rows: rows.length,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
