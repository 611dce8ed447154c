// Custom dimension formulas (`DIMENSION_pod_hours="cpu_core_hours / 2"`), parsed and evaluated
// by this file alone: no eval, no Function, no lookup in any JavaScript object, so a formula can
// name nothing but the variables it is given. The grammar is small on purpose:
//
//   expression := term (('+' | '-') term)*
//   term       := unary (('*' | '/') unary)*
//   unary      := '-' unary | '+' unary | primary
//   primary    := number | variable | function '(' expression (',' expression)* ')' | '(' expression ')'
//   function   := abs | round | min | max | int | float
//
// Arithmetic is exact (fractions of bigints): `memory_byte_hours / 1073741824` is the quotient,
// not a float near it. Bounds keep a hostile formula from costing anything: its length, its
// number of tokens, its nesting depth, and the digits of its numbers (no exponent notation, no
// power operator).

const MAX_LENGTH = 1000;
const MAX_TOKENS = 300;
const MAX_DEPTH = 24;
const MAX_NUMBER_DIGITS = 40;
const FUNCTIONS = new Map<string, { min: number; max: number }>([
  ['abs', { min: 1, max: 1 }],
  ['round', { min: 1, max: 1 }],
  ['int', { min: 1, max: 1 }],
  ['float', { min: 1, max: 1 }],
  ['min', { min: 1, max: 16 }],
  ['max', { min: 1, max: 16 }],
]);

export class FormulaError extends Error {
  override name = 'FormulaError';
}

/** A formula that parses but cannot be computed for some inputs: division by zero, a negative result. */
export class FormulaEvaluationError extends Error {
  override name = 'FormulaEvaluationError';
}

/** An exact fraction n/d, d > 0, in lowest terms. */
export class Fraction {
  private constructor(
    readonly n: bigint,
    readonly d: bigint,
  ) {}

  static of(n: bigint, d = 1n): Fraction {
    if (d === 0n) throw new FormulaEvaluationError('division by zero');
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n < 0n ? -n : n, d);
    return g > 1n ? new Fraction(n / g, d / g) : new Fraction(n, d);
  }

  /** `units / 10^scale`, as a Decimal holds it. */
  static ofDecimal(units: bigint, scale: number): Fraction {
    return Fraction.of(units, 10n ** BigInt(scale));
  }

  add(o: Fraction): Fraction {
    return Fraction.of(this.n * o.d + o.n * this.d, this.d * o.d);
  }
  sub(o: Fraction): Fraction {
    return Fraction.of(this.n * o.d - o.n * this.d, this.d * o.d);
  }
  mul(o: Fraction): Fraction {
    return Fraction.of(this.n * o.n, this.d * o.d);
  }
  div(o: Fraction): Fraction {
    if (o.n === 0n) throw new FormulaEvaluationError('division by zero');
    return Fraction.of(this.n * o.d, this.d * o.n);
  }
  compare(o: Fraction): number {
    const left = this.n * o.d;
    const right = o.n * this.d;
    return left === right ? 0 : left < right ? -1 : 1;
  }
  /** Toward zero, as Python's int(). */
  truncated(): bigint {
    return this.n / this.d;
  }
  /** To the nearest integer, halves to even, as Python 3's round(). */
  rounded(): bigint {
    const floor = this.n >= 0n ? this.n / this.d : -((-this.n + this.d - 1n) / this.d);
    const twice = 2n * (this.n - floor * this.d);
    if (twice < this.d) return floor;
    if (twice > this.d) return floor + 1n;
    return floor % 2n === 0n ? floor : floor + 1n;
  }
  toString(): string {
    return this.d === 1n ? this.n.toString() : `${this.n}/${this.d}`;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}

type Node =
  | { kind: 'number'; value: Fraction }
  | { kind: 'variable'; name: string }
  | { kind: 'negate'; operand: Node }
  | { kind: 'binary'; operator: '+' | '-' | '*' | '/'; left: Node; right: Node }
  | { kind: 'call'; name: string; args: Node[] };

type Token = { kind: 'number' | 'name' | 'symbol'; text: string; at: number };

export interface Formula {
  readonly source: string;
  /** The variables it names, each once. */
  readonly variables: readonly string[];
  /** The exact value for these variables (a missing one is an error: pass 0 for no usage). */
  evaluate(variables: ReadonlyMap<string, Fraction>): Fraction;
}

