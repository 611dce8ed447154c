// Reads a JSON document as a stream and hands over the values it is asked for, one at a time,
// without holding the document: a usage export of a million records, an AWS offer file of
// 400 MB. The caller says which values it wants by their path (`select`): each selected value
// is parsed whole (JSON.parse, on that value's text only) and yielded; everything around it is
// only tokenised, checked and dropped. So memory is bounded by the largest selected value, not
// the file, and a file that is malformed anywhere fails with the character where it goes wrong.
//
// Numbers come as their text (strings) unless `numbersAsText: false`: JSON.parse would turn
// `0.1` into the nearest binary float, and sums of those depend on their order. Read them with
// Decimal.parse.

import { isAscii } from 'node:buffer';

export type JsonPath = readonly (string | number)[];

export interface JsonStreamOptions {
  /** True for the paths whose values are wanted whole: `[i]` for the items of a top-level array, `['products', sku]`… */
  select(path: JsonPath): boolean;
  /** Numbers inside selected values as their source text (default true), so decimals stay exact. */
  numbersAsText?: boolean;
  /** A selected value longer than this (characters) fails the stream, so no file is read whole by mistake. Default 64 MiB. */
  maxValueChars?: number;
  /** Named in errors: a file name, an S3 key. */
  source?: string;
  /** The document must be an array (or an object): anything else fails the stream. */
  root?: 'array' | 'object';
}

export interface JsonStreamValue {
  path: JsonPath;
  value: unknown;
}

export class JsonStreamError extends Error {
  override name = 'JsonStreamError';
}

type Frame =
  | { type: 'array'; index: number; state: 'firstOrEnd' | 'value' | 'commaOrEnd' }
  | { type: 'object'; key: string; state: 'keyOrEnd' | 'key' | 'colon' | 'value' | 'commaOrEnd' };

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const QUOTE = 34;
const BACKSLASH = 92;

function isWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;
}

/** Yields each selected value of the JSON document read from `chunks`, in document order. */
export async function* streamJson(chunks: AsyncIterable<Uint8Array | string>, options: JsonStreamOptions): AsyncGenerator<JsonStreamValue> {
  for await (const batch of streamJsonBatches(chunks, options)) yield* batch;
}

/**
 * The same values, a chunk's worth at a time (never an empty batch): for a million small
 * values, one await per chunk instead of one per value is most of the time saved.
 */
export async function* streamJsonBatches(
  chunks: AsyncIterable<Uint8Array | string>,
  options: JsonStreamOptions,
): AsyncGenerator<JsonStreamValue[]> {
  const reader = new JsonStreamReader(options);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // ASCII, most JSON, needs no UTF-8 decoding: latin1 reads it as is, three times as fast.
  // Once a chunk is not ASCII the decoder reads the rest, as it may hold a character's first bytes.
  let decoding = false;
  for await (const chunk of chunks) {
    let text: string;
    try {
      if (typeof chunk === 'string') {
        reader.ascii = false;
        text = chunk;
      } else if (!decoding && isAscii(chunk)) text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
      else {
        decoding = true;
        reader.ascii = false;
        text = decoder.decode(chunk, { stream: true });
      }
    } catch {
      throw reader.error('is not valid UTF-8');
    }
    const batch = reader.push(text);
    if (batch.length > 0) yield batch;
  }
  const last = reader.end(decoder.decode());
  if (last.length > 0) yield last;
}

class JsonStreamReader {
  private buffer = '';
  /** Position in `buffer` of the next character to look at. */
  private pos = 0;
  /** Characters dropped from the front of `buffer` so far. */
  private dropped = 0;
  /** The UTF-8 bytes those characters were: positions in errors are bytes from the document's start. */
  private droppedBytes = 0;
  /** Every character so far was one byte, so characters count bytes without encoding them again. */
  ascii = true;
  private readonly stack: Frame[] = [];
  private rootDone = false;
  /** A selected value being read: where it began, its depth so far, and where its numbers are. */
  private capture: { start: number; path: JsonPath; depth: number; inString: boolean; numbers: number[]; scalar: boolean } | undefined;
  /**
   * Selected items of one array read but not parsed yet: consecutive, so their text is one
   * slice of the buffer, parsed with one JSON.parse instead of one per item. Where each item
   * begins and ends is kept to name the bad one if that parse fails.
   */
  private run: { parent: Frame; starts: number[]; ends: number[]; paths: JsonPath[]; numbers: number[] } | undefined;
  private readonly numbersAsText: boolean;
  private readonly maxValueChars: number;

