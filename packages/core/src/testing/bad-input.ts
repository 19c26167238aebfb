import * as tf from '@tensorflow/tfjs-core';
import { EbmError, type EbmErrorCode, isEbmError } from '../errors.js';

/**
 * # The bad-input matrix
 *
 * A table-driven check that every public entry point answers bad input with a clear {@link EbmError}: a code
 * from the expected set, the argument named, and a fix. {@link badInputCases} turns one argument's spec
 * (a number, an integer, a tensor, an options object, a string from a list) into the classic bad values —
 * NaN, ±∞, negative, zero, non-integer, huge, wrong type, wrong rank / dimension / dtype, an unknown option
 * name — each with the codes it must raise; {@link expectBadInput} runs one case, checks the error and that no
 * tensor was left behind (tensor values are made by the case and disposed by the runner).
 *
 * @example
 * ```ts
 * const cases = [
 *   ...badInputCases('LangevinDynamics', 'stepSize', { type: 'number', min: 'positive' },
 *     (v) => new LangevinDynamics(energy, { stepSize: v })),
 *   ...badInputCases('LangevinDynamics', 'options', { type: 'options' }, (v) => new LangevinDynamics(energy, v)),
 * ];
 * it.each(cases.map((c) => [c.label, c]))('%s', async (_, c) => expectBadInput(c));
 * ```
 * @module
 */

/** The kinds of bad value the matrix tries. */
export type BadInputKind =
  | 'NaN'
  | '+Infinity'
  | '-Infinity'
  | 'negative'
  | 'zero'
  | 'non-integer'
  | 'huge'
  | 'above maximum'
  | 'wrong type'
  | 'unknown key'
  | 'unknown name'
  | 'wrong rank'
  | 'wrong dim'
  | 'wrong dtype'
  | 'empty'
  | 'non-finite values'
  | 'disposed';

/** One row of the matrix: an entry point called with one bad argument. */
export interface BadInputCase {
  /** `entry(argument): kind`, the test's name. */
  readonly label: string;
  readonly entry: string;
  readonly argument: string;
  readonly kind: BadInputKind;
  /** The codes the error may carry (NaN is `NON_FINITE` for a real-number check, `INVALID_PARAM` for an integer). */
  readonly codes: readonly EbmErrorCode[];
  /** Makes the bad value (tensors are made here, disposed by the runner). */
  readonly value: () => unknown;
  /** Calls the entry point with the bad value. */
  readonly call: (value: unknown) => unknown;
  /** Why this case is known not to give a clear `EbmError` yet (reported, not run). */
  readonly todo?: string;
}

/** A real-number argument. */
export interface NumberSpec {
  readonly type: 'number';
  /** The smallest allowed value class (default `'any'`: negative and zero allowed). */
  readonly min?: 'positive' | 'nonNegative' | 'any';
  /** An integer argument (1.5 is refused; NaN/∞ are then `INVALID_PARAM`). */
  readonly integer?: boolean;
  /** A value over the allowed maximum (e.g. `1.5` for a probability, `1e9` for a count): refused `INVALID_PARAM`. */
  readonly above?: number;
  /** A value so large it must be refused before allocating (e.g. `1e9` chains). */
  readonly huge?: number;
  /** `+Infinity` is allowed (a bound). */
  readonly allowInfinity?: boolean;
}

/** A tensor argument (float32 unless `dtype` says otherwise). */
export interface TensorSpec {
  readonly type: 'tensor';
  /** A valid shape of the argument: the wrong-rank and wrong-dim cases change it. */
  readonly shape: readonly number[];
  /** The last dimension is checked (default true for rank ≥ 2). */
  readonly checksDim?: boolean;
  /** The dtype is checked (default true). */
  readonly checksDtype?: boolean;
  /** Zero rows are refused. */
  readonly nonEmpty?: boolean;
  /** NaN values are refused (data, not starting points). */
  readonly finite?: boolean;
  /** A non-tensor (a nested array) is refused (default true). */
  readonly tensorOnly?: boolean;
}