/** Parses `source`, allowing only the names in `allowedVariables`; a FormulaError says what and where. */
export function parseFormula(source: string, allowedVariables: ReadonlySet<string>): Formula {
  if (source.length > MAX_LENGTH) throw new FormulaError(`is longer than ${MAX_LENGTH} characters`);
  const tokens = tokenize(source);
  if (tokens.length === 0) throw new FormulaError('is empty');
  if (tokens.length > MAX_TOKENS) throw new FormulaError(`has more than ${MAX_TOKENS} tokens`);
  const variables = new Set<string>();
  let next = 0;
  const peek = () => tokens[next];
  const fail = (problem: string, token = peek()): never => {
    throw new FormulaError(token ? `${problem} at character ${token.at + 1} ('${token.text}')` : `${problem} at its end`);
  };
  const expect = (text: string) => {
    if (peek()?.text !== text) fail(`expected '${text}'`);
    next += 1;
  };

  function expression(depth: number): Node {
    if (depth > MAX_DEPTH) fail(`nests deeper than ${MAX_DEPTH}`);
    let left = term(depth);
    while (peek()?.text === '+' || peek()?.text === '-') {
      const operator = (tokens[next++] as Token).text as '+' | '-';
      left = { kind: 'binary', operator, left, right: term(depth) };
    }
    return left;
  }
  function term(depth: number): Node {
    let left = unary(depth);
    while (peek()?.text === '*' || peek()?.text === '/') {
      const operator = (tokens[next++] as Token).text as '*' | '/';
      left = { kind: 'binary', operator, left, right: unary(depth) };
    }
    return left;
  }
  function unary(depth: number): Node {
    if (depth > MAX_DEPTH) fail(`nests deeper than ${MAX_DEPTH}`);
    if (peek()?.text === '-') {
      next += 1;
      return { kind: 'negate', operand: unary(depth + 1) };
    }
    if (peek()?.text === '+') {
      next += 1;
      return unary(depth + 1);
    }
    return primary(depth);
  }
  function primary(depth: number): Node {
    const token = peek();
    if (token === undefined) return fail('expected a number, a name or (');
    if (token.kind === 'number') {
      next += 1;
      return { kind: 'number', value: parseNumber(token.text) };
    }
    if (token.text === '(') {
      next += 1;
      const inner = expression(depth + 1);
      expect(')');
      return inner;
    }
    if (token.kind === 'name') {
      next += 1;
      const arity = FUNCTIONS.get(token.text);
      if (peek()?.text === '(') {
        if (arity === undefined) fail(`unknown function '${token.text}'`, token);
        next += 1;
        const args = [expression(depth + 1)];
        while (peek()?.text === ',') {
          next += 1;
          args.push(expression(depth + 1));
        }
        expect(')');
        if (args.length < (arity as { min: number }).min || args.length > (arity as { max: number }).max) {
          fail(`${token.text}() takes ${arity?.min === arity?.max ? arity?.min : `${arity?.min} to ${arity?.max}`} argument(s)`, token);
        }
        return { kind: 'call', name: token.text, args };
      }
      if (!allowedVariables.has(token.text)) {
        fail(`unknown name '${token.text}' (it may use ${[...allowedVariables].sort().join(', ')})`, token);
      }
      variables.add(token.text);
      return { kind: 'variable', name: token.text };
    }
    return fail('expected a number, a name or (');
  }

  const root = expression(0);
  if (next < tokens.length) fail('unexpected');
  return {
    source,
    variables: [...variables],
    evaluate: (values) => evaluate(root, values),
  };
}

function parseNumber(text: string): Fraction {
  const [whole = '', fraction = ''] = text.split('.');
  if (whole.length + fraction.length > MAX_NUMBER_DIGITS)
    throw new FormulaError(`number ${text.slice(0, 20)}… has more than ${MAX_NUMBER_DIGITS} digits`);
  return Fraction.ofDecimal(BigInt(`${whole}${fraction}` || '0'), fraction.length);
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === ' ' || c === '\t') {
      i += 1;
      continue;
    }
    const rest = source.slice(i);
    const number = /^(?:\d+(?:\.\d+)?|\.\d+)/.exec(rest);
    if (number) {
      if (/^[A-Za-z_.]/.test(rest.slice(number[0].length))) {
        throw new FormulaError(`malformed number at character ${i + 1} ('${rest.slice(0, number[0].length + 1)}')`);
      }
      tokens.push({ kind: 'number', text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', text: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if ('+-*/(),'.includes(c)) {
      if (c === '*' && source[i + 1] === '*') throw new FormulaError(`'**' (power) is not allowed, at character ${i + 1}`);
      tokens.push({ kind: 'symbol', text: c, at: i });
      i += 1;
      continue;
    }
    throw new FormulaError(`unexpected '${c}' at character ${i + 1}`);
  }
  return tokens;
}

function evaluate(node: Node, values: ReadonlyMap<string, Fraction>): Fraction {
  switch (node.kind) {
    case 'number':
      return node.value;
    case 'variable': {
      const value = values.get(node.name);
      if (value === undefined) throw new FormulaEvaluationError(`no value for ${node.name}`);
      return value;
    }
    case 'negate':
      return Fraction.of(0n).sub(evaluate(node.operand, values));
    case 'binary': {
      const left = evaluate(node.left, values);
      const right = evaluate(node.right, values);
      if (node.operator === '+') return left.add(right);
      if (node.operator === '-') return left.sub(right);
      if (node.operator === '*') return left.mul(right);
      return left.div(right);
    }
    case 'call': {
      const args = node.args.map((arg) => evaluate(arg, values));
      const first = args[0] as Fraction;
      switch (node.name) {
        case 'abs':
          return first.n < 0n ? Fraction.of(-first.n, first.d) : first;
        case 'round':
          return Fraction.of(first.rounded());
        case 'int':
          return Fraction.of(first.truncated());
        case 'float':
          return first;
        case 'min':
          return args.reduce((a, b) => (b.compare(a) < 0 ? b : a));
        default:
          return args.reduce((a, b) => (b.compare(a) > 0 ? b : a));
      }
    }
  }
}
