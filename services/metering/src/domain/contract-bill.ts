// What one contract is billed for a month: each configured dimension's formula over the
// contract's totals, truncated (never rounded up) to a non-negative integer, sent as a string.
// A formula that cannot be computed for the contract (division by zero, a negative result)
// skips the whole contract for the month, so nothing partial is sent for it.
import type { CustomDimension } from './dimensions.ts';
import { FormulaEvaluationError, Fraction } from './formula.ts';
import type { ContractTotals } from './usage-totals.ts';

export interface BillLine {
  dimension: string;
  /** A non-negative integer, as text: the exact quantity Clazar receives. */
  quantity: string;
}

export type ContractBill = { lines: BillLine[] } | { skipped: string };

export function billContract(totals: ContractTotals, dimensions: readonly CustomDimension[]): ContractBill {
  const variables = new Map<string, Fraction>();
  for (const [dimension, total] of totals) {
    variables.set(dimension, Fraction.ofDecimal(total.quantity.units, total.quantity.scale));
    variables.set(`${dimension}_total_price`, Fraction.ofDecimal(total.totalPrice.units, total.totalPrice.scale));
  }
  const lines: BillLine[] = [];
  for (const dimension of dimensions) {
    let value: Fraction;
    try {
      value = dimension.formula.evaluate(variables);
    } catch (error) {
      if (error instanceof FormulaEvaluationError) return { skipped: `dimension ${dimension.name}: ${error.message}` };
      throw error;
    }
    const quantity = value.truncated();
    if (value.n < 0n) return { skipped: `dimension ${dimension.name}: negative result ${value.truncated()} (${dimension.formula.source})` };
    lines.push({ dimension: dimension.name, quantity: quantity.toString() });
  }
  return { lines };
}