/** An options object. */
export interface OptionsSpec {
  readonly type: 'options';
  /** The object must be given (no `undefined`). */
  readonly required?: boolean;
}

/** A string from a fixed list (a name, a kind). */
export interface NameSpec {
  readonly type: 'name';
}

/** Any other argument: only the wrong-type case (`value` is the wrong value tried). */
export interface ObjectSpec {
  readonly type: 'object';
  readonly wrong?: unknown;
}

export type BadInputSpec = NumberSpec | TensorSpec | OptionsSpec | NameSpec | ObjectSpec;

/**
 * The argument specs most matrices share: `positive` (a step size, a scale), `nonNegative`, `real` (any real
 * number), `count` (a positive integer) and `options` (an options object: wrong type, unknown option name).
 */
export const BAD_INPUT_SPECS = {
  positive: { type: 'number', min: 'positive' },
  nonNegative: { type: 'number', min: 'nonNegative' },
  real: { type: 'number' },
  count: { type: 'number', min: 'positive', integer: true },
  options: { type: 'options' },
} as const satisfies Readonly<Record<string, BadInputSpec>>;

/** Per-kind overrides: other expected codes, or a `todo` reason. */
export interface BadInputOverrides {
  readonly codes?: Partial<Record<BadInputKind, readonly EbmErrorCode[]>>;
  readonly todo?: Partial<Record<BadInputKind, string>>;
  /** Kinds not to try (the value is valid for this argument). */
  readonly skip?: readonly BadInputKind[];
}

const FINITE: readonly EbmErrorCode[] = ['NON_FINITE', 'INVALID_PARAM'];
const PARAM: readonly EbmErrorCode[] = ['INVALID_PARAM'];

function numberValues(s: NumberSpec): [BadInputKind, unknown, readonly EbmErrorCode[]][] {
  const nonFinite = s.integer ? PARAM : FINITE;
  const out: [BadInputKind, unknown, readonly EbmErrorCode[]][] = [
    ['NaN', Number.NaN, nonFinite],
    ['-Infinity', Number.NEGATIVE_INFINITY, nonFinite],
    ['wrong type', '1', PARAM],
  ];
  if (!s.allowInfinity) out.push(['+Infinity', Number.POSITIVE_INFINITY, nonFinite]);
  const min = s.min ?? 'any';
  if (min !== 'any') out.push(['negative', -1, PARAM]);
  if (min === 'positive') out.push(['zero', 0, PARAM]);
  if (s.integer) out.push(['non-integer', 1.5, PARAM]);
  if (s.above !== undefined) out.push(['above maximum', s.above, PARAM]);
  if (s.huge !== undefined) out.push(['huge', s.huge, PARAM]);
  return out;
}

function tensorValues(s: TensorSpec): [BadInputKind, () => unknown, readonly EbmErrorCode[]][] {
  const shape = [...s.shape];
  const out: [BadInputKind, () => unknown, readonly EbmErrorCode[]][] = [];
  if (s.tensorOnly ?? true) out.push(['wrong type', () => [[0, 0]], PARAM]);
  out.push(['wrong rank', () => tf.zeros([...shape, 1]), ['SHAPE_MISMATCH']]);
  if ((s.checksDim ?? shape.length >= 2) && shape.length >= 1) {
    const wrong = [...shape];
    wrong[wrong.length - 1] = wrong[wrong.length - 1]! + 1;
    out.push(['wrong dim', () => tf.zeros(wrong), ['SHAPE_MISMATCH']]);
  }
  if (s.checksDtype ?? true) out.push(['wrong dtype', () => tf.zeros(shape, 'int32'), ['INVALID_DTYPE']]);
  if (s.nonEmpty)
    out.push(['empty', () => tf.zeros([0, ...shape.slice(1)]), ['SHAPE_MISMATCH', 'INVALID_PARAM']]);
  if (s.finite) out.push(['non-finite values', () => tf.fill(shape, Number.NaN), ['NON_FINITE']]);
  out.push([
    'disposed',
    () => {
      const t = tf.zeros(shape);
      t.dispose();
      return t;
    },
    ['STATE_ERROR'],
  ]);
  return out;
}

