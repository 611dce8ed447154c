// Exact decimal numbers for money and metered quantities. Binary floats cannot hold 0.1, and
// their sums depend on the order of the terms: billing on them under-bills by a unit on some
// contracts. A Decimal is an integer (bigint) of units and a scale (digits after the point):
// sums and products are exact, whatever their size or order; only an explicit truncation
// turns one into an integer.

const DECIMAL_TEXT = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
const DECIMAL_TEXT_NO_LEADING_DIGIT = /^([+-]?)()\.(\d+)(?:[eE]([+-]?\d+))?$/;
/** Exponents beyond this are refused: `1e999999999` would be a billion digits. */
const MAX_EXPONENT = 1000;
const TEN = 10n;
/** 10^n for the scales sums meet most, so adding a term does not compute a power each time. */
const POWERS_OF_TEN = Array.from({ length: 64 }, (_, n) => TEN ** BigInt(n));
const tenTo = (n: number): bigint => POWERS_OF_TEN[n] ?? TEN ** BigInt(n);

export class DecimalError extends Error {
  override name = 'DecimalError';
}

export class Decimal {
  static readonly ZERO = new Decimal(0n, 0);

  /** value = units / 10^scale; scale >= 0. */
  private constructor(
    readonly units: bigint,
    readonly scale: number,
  ) {}

  /** units / 10^scale. */
  static of(units: bigint, scale: number): Decimal {
    if (!Number.isInteger(scale) || scale < 0) throw new DecimalError(`scale ${scale} is not a non-negative integer`);
    return new Decimal(units, scale).normalized();
  }

  /**
   * Reads a decimal as JSON writes a number (`12`, `-0.5`, `1.5e-7`), or a bigint or a safe
   * integer. Anything else — `NaN`, `Infinity`, `0x10`, `1,5`, an empty string — is refused with
   * the text named.
   */
  static parse(text: string | number | bigint): Decimal {
    if (typeof text === 'bigint') return new Decimal(text, 0);
    if (typeof text === 'number') {
      if (!Number.isSafeInteger(text)) throw new DecimalError(`${text} is not a safe integer: pass decimals as text`);
      return new Decimal(BigInt(text), 0);
    }
    const plain = parsePlain(text);
    if (plain !== undefined) return plain;
    const match = DECIMAL_TEXT.exec(text) ?? DECIMAL_TEXT_NO_LEADING_DIGIT.exec(text);
    if (match === null) throw new DecimalError(`'${text.length > 40 ? `${text.slice(0, 40)}…` : text}' is not a decimal number`);
    const [, sign = '', whole = '', fractionText = '', exponentText] = match;
    // Trailing zeros of the fraction go before the bigint is made: cheaper than normalizing it.
    const fraction = exponentText === undefined ? trimTrailingZeros(fractionText) : fractionText;
    const exponent = exponentText === undefined ? 0 : Number(exponentText);
    if (Math.abs(exponent) > MAX_EXPONENT) throw new DecimalError(`'${text}' has an exponent beyond ±${MAX_EXPONENT}`);
    let units = BigInt(`${sign === '-' ? '-' : ''}${whole}${fraction}` || '0');
    let scale = fraction.length - exponent;
    if (scale < 0) {
      units *= tenTo(-scale);
      scale = 0;
    }
    return new Decimal(units, scale).normalized();
  }

  /** Units at `scale` (>= this.scale), for adding to another of that scale. */
  unitsAt(scale: number): bigint {
    return scale === this.scale ? this.units : this.units * tenTo(scale - this.scale);
  }

  add(other: Decimal): Decimal {
    const scale = Math.max(this.scale, other.scale);
    return new Decimal(this.unitsAt(scale) + other.unitsAt(scale), scale).normalized();
  }

  sub(other: Decimal): Decimal {
    return this.add(other.negated());
  }

  mul(other: Decimal): Decimal {
    return new Decimal(this.units * other.units, this.scale + other.scale).normalized();
  }

