import { normalQuantile } from '../diagnostics.js';
import { EbmError } from '../errors.js';
import { assertFiniteArray } from '../validation.js';

/**
 * Statistical tests with a stated false-fail rate, for samplers, losses and backends.
 * Every `expect*` function throws an `EbmError` with code `TEST_FAILURE` and a message with the statistic,
 * the threshold and the seed to reproduce; every plain function returns the numbers.
 * @module
 */

/** Kolmogorov distribution tail Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}. */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-16) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** Result of a Kolmogorov–Smirnov test. */
export interface KsResult {
  /** sup |F₁ − F₂|. */
  readonly statistic: number;
  /** Asymptotic p-value with Stephens' small-sample correction. */
  readonly pValue: number;
  /** Effective sample size used for the p-value. */
  readonly n: number;
}

function sortedCopy(name: string, a: ArrayLike<number>): Float64Array {
  if (a.length === 0) {
    throw new EbmError('INVALID_PARAM', `${name} must not be empty.`, {
      argument: name,
      value: 0,
      fix: 'pass samples.',
    });
  }
  assertFiniteArray(name, a);
  const s = Float64Array.from(a as ArrayLike<number>);
  return s.sort();
}

function pFromD(d: number, ne: number): number {
  const sq = Math.sqrt(ne);
  return kolmogorovQ((sq + 0.12 + 0.11 / sq) * d);
}

/** One-sample KS test of `samples` against a continuous CDF. */
export function ksOneSample(samples: ArrayLike<number>, cdf: (x: number) => number): KsResult {
  const s = sortedCopy('samples', samples);
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]!);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return { statistic: d, pValue: pFromD(d, n), n };
}

/** Two-sample KS test. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const x = sortedCopy('a', a);
  const y = sortedCopy('b', b);
  const n = x.length;
  const m = y.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i]! <= v) i++;
    while (j < m && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = (n * m) / (n + m);
  return { statistic: d, pValue: pFromD(d, ne), n: ne };
}

/**
 * DKWM bound: with probability ≥ 1 − α, sup|F̂ₙ − F| ≤ √(ln(2/α)/(2n)) (Massart's tight constant).
 * A distribution-free threshold with an exact false-fail guarantee.
 */
export function dkwmEpsilon(n: number, alpha: number): number {
  if (!(n >= 1) || !(alpha > 0 && alpha < 1)) {
    throw new EbmError('INVALID_PARAM', 'dkwmEpsilon needs n >= 1 and alpha in (0, 1).', {
      argument: 'alpha',
      value: [n, alpha],
      fix: 'pass a sample size and a false-fail rate such as 1e-4.',
    });
  }
  return Math.sqrt(Math.log(2 / alpha) / (2 * n));
}

/** Two-sided normal critical value for a false-fail rate α: Φ⁻¹(1 − α/2). */
export function zCritical(alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) {
    throw new EbmError('INVALID_PARAM', 'alpha must lie in (0, 1).', {
      argument: 'alpha',
      value: alpha,
      fix: 'pass a false-fail rate such as 1e-4.',
    });
  }
  return normalQuantile(1 - alpha / 2);
}

/** Options of the `expect*` statistical assertions. */
export interface StatOptions {
  /** Probability that the assertion fails although the sampler is right (default 1e-4). */
  readonly falseFailRate?: number;
  /** Label for the failure message. */
  readonly label?: string;
  /** Seed to print in the failure message (see `testSeed`). */
  readonly seed?: number;
}

function fail(label: string | undefined, msg: string, seed: number | undefined, value: unknown): never {
  throw new EbmError(
    'TEST_FAILURE',
    `${label ? `${label}: ` : ''}${msg}${seed !== undefined ? ` (seed ${seed}; rerun with EBM_SEED=${seed})` : ''}`,
    { value },
  );
}

/**
 * Monte-Carlo standard-error test: passes when |estimate − expected| ≤ z_{1−α/2}·se.
 * Use the ESS-based standard error for correlated draws.
 */