/**
 * The bad-input cases of one argument of one entry point: `call(v)` calls the entry point with `v` in place of
 * the argument (everything else valid).
 */
export function badInputCases(
  entry: string,
  argument: string,
  spec: BadInputSpec,
  call: (value: unknown) => unknown,
  overrides: BadInputOverrides = {},
): BadInputCase[] {
  let rows: [BadInputKind, () => unknown, readonly EbmErrorCode[]][];
  switch (spec.type) {
    case 'number':
      rows = numberValues(spec).map(([k, v, c]) => [k, () => v, c]);
      break;
    case 'tensor':
      rows = tensorValues(spec);
      break;
    case 'options':
      rows = [
        ['wrong type', () => 5, PARAM],
        ['unknown key', () => ({ notAnOption: 1 }), PARAM],
      ];
      break;
    case 'name':
      rows = [
        ['unknown name', () => 'notAName', PARAM],
        ['wrong type', () => 5, PARAM],
      ];
      break;
    case 'object':
      rows = [['wrong type', () => ('wrong' in spec ? spec.wrong : 5), PARAM]];
      break;
  }
  return rows
    .filter(([k]) => !overrides.skip?.includes(k))
    .map(([kind, value, codes]) => {
      const todo = overrides.todo?.[kind];
      return {
        label: `${entry}(${argument}): ${kind}`,
        entry,
        argument,
        kind,
        codes: overrides.codes?.[kind] ?? codes,
        value,
        call,
        ...(todo !== undefined ? { todo } : {}),
      };
    });
}

/** What {@link checkBadInput} found wrong with a case (`undefined`: a clear EbmError, no leak). */
export async function checkBadInput(c: BadInputCase): Promise<string | undefined> {
  const before = tf.memory().numTensors;
  const value = c.value();
  const made = value instanceof tf.Tensor && !value.isDisposed ? value : undefined;
  let error: unknown;
  let result: unknown;
  try {
    result = await c.call(value);
  } catch (e) {
    error = e;
  } finally {
    made?.dispose();
  }
  if (error === undefined) {
    (result as { dispose?: () => void } | null)?.dispose?.();
    return 'no error was thrown';
  }
  await Promise.resolve();
  const leaked = tf.memory().numTensors - before;
  if (!isEbmError(error)) {
    return `threw ${(error as Error)?.constructor?.name ?? typeof error}: ${String((error as Error)?.message ?? error).slice(0, 200)}`;
  }
  const problems: string[] = [];
  if (!c.codes.includes(error.code)) problems.push(`code ${error.code}, expected ${c.codes.join(' or ')}`);
  if (typeof error.fix !== 'string' || error.fix.length === 0) problems.push('no fix');
  if (error.argument === undefined || error.argument === '') problems.push('no argument named');
  if (leaked !== 0) problems.push(`leaked ${leaked} tensor(s)`);
  return problems.length > 0 ? `${problems.join('; ')} (${error.message.slice(0, 160)})` : undefined;
}

/** Runs one case: throws `TEST_FAILURE` unless it gave a clear `EbmError` with an expected code and no leak. */
export async function expectBadInput(c: BadInputCase): Promise<void> {
  const problem = await checkBadInput(c);
  if (problem !== undefined) {
    throw new EbmError('TEST_FAILURE', `${c.label}: ${problem}`, { argument: c.argument, value: c.kind });
  }
}

/** Counts of a matrix, for the report line a matrix test prints. */
export function summarizeBadInputCases(cases: readonly BadInputCase[]): {
  readonly total: number;
  readonly todo: number;
  readonly entries: number;
} {
  return {
    total: cases.length,
    todo: cases.filter((c) => c.todo !== undefined).length,
    entries: new Set(cases.map((c) => c.entry)).size,
  };
}

/**
 * The runtime exports of a package's entry module that are neither in the matrix (`covered`: entry names of
 * its cases) nor exempt with a reason (constants, abstract bases, functions without user input). A matrix
 * test asserts this is empty, so a new export cannot be forgotten.
 */