  constructor(private readonly options: JsonStreamOptions) {
    this.numbersAsText = options.numbersAsText ?? true;
    this.maxValueChars = options.maxValueChars ?? 64 * 1024 * 1024;
  }

  /** An error at `at`, a character of the document (the current one unless given), named by its byte offset. */
  error(problem: string, at = this.dropped + this.pos): JsonStreamError {
    const inBuffer = Math.max(0, Math.min(at - this.dropped, this.buffer.length));
    const byte = this.droppedBytes + (this.ascii ? inBuffer : Buffer.byteLength(this.buffer.slice(0, inBuffer)));
    return new JsonStreamError(`${this.options.source ?? 'JSON'}: ${problem} at byte ${byte}`);
  }

  /** The values completed by `text`. */
  push(text: string): JsonStreamValue[] {
    this.buffer = this.buffer.length === 0 ? text : this.buffer + text;
    const found: JsonStreamValue[] = [];
    this.scanAndParse(false, found);
    this.compact();
    return found;
  }

  end(text: string): JsonStreamValue[] {
    this.buffer += text;
    const found: JsonStreamValue[] = [];
    this.scanAndParse(true, found);
    if (this.capture !== undefined || this.stack.length > 0 || !this.rootDone) throw this.error('the document ends too soon');
    return found;
  }

  /** Drops what has been read, keeping an unfinished token or selected value. */
  private compact(): void {
    const keep = this.capture?.start ?? this.pos;
    if (keep > 0) {
      this.droppedBytes += this.ascii ? keep : Buffer.byteLength(this.buffer.slice(0, keep));
      this.buffer = this.buffer.slice(keep);
      this.dropped += keep;
      this.pos -= keep;
      if (this.capture !== undefined) {
        const shift = this.capture.start;
        this.capture.start = 0;
        this.capture.numbers = this.capture.numbers.map((n) => n - shift);
      }
    }
  }

  /** Scans, then parses the run left: a problem in a value read earlier is the one named, as the document goes. */
  private scanAndParse(final: boolean, found: JsonStreamValue[]): void {
    try {
      this.scan(final, found);
    } catch (error) {
      this.parseRun(found);
      throw error;
    }
    this.parseRun(found);
  }

  private currentPath(): (string | number)[] {
    return this.stack.map((frame) => (frame.type === 'array' ? frame.index : frame.key));
  }

  private scan(final: boolean, found: JsonStreamValue[]): void {
    const buffer = this.buffer;
    while (true) {
      if (this.capture !== undefined) {
        const done = this.readCapture(final);
        if (!done) return;
        this.finishCapture(found);
        continue;
      }
      while (this.pos < buffer.length && isWhitespace(buffer.charCodeAt(this.pos))) this.pos += 1;
      if (this.pos >= buffer.length) return;
      const c = buffer.charCodeAt(this.pos);
      const frame = this.stack[this.stack.length - 1];
      if (frame === undefined) {
        if (this.rootDone) throw this.error('unexpected text after the document');
        if (!this.beginValue([], final)) return;
        continue;
      }
      if (frame.type === 'array') {
        if (c === 93 /* ] */ && frame.state !== 'value') {
          this.pos += 1;
          this.closeFrame();
          continue;
        }
        if (frame.state === 'commaOrEnd') {
          if (c !== 44 /* , */) throw this.error("expected ',' or ']'");
          this.pos += 1;
          frame.index += 1;
          frame.state = 'value';
          continue;
        }
        const path = this.currentPath();
        if (!this.beginValue(path, final)) return;
        frame.state = 'commaOrEnd';
        continue;
      }
      switch (frame.state) {
        case 'keyOrEnd':
        case 'key': {
          if (c === 125 /* } */ && frame.state === 'keyOrEnd') {
            this.pos += 1;
            this.closeFrame();
            continue;
          }
          if (c !== QUOTE) throw this.error('expected a quoted key');
          const end = this.stringEnd(this.pos);
          if (end < 0) {
            if (final) throw this.error('unterminated string');
            return;
          }
          frame.key = JSON.parse(buffer.slice(this.pos, end)) as string;
          this.pos = end;
          frame.state = 'colon';
          continue;
        }
        case 'colon':
          if (c !== 58 /* : */) throw this.error("expected ':'");
          this.pos += 1;
          frame.state = 'value';
          continue;
        case 'value': {
          // The frame's state moves on first: a selected container captured below is read whole.
          frame.state = 'commaOrEnd';
          if (!this.beginValue(this.currentPath(), final)) {
            frame.state = 'value';
            return;
          }
          continue;
        }
        case 'commaOrEnd':
          if (c === 125 /* } */) {
            this.pos += 1;
            this.closeFrame();
            continue;
          }
          if (c !== 44 /* , */) throw this.error("expected ',' or '}'");
          this.pos += 1;
          frame.state = 'key';
          continue;
      }
    }
  }