export function expectWithinStandardError(
  estimate: number,
  expected: number,
  standardError: number,
  options: StatOptions = {},
): void {
  const alpha = options.falseFailRate ?? 1e-4;
  if (!(standardError > 0) || !Number.isFinite(standardError)) {
    throw new EbmError('INVALID_PARAM', 'standardError must be a positive finite number.', {
      argument: 'standardError',
      value: standardError,
      fix: 'pass sd/√n (or sd/√ESS for correlated draws).',
    });
  }
  const z = zCritical(alpha);
  const dev = Math.abs(estimate - expected);
  if (!(dev <= z * standardError)) {
    fail(
      options.label,
      `estimate ${estimate} differs from ${expected} by ${dev.toPrecision(4)} > ${z.toFixed(2)}·se = ${(z * standardError).toPrecision(4)} (false-fail rate ${alpha}).`,
      options.seed,
      { estimate, expected, standardError },
    );
  }
}

/** Sample mean and its standard error (sd/√n, or sd/√ess when given). */
export function meanAndStandardError(
  x: ArrayLike<number>,
  ess?: number,
): { mean: number; sd: number; se: number } {
  const n = x.length;
  if (n < 2) {
    throw new EbmError('INVALID_PARAM', 'need at least 2 values.', {
      argument: 'x',
      value: n,
      fix: 'pass more samples.',
    });
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
  const sd = Math.sqrt(v / (n - 1));
  return { mean, sd, se: sd / Math.sqrt(ess ?? n) };
}

/** Asserts that the mean of iid draws `x` matches `expected` within the Monte-Carlo standard error. */
export function expectMean(
  x: ArrayLike<number>,
  expected: number,
  options: StatOptions & { ess?: number } = {},
): void {
  const { mean, se } = meanAndStandardError(x, options.ess);
  expectWithinStandardError(mean, expected, se, options);
}

/**
 * Asserts that the variance of iid draws `x` matches `expected`, using the asymptotic standard error
 * √((m₄ − s⁴)/n) of the sample variance (needs a few hundred draws).
 */
export function expectVariance(
  x: ArrayLike<number>,
  expected: number,
  options: StatOptions & { ess?: number } = {},
): void {
  const n = x.length;
  const { mean } = meanAndStandardError(x);
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - mean;
    m2 += d * d;
    m4 += d ** 4;
  }
  m2 /= n - 1;
  m4 /= n;
  const se = Math.sqrt(Math.max(m4 - m2 * m2, 1e-300) / (options.ess ?? n));
  expectWithinStandardError(m2, expected, se, { ...options, label: options.label ?? 'variance' });
}

/** Asserts that `samples` follow `cdf`: KS with the asymptotic p-value, or the DKWM bound. */
export function expectKsOneSample(
  samples: ArrayLike<number>,
  cdf: (x: number) => number,
  options: StatOptions & { method?: 'ks' | 'dkwm' } = {},
): KsResult {
  const alpha = options.falseFailRate ?? 1e-4;
  const r = ksOneSample(samples, cdf);
  if (options.method === 'dkwm') {
    const eps = dkwmEpsilon(r.n, alpha);
    if (r.statistic > eps)
      fail(
        options.label,
        `KS distance ${r.statistic.toPrecision(4)} > DKWM bound ${eps.toPrecision(4)} (n=${r.n}, rate ${alpha}).`,
        options.seed,
        r,
      );
  } else if (r.pValue < alpha) {
    fail(
      options.label,
      `one-sample KS D=${r.statistic.toPrecision(4)}, p=${r.pValue.toExponential(2)} < ${alpha} (n=${r.n}).`,
      options.seed,
      r,
    );
  }
  return r;
}

/** Asserts that `a` and `b` come from the same distribution: KS asymptotic p-value, or two DKWM bands. */
export function expectKsTwoSample(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: StatOptions & { method?: 'ks' | 'dkwm' } = {},
): KsResult {
  const alpha = options.falseFailRate ?? 1e-4;
  const r = ksTwoSample(a, b);
  if (options.method === 'dkwm') {
    const eps = dkwmEpsilon(a.length, alpha / 2) + dkwmEpsilon(b.length, alpha / 2);
    if (r.statistic > eps)
      fail(
        options.label,
        `two-sample KS distance ${r.statistic.toPrecision(4)} > DKWM bound ${eps.toPrecision(4)} (rate ${alpha}).`,
        options.seed,
        r,
      );
  } else if (r.pValue < alpha) {
    fail(
      options.label,
      `two-sample KS D=${r.statistic.toPrecision(4)}, p=${r.pValue.toExponential(2)} < ${alpha} (n=${a.length}, m=${b.length}).`,
      options.seed,
      r,
    );
  }
  return r;
}
