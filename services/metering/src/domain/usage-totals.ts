// Totals of a plan-month's usage records per contract (= externalPayerId) and base dimension:
// the quantity and the total price (pricePerUnit × value), exact. The original script truncated
// each record's value to an integer before summing, which drops real usage (370 core-hours in
// records of 0.5 are billed 0); here the sum comes first, and `truncateEachRecord` gives the
// original's arithmetic for those who must match past bills: each record's value is truncated
// before it is used, for the quantity and the price alike.
import { Decimal, DecimalError, DecimalSum } from '@tickflow/runtime';
import { BASE_DIMENSIONS, type BaseDimension } from './dimensions.ts';

export interface DimensionTotal {
  quantity: Decimal;
  totalPrice: Decimal;
}

export type ContractTotals = ReadonlyMap<BaseDimension, DimensionTotal>;

export type SkipReason =
  | 'no externalPayerId'
  | 'no dimension'
  | 'unknown dimension'
  | 'value not a number'
  | 'pricePerUnit not a number'
  | 'not an object';

const DIMENSION_INDEX = new Map<string, number>(BASE_DIMENSIONS.map((d, i) => [d, i]));

export class UsageTotals {
  recordsRead = 0;
  recordsSkipped = 0;
  readonly skippedByReason = new Map<SkipReason, number>();
  /** Per contract, per base dimension: [quantity, total price]. */
  private readonly sums = new Map<string, DecimalSum[]>();

  constructor(private readonly options: { truncateEachRecord: boolean }) {}

  /** Adds one record as the export has it (numbers as their text); a record that cannot count is skipped and counted. */
  add(record: unknown): void {
    this.recordsRead += 1;
    const skipped = this.tally(record);
    if (skipped !== undefined) {
      this.recordsSkipped += 1;
      this.skippedByReason.set(skipped, (this.skippedByReason.get(skipped) ?? 0) + 1);
    }
  }

  /** Adds the record to its contract's sums, or says why it cannot count. */
  private tally(record: unknown): SkipReason | undefined {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not an object';
    const { externalPayerId, dimension, value, pricePerUnit } = record as Record<string, unknown>;
    if (typeof externalPayerId !== 'string' || externalPayerId === '') return 'no externalPayerId';
    if (typeof dimension !== 'string' || dimension === '') return 'no dimension';
    const index = DIMENSION_INDEX.get(dimension);
    if (index === undefined) return 'unknown dimension';
    let quantity: Decimal;
    let price: Decimal;
    try {
      quantity = Decimal.parse(decimalText(value));
    } catch (error) {
      if (error instanceof DecimalError) return 'value not a number';
      throw error;
    }
    try {
      price = pricePerUnit === undefined || pricePerUnit === null ? Decimal.ZERO : Decimal.parse(decimalText(pricePerUnit));
    } catch (error) {
      if (error instanceof DecimalError) return 'pricePerUnit not a number';
      throw error;
    }
    if (this.options.truncateEachRecord) quantity = Decimal.parse(quantity.truncated());
    let sums = this.sums.get(externalPayerId);
    if (sums === undefined) {
      sums = Array.from({ length: BASE_DIMENSIONS.length * 2 }, () => new DecimalSum());
      this.sums.set(externalPayerId, sums);
    }
    (sums[index * 2] as DecimalSum).add(quantity);
    (sums[index * 2 + 1] as DecimalSum).add(price.units === 0n ? Decimal.ZERO : price.mul(quantity));
    return undefined;
  }

  contractIds(): string[] {
    return [...this.sums.keys()].sort();
  }

  /** A contract's totals; a base dimension it has no records for is 0. */
  totalsOf(contractId: string): ContractTotals {
    const sums = this.sums.get(contractId);
    return new Map(
      BASE_DIMENSIONS.map((d, i) => [
        d,
        {
          quantity: sums ? (sums[i * 2] as DecimalSum).value() : Decimal.ZERO,
          totalPrice: sums ? (sums[i * 2 + 1] as DecimalSum).value() : Decimal.ZERO,
        },
      ]),
    );
  }
}

/** JSON numbers arrive as their text; a string holding a number is taken too, anything else is not a number. */
function decimalText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}