  private closeFrame(): void {
    this.stack.pop();
    if (this.stack.length === 0) this.rootDone = true;
  }

  /**
   * At the start of a value at `path`: a selected one is captured, a container not selected is
   * entered, a scalar not selected is checked and skipped. False when the buffer ends inside a
   * scalar that is not selected (more text is needed).
   */
  private beginValue(path: JsonPath, final: boolean): boolean {
    const c = this.buffer.charCodeAt(this.pos);
    const container = c === 123 /* { */ || c === 91; /* [ */
    const root = this.options.root;
    if (this.stack.length === 0 && root !== undefined && c !== (root === 'array' ? 91 : 123)) {
      throw this.error(`the document is not a JSON ${root}`);
    }
    if (this.options.select(path)) {
      this.capture = { start: this.pos, path, depth: 0, inString: false, numbers: [], scalar: !container };
      if (this.stack.length === 0) this.rootDone = true;
      return true;
    }
    if (container) {
      this.pos += 1;
      this.stack.push(c === 123 ? { type: 'object', key: '', state: 'keyOrEnd' } : { type: 'array', index: 0, state: 'firstOrEnd' });
      return true;
    }
    const end = this.scalarEnd(this.pos, final);
    if (end < 0) return false;
    this.checkScalar(this.buffer.slice(this.pos, end));
    this.pos = end;
    if (this.stack.length === 0) this.rootDone = true;
    return true;
  }

  /** Where the scalar at `from` ends, or -1 if the buffer ends first and more may come. */
  private scalarEnd(from: number, final: boolean): number {
    const buffer = this.buffer;
    if (buffer.charCodeAt(from) === QUOTE) {
      const end = this.stringEnd(from);
      if (end < 0 && final) throw this.error('unterminated string');
      return end;
    }
    let end = from;
    while (end < buffer.length) {
      const c = buffer.charCodeAt(end);
      if (!(isNumberChar(c) || (c >= 97 && c <= 122))) break;
      end += 1;
    }
    if (end === from) throw this.error(`unexpected '${buffer[from]}'`);
    return end === buffer.length && !final ? -1 : end;
  }

  private checkScalar(token: string): void {
    if (token === 'true' || token === 'false' || token === 'null' || NUMBER.test(token)) return;
    if (token.charCodeAt(0) === QUOTE) {
      try {
        JSON.parse(token);
        return;
      } catch {
        throw this.error('malformed string');
      }
    }
    throw this.error(`unexpected '${token.slice(0, 20)}'`);
  }

  /** Position after the closing quote of the string opening at `from`, or -1 if it does not close in the buffer. */
  private stringEnd(from: number): number {
    const quote = this.closingQuote(from + 1);
    return quote < 0 ? -1 : quote + 1;
  }

  /**
   * The first unescaped quote at or after `from`, inside a string, or -1 if the buffer ends
   * first. indexOf rather than a loop over characters: strings are most of a document.
   */
  private closingQuote(from: number): number {
    const buffer = this.buffer;
    let i = from;
    while (true) {
      const quote = buffer.indexOf('"', i);
      if (quote < 0) return -1;
      // The backslashes before it stop at the string's opening quote, which is still in the buffer.
      let backslashes = 0;
      for (let j = quote - 1; buffer.charCodeAt(j) === BACKSLASH; j -= 1) backslashes += 1;
      if (backslashes % 2 === 0) return quote;
      i = quote + 1;
    }
  }

  /** Reads on in the selected value; true once it is complete (this.pos after it). */
  private readCapture(final: boolean): boolean {
    const capture = this.capture as NonNullable<typeof this.capture>;
    const buffer = this.buffer;
    if (capture.scalar) {
      const end = this.scalarEnd(this.pos, final);
      if (end < 0) return false;
      this.pos = end;
      return true;
    }
    let i = this.pos;
    let depth = capture.depth;
    let inString = capture.inString;
    const length = buffer.length;
    while (i < length) {
      if (inString) {
        const quote = this.closingQuote(i);
        if (quote < 0) {
          i = length;
          break;
        }
        inString = false;
        i = quote + 1;
        continue;
      }
      const c = buffer.charCodeAt(i);
      if (c === QUOTE) inString = true;
      else if (c === 123 || c === 91) depth += 1;
      else if (c === 125 || c === 93) {
        depth -= 1;
        if (depth === 0) {
          this.pos = i + 1;
          capture.depth = 0;
          return true;
        }
      } else if ((c >= 48 && c <= 57) || c === 45) {
        let end = i + 1;
        while (end < length && isNumberChar(buffer.charCodeAt(end))) end += 1;
        if (end === length && !final) break;
        capture.numbers.push(i, end);
        i = end;
        continue;
      }
      i += 1;
    }
    this.pos = i;
    capture.depth = depth;
    capture.inString = inString;
    if (this.pos - capture.start > this.maxValueChars) {
      throw this.error(
        `a value at ${JSON.stringify(capture.path)} is longer than ${this.maxValueChars} characters`,
        this.dropped + capture.start,
      );
    }
    if (final) throw this.error('the document ends inside a value');
    return false;
  }

