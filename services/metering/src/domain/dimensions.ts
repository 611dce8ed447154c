// The dimensions sent to Clazar. An export has four base dimensions; what is billed is the
// configured ones only, each a formula over the base dimensions and their total prices
// (`DIMENSION_pod_hours="cpu_core_hours / 2"`). A base dimension is sent as it is by a formula
// naming it (`DIMENSION_cpu_core_hours=cpu_core_hours`).
import { type Formula, FormulaError, parseFormula } from './formula.ts';

export const BASE_DIMENSIONS = ['cpu_core_hours', 'memory_byte_hours', 'storage_allocated_byte_hours', 'replica_hours'] as const;
export type BaseDimension = (typeof BASE_DIMENSIONS)[number];

export const BASE_DIMENSION_SET: ReadonlySet<string> = new Set(BASE_DIMENSIONS);

/** The names a formula may use: each base dimension and `<base>_total_price`. */
export const FORMULA_VARIABLES: ReadonlySet<string> = new Set(BASE_DIMENSIONS.flatMap((d) => [d, `${d}_total_price`]));

export interface CustomDimension {
  /** The dimension's name at Clazar. */
  name: string;
  formula: Formula;
  /** The variable(s) it was configured by, for messages. */
  configuredBy: string;
}

const DIMENSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Reads `DIMENSION_<name>=<formula>`, and the original script's `DIMENSION<n>_NAME` /
 * `DIMENSION<n>_FORMULA` pairs, from `env`. Returns the dimensions and every problem found,
 * each naming its variable; a name given twice is a problem.
 */
export function customDimensionsFrom(env: Record<string, string | undefined>): { dimensions: CustomDimension[]; problems: string[] } {
  const found: { name: string; source: string; configuredBy: string }[] = [];
  const problems: string[] = [];
  const pairs = new Map<string, { name?: string; formula?: string }>();
  for (const [variable, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (value === undefined) continue;
    const numbered = /^DIMENSION(\d+)_(NAME|FORMULA)$/.exec(variable);
    if (numbered) {
      const pair = pairs.get(numbered[1] as string) ?? {};
      if (numbered[2] === 'NAME') pair.name = value.trim();
      else pair.formula = value;
      pairs.set(numbered[1] as string, pair);
      continue;
    }
    const named = /^DIMENSION_(.+)$/.exec(variable);
    if (named) found.push({ name: named[1] as string, source: value, configuredBy: variable });
  }
  for (const [n, pair] of [...pairs].sort(([a], [b]) => Number(a) - Number(b))) {
    if (pair.name === undefined) problems.push(`DIMENSION${n}_FORMULA: has no DIMENSION${n}_NAME`);
    else if (pair.formula === undefined) problems.push(`DIMENSION${n}_NAME: has no DIMENSION${n}_FORMULA`);
    else found.push({ name: pair.name, source: pair.formula, configuredBy: `DIMENSION${n}_FORMULA` });
  }
  const dimensions: CustomDimension[] = [];
  const seen = new Map<string, string>();
  for (const { name, source, configuredBy } of found) {
    if (!DIMENSION_NAME.test(name)) {
      problems.push(`${configuredBy}: '${name.slice(0, 40)}' is not a dimension name (letters, digits, _ . -, up to 128)`);
      continue;
    }
    const earlier = seen.get(name);
    if (earlier) {
      problems.push(`${configuredBy}: dimension ${name} is already defined by ${earlier}`);
      continue;
    }
    seen.set(name, configuredBy);
    try {
      dimensions.push({ name, formula: parseFormula(source.trim(), FORMULA_VARIABLES), configuredBy });
    } catch (error) {
      if (!(error instanceof FormulaError)) throw error;
      problems.push(`${configuredBy}: formula ${error.message}`);
    }
  }
  return { dimensions, problems };
}
