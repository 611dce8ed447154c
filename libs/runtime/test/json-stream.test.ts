import { describe, expect, it } from 'vitest';
import { type JsonPath, JsonStreamError, streamJson, streamJsonBatches } from '../src/json-stream.ts';

async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(text: string, select: (path: JsonPath) => boolean, size = 7, numbersAsText = true) {
  const found: { path: JsonPath; value: unknown }[] = [];
  for await (const item of streamJson(chunksOf(text, size), { select, numbersAsText, source: 'doc.json' })) found.push(item);
  return found;
}

const items = (path: JsonPath) => path.length === 1;

describe('streamJson', () => {
  it('yields the items of a top-level array, numbers as their exact text, at any chunk size', async () => {
    const doc = ' [ {"a": 0.1, "b": [1, -2.5e3], "s": "x\\"]}{ 9"}, {"a": 12345678901234567890.5}, "é😀", null, true ] ';
    for (const size of [1, 2, 3, 7, 64, 4096]) {
      const found = await collect(doc, items, size);
      expect(found.map((f) => f.value)).toEqual([
        { a: '0.1', b: ['1', '-2.5e3'], s: 'x"]}{ 9' },
        { a: '12345678901234567890.5' },
        'é😀',
        null,
        true,
      ]);
      expect(found.map((f) => f.path)).toEqual([[0], [1], [2], [3], [4]]);
    }
  });

  it('hands the same values over a chunk at a time, never in an empty batch', async () => {
    const doc = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ i, pad: 'x'.repeat(i % 7) })));
    const batches: unknown[][] = [];
    for await (const batch of streamJsonBatches(chunksOf(doc, 40), { select: items, numbersAsText: false })) {
      batches.push(batch.map((item) => item.value));
    }
    expect(batches.length).toBeGreaterThan(10);
    expect(batches.every((batch) => batch.length > 0)).toBe(true);
    expect(batches.flat()).toEqual(JSON.parse(doc));
  });

  it('parses a run of items together and keeps them apart from an item not selected between them', async () => {
    const values = Array.from({ length: 40 }, (_, i) => ({ i, price: i % 3 === 0 ? 0.1 : `t${i}`, nested: [i, { s: ',]' }] }));
    const doc = `[\n${values.map((v) => JSON.stringify(v)).join(' ,\n ')}\n]`;
    const notFive = (p: JsonPath) => p.length === 1 && p[0] !== 5;
    for (const size of [5, 64, 100_000]) {
      const found = await collect(doc, notFive, size, false);
      expect(found.map((f) => f.path)).toEqual(values.map((_, i) => [i]).filter(([i]) => i !== 5));
      expect(found.map((f) => f.value)).toEqual(values.filter((v) => v.i !== 5));
    }
    const asText = await collect(doc, items, 100_000);
    expect(asText[3]?.value).toEqual({ i: '3', price: '0.1', nested: ['3', { s: ',]' }] });
  });

  it('names the bad item of a run, where it begins, as if each were read alone', async () => {
    const doc = '[{"a": 1}, {"a": 2}, {"a": 3, "b": "\\x"}, {"a": 4}]';
    const at = doc.indexOf('{"a": 3');
    for (const size of [3, 4096]) {
      await expect(collect(doc, items, size)).rejects.toThrow(`doc.json: malformed value at [2] (`);
      await expect(collect(doc, items, size)).rejects.toThrow(new RegExp(`at byte ${at}$`));
    }
    // A number malformed in a run is named at its own place.
    const badNumber = '[{"a": 1}, {"a": 2-}]';
    await expect(collect(badNumber, items, 4096)).rejects.toThrow(`malformed number '2-' at byte ${badNumber.indexOf('2-')}`);
  });

  it('names the byte where a document goes wrong, after characters of several bytes too', async () => {
    const doc = `${JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ i, name: i % 2 === 0 ? 'São Paulo 😀' : 'Ohio' })))}x`;
    const at = Buffer.byteLength(doc) - 1;
    for (const size of [1, 5, 64, 4096]) {
      await expect(collect(doc, items, size)).rejects.toThrow(`unexpected text after the document at byte ${at}`);
    }
  });

  it('gives numbers as numbers when asked', async () => {
    const found = await collect('[{"a": 1.5}]', items, 3, false);
    expect(found[0]?.value).toEqual({ a: 1.5 });
  });

  it('selects members deep inside objects by path, skipping the rest', async () => {
    const doc = JSON.stringify({
      formatVersion: 'v1.0',
      products: { SKU1: { sku: 'SKU1', attributes: { vcpu: '2' } }, SKU2: { sku: 'SKU2' } },
      terms: { OnDemand: { SKU1: { x: { priceDimensions: {} } } } },
    });
    const found = await collect(
      doc,
      (p) => (p[0] === 'products' && p.length === 2) || (p[0] === 'terms' && p.length === 3) || p[0] === 'formatVersion',
    );
    expect(found).toEqual([
      { path: ['formatVersion'], value: 'v1.0' },
      { path: ['products', 'SKU1'], value: { sku: 'SKU1', attributes: { vcpu: '2' } } },
      { path: ['products', 'SKU2'], value: { sku: 'SKU2' } },
      { path: ['terms', 'OnDemand', 'SKU1'], value: { x: { priceDimensions: {} } } },
    ]);
  });

  it('fails on malformed JSON anywhere, naming the source and the character', async () => {
    const bad = [
      '[{"a": 1}, {"a": 2]',
      '[{"a": 1} {"a": 2}]',
      '[{"a": 1},]',
      '[{"a": 01}]',
      '[{"a": 1.2.3}]',
      '[{"a": 1}] x',
      '[{"a": 1}',
      '{"a" 1}',
      '[tru]',
      '["unterminated',
      '',
    ];
    for (const doc of bad) {
      await expect(collect(doc, items), doc).rejects.toThrow(JsonStreamError);
      await expect(
        collect(doc, () => false),
        doc,
      ).rejects.toThrow(/doc\.json: .* at byte \d+/);
    }
  });

  it('refuses a selected value longer than its bound instead of holding it', async () => {
    const doc = `[${JSON.stringify({ big: 'x'.repeat(10_000) })}]`;
    const stream = streamJson(chunksOf(doc, 100), { select: items, maxValueChars: 1000, source: 'big.json' });
    await expect(
      (async () => {
        for await (const _ of stream) {
          /* drain */
        }
      })(),
    ).rejects.toThrow(/longer than 1000 characters/);
  });

  it('fails a document of another kind than the one required', async () => {
    for (const doc of ['{"a": 1}', '"text"', '12']) {
      const stream = streamJson(chunksOf(doc, 3), { select: items, root: 'array', source: 'root.json' });
      await expect(
        (async () => {
          for await (const _ of stream) {
            /* drain */
          }
        })(),
        doc,
      ).rejects.toThrow(/root\.json: the document is not a JSON array at byte 0/);
    }
  });

  it('refuses bytes that are not UTF-8', async () => {
    async function* bytes() {
      yield new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d]);
    }
    const stream = streamJson(bytes(), { select: items, source: 'bin.json' });
    await expect(
      (async () => {
        for await (const _ of stream) {
          /* drain */
        }
      })(),
    ).rejects.toThrow(/not valid UTF-8/);
  });
});