  /** A selected value read whole: parsed at once, or added to the run of its array's items. */
  private finishCapture(found: JsonStreamValue[]): void {
    const capture = this.capture as NonNullable<typeof this.capture>;
    this.capture = undefined;
    const parent = this.stack[this.stack.length - 1];
    if (capture.scalar || parent?.type !== 'array') {
      this.parseRun(found);
      found.push(this.parseValue(capture.start, this.pos, capture.numbers, capture.path, capture.scalar));
      return;
    }
    const run = this.run;
    if (run !== undefined && run.parent === parent && this.onlyCommaBetween(run.ends[run.ends.length - 1] as number, capture.start)) {
      run.starts.push(capture.start);
      run.ends.push(this.pos);
      run.paths.push(capture.path);
      for (const n of capture.numbers) run.numbers.push(n);
      return;
    }
    this.parseRun(found);
    this.run = { parent, starts: [capture.start], ends: [this.pos], paths: [capture.path], numbers: capture.numbers };
  }

  /** Whether only whitespace and the comma lie between two items: no item not selected between them. */
  private onlyCommaBetween(from: number, to: number): boolean {
    for (let i = from; i < to; i += 1) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 44 && !isWhitespace(c)) return false;
    }
    return true;
  }

  private parseRun(found: JsonStreamValue[]): void {
    const run = this.run;
    if (run === undefined) return;
    this.run = undefined;
    const { starts, ends, paths, numbers } = run;
    let values: unknown;
    try {
      values = JSON.parse(`[${this.valueText(starts[0] as number, ends[ends.length - 1] as number, numbers)}]`);
    } catch {
      values = undefined;
    }
    if (Array.isArray(values) && values.length === paths.length) {
      for (let i = 0; i < paths.length; i += 1) found.push({ path: paths[i] as JsonPath, value: values[i] });
      return;
    }
    // One of them is bad: each on its own names it, with its place in the document.
    let n = 0;
    for (let i = 0; i < paths.length; i += 1) {
      const own: number[] = [];
      for (; n < numbers.length && (numbers[n] as number) < (ends[i] as number); n += 2)
        own.push(numbers[n] as number, numbers[n + 1] as number);
      found.push(this.parseValue(starts[i] as number, ends[i] as number, own, paths[i] as JsonPath, false));
    }
  }

  private parseValue(start: number, end: number, numbers: number[], path: JsonPath, scalar: boolean): JsonStreamValue {
    let text: string;
    if (scalar) {
      text = this.buffer.slice(start, end);
      this.checkScalar(text);
      if (this.numbersAsText && NUMBER.test(text)) return { path, value: text };
    } else {
      text = this.valueText(start, end, numbers);
    }
    try {
      return { path, value: JSON.parse(text) };
    } catch (error) {
      throw this.error(`malformed value at ${JSON.stringify(path)} (${(error as Error).message})`, this.dropped + start);
    }
  }

  /** The text from `start` to `end`, its numbers (start and end positions, in pairs) quoted when they are wanted as text. */
  private valueText(start: number, end: number, numbers: number[]): string {
    const buffer = this.buffer;
    if (!this.numbersAsText || numbers.length === 0) return buffer.slice(start, end);
    const pieces: string[] = [];
    let last = start;
    for (let n = 0; n < numbers.length; n += 2) {
      const from = numbers[n] as number;
      const to = numbers[n + 1] as number;
      const number = buffer.slice(from, to);
      if (!NUMBER.test(number)) throw this.error(`malformed number '${number.slice(0, 20)}'`, this.dropped + from);
      pieces.push(buffer.slice(last, from), '"', number, '"');
      last = to;
    }
    pieces.push(buffer.slice(last, end));
    return pieces.join('');
  }
}