  /**
   * This divided by `divisor`, rounded half to even at `scale` digits: a quotient such as an
   * upfront fee spread over 8,760 hours rarely ends. Division by zero throws.
   */
  dividedBy(divisor: Decimal, scale: number): Decimal {
    if (divisor.units === 0n) throw new DecimalError('division by zero');
    if (!Number.isInteger(scale) || scale < 0) throw new DecimalError(`scale ${scale} is not a non-negative integer`);
    // this / divisor = (u1 / 10^s1) / (u2 / 10^s2); at `scale`: u1 * 10^(scale + s2 - s1) / u2.
    const shift = scale + divisor.scale - this.scale;
    let numerator = shift >= 0 ? this.units * tenTo(shift) : this.units;
    let denominator = shift >= 0 ? divisor.units : divisor.units * tenTo(-shift);
    if (denominator < 0n) {
      numerator = -numerator;
      denominator = -denominator;
    }
    let quotient = numerator / denominator;
    const twiceRemainder = (numerator % denominator) * 2n * (numerator < 0n ? -1n : 1n);
    const away = numerator < 0n ? -1n : 1n;
    if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n !== 0n)) quotient += away;
    return Decimal.of(quotient, scale);
  }

  negated(): Decimal {
    return new Decimal(-this.units, this.scale);
  }

  sign(): -1 | 0 | 1 {
    return this.units === 0n ? 0 : this.units < 0n ? -1 : 1;
  }

  compare(other: Decimal): -1 | 0 | 1 {
    return this.sub(other).sign();
  }

  /** The integer part, toward zero: 2.9 → 2, -2.9 → -2. */
  truncated(): bigint {
    return this.scale === 0 ? this.units : this.units / tenTo(this.scale);
  }

  /** Plain notation, never an exponent: `0.000001`, `-12.5`, `370`. */
  toString(): string {
    if (this.scale === 0) return this.units.toString();
    const negative = this.units < 0n;
    const digits = (negative ? -this.units : this.units).toString().padStart(this.scale + 1, '0');
    const point = digits.length - this.scale;
    return `${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** Drops trailing zeros of the fraction, so equal values print alike and scales stay small. */
  private normalized(): Decimal {
    if (this.scale === 0) return this;
    if (this.units === 0n) return Decimal.ZERO;
    let { units, scale } = this;
    while (scale > 0 && units % TEN === 0n) {
      units /= TEN;
      scale -= 1;
    }
    return scale === this.scale ? this : new Decimal(units, scale);
  }
}

/**
 * A running sum, for millions of terms: keeps one bigint at the largest scale seen instead of
 * a new Decimal per term.
 */
export class DecimalSum {
  private units = 0n;
  private scale = 0;

  add(term: Decimal): void {
    if (term.scale > this.scale) {
      this.units *= tenTo(term.scale - this.scale);
      this.scale = term.scale;
    }
    this.units += term.unitsAt(this.scale);
  }

  value(): Decimal {
    return Decimal.of(this.units, this.scale);
  }
}

/** Most digits a plain decimal may have to be read through a float's integer range exactly (2^53 > 10^15). */
const PLAIN_DIGITS = 15;

/**
 * The common case, `-?\d+(\.\d+)?` of at most 15 digits, without a regex or a bigint from
 * text: a metering month parses millions of them. Anything else is left to the full parse.
 */
function parsePlain(text: string): Decimal | undefined {
  const length = text.length;
  let i = text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  const negative = i === 1;
  let units = 0;
  let digits = 0;
  let scale = 0;
  let point = -1;
  for (; i < length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      units = units * 10 + (c - 48);
      digits += 1;
      if (point >= 0) scale += 1;
    } else if (c === 46 /* . */ && point < 0 && digits > 0) {
      point = i;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > PLAIN_DIGITS || (point >= 0 && scale === 0)) return undefined;
  if (units === 0) return Decimal.ZERO;
  while (scale > 0 && units % 10 === 0) {
    units /= 10;
    scale -= 1;
  }
  return Decimal.of(BigInt(negative ? -units : units), scale);
}

function trimTrailingZeros(digits: string): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 48) end -= 1;
  return end === digits.length ? digits : digits.slice(0, end);
}