export function uncoveredExports(
  module: Readonly<Record<string, unknown>>,
  covered: Iterable<string>,
  exempt: Readonly<Record<string, string>>,
): string[] {
  const seen = new Set(covered);
  return Object.keys(module)
    .filter((k) => !seen.has(k) && !Object.hasOwn(exempt, k))
    .sort();
}

/**
 * The parts of a test framework {@link describeBadInputMatrix} registers tests with: vitest's, jest's and
 * `node:test`'s `describe` / `it` (with `it.todo`) fit as they are.
 */
export interface MatrixTestApi {
  readonly describe: (name: string, body: () => void) => unknown;
  readonly it: ((name: string, body: () => unknown) => unknown) & {
    readonly todo: (name: string) => unknown;
  };
}

/** Options of {@link describeBadInputMatrix}. */
export interface BadInputMatrixOptions {
  /** Words after `<package> bad-input matrix` in the suite's name, e.g. `'(cpu)'` for a partial matrix. */
  readonly suffix?: string;
  /** The matrix must hold more than this many cases (a guard against specs that quietly shrink it). */
  readonly minCases?: number;
}

/**
 * A package's whole bad-input matrix as one test suite `<pkg> bad-input matrix`: a test that prints the summary
 * line (`[ebm] <pkg> bad-input matrix: N cases over M entry points, T todo`) and checks that every runtime
 * export of `module` is an entry of some case (`entry` up to its first `.`) or exempt with a reason (see
 * {@link uncoveredExports}); then one test per case ({@link expectBadInput}, named by its label) and a `todo`
 * test per case with a `todo` reason. The framework is passed in, so the kit stays framework-free.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import * as samplers from '../src/index.js';
 * const cases = [
 *   ...badInputCases('MALA', 'stepSize', { type: 'number', min: 'positive' }, (v) => new MALA(energy, { stepSize: v })),
 *   …
 * ];
 * describeBadInputMatrix({ describe, it }, '@ebm/samplers', cases, samplers, { MHSampler: 'abstract base' });
 * ```
 */
export function describeBadInputMatrix(
  test: MatrixTestApi,
  pkg: string,
  cases: readonly BadInputCase[],
  module: Readonly<Record<string, unknown>>,
  exempt: Readonly<Record<string, string>>,
  { suffix, minCases }: BadInputMatrixOptions = {},
): void {
  const { describe, it } = test;
  describe(`${pkg} bad-input matrix${suffix === undefined ? '' : ` ${suffix}`}`, () => {
    const s = summarizeBadInputCases(cases);
    it('covers every public export (or says why not)', () => {
      console.log(
        `[ebm] ${pkg} bad-input matrix: ${s.total} cases over ${s.entries} entry points, ${s.todo} todo`,
      );
      const missing = uncoveredExports(
        module,
        cases.map((c) => c.entry.split('.')[0]!),
        exempt,
      );
      if (missing.length > 0) {
        throw new EbmError(
          'TEST_FAILURE',
          `${pkg} bad-input matrix: ${missing.length} export(s) neither covered nor exempt: ${missing.join(', ')}`,
          {
            argument: 'cases',
            value: missing,
            fix: 'add badInputCases for them, or list them in the exempt map with the reason they take no user input',
          },
        );
      }
      if (minCases !== undefined && s.total <= minCases) {
        throw new EbmError(
          'TEST_FAILURE',
          `${pkg} bad-input matrix: ${s.total} cases, expected more than ${minCases}`,
          {
            argument: 'cases',
            value: s.total,
            fix: 'a spec stopped producing cases: check the badInputCases calls (or lower minCases on purpose)',
          },
        );
      }
    });
    for (const c of cases) {
      if (c.todo === undefined) it(c.label, () => expectBadInput(c));
    }
    for (const c of cases) {
      if (c.todo !== undefined) it.todo(`${c.label} — ${c.todo}`);
    }
  });
}
