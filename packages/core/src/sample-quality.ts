import { EbmError } from './errors.js';
import { assertFiniteArray } from './validation.js';

/**
 * Two-sample discrepancies on host arrays (row-major `[n, dim]` point sets): how close model samples are to
 * data. Used to score trained EBMs (samples vs held-out data, against a noise baseline).
 * @module
 */

function checkPoints(name: string, x: ArrayLike<number>, dim: number): number {
  if (!Number.isInteger(dim) || dim < 1) {
    throw new EbmError('INVALID_PARAM', 'dim must be an integer >= 1.', {
      argument: 'dim',
      value: dim,
      fix: 'pass the point dimension.',
    });
  }
  if (x.length === 0 || x.length % dim !== 0) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `${name} must hold a whole number (>= 1) of ${dim}-dimensional points.`,
      {
        argument: name,
        value: x.length,
        fix: `pass a flat [n * ${dim}] array (row-major).`,
      },
    );
  }
  assertFiniteArray(name, x);
  return x.length / dim;
}

/** Checks two point sets for a two-sample discrepancy: each needs at least 2 points. */
function checkPair(what: string, x: ArrayLike<number>, y: ArrayLike<number>, dim: number): [number, number] {
  const n = checkPoints('x', x, dim);
  const m = checkPoints('y', y, dim);
  if (n < 2 || m < 2) {
    throw new EbmError('INVALID_PARAM', `${what} needs at least 2 points in each set.`, {
      argument: n < 2 ? 'x' : 'y',
      value: Math.min(n, m),
      fix: 'pass larger samples.',
    });
  }
  return [n, m];
}

function sqDist(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) {
    const d = a[i * dim + k]! - b[j * dim + k]!;
    s += d * d;
  }
  return s;
}

/** Median pairwise distance of the pooled points (the median heuristic for the RBF bandwidth). */
export function medianDistance(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  dim: number,
  maxPoints = 1000,
): number {
  const n = checkPoints('x', x, dim);
  const m = checkPoints('y', y, dim);
  const pool: number[][] = [];
  const take = (a: ArrayLike<number>, cnt: number) => {
    const step = Math.max(1, Math.floor(cnt / (maxPoints / 2)));
    for (let i = 0; i < cnt; i += step) pool.push(Array.from({ length: dim }, (_, k) => a[i * dim + k]!));
  };
  take(x, n);
  take(y, m);
  const d: number[] = [];
  for (let i = 0; i < pool.length; i++) {
    for (let j = i + 1; j < pool.length; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += (pool[i]![k]! - pool[j]![k]!) ** 2;
      d.push(Math.sqrt(s));
    }
  }
  d.sort((a, b) => a - b);
  return d.length === 0 ? 1 : d[Math.floor(d.length / 2)]! || 1;
}

/**
 * Unbiased squared maximum mean discrepancy with a Gaussian kernel k(a, b) = exp(−‖a − b‖²/(2ℓ²)):
 * MMD² = mean_{i≠j} k(xᵢ, xⱼ) + mean_{i≠j} k(yᵢ, yⱼ) − 2 mean k(xᵢ, yⱼ) (Gretton et al. 2012). 0 in expectation
 * when x and y share a distribution. `bandwidth` ℓ defaults to the median pairwise distance. O((n + m)²).
 */
export function mmdRbf(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  dim: number,
  options: { bandwidth?: number } = {},
): number {
  const [n, m] = checkPair('MMD', x, y, dim);
  const ell = options.bandwidth ?? medianDistance(x, y, dim);
  if (!(ell > 0) || !Number.isFinite(ell)) {
    throw new EbmError('INVALID_PARAM', 'bandwidth must be a positive number.', {
      argument: 'bandwidth',
      value: ell,
      fix: 'pass e.g. 1, or omit it for the median heuristic.',
    });
  }
  const g = -1 / (2 * ell * ell);
  let kxx = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) kxx += Math.exp(g * sqDist(x, i, x, j, dim));
  let kyy = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) kyy += Math.exp(g * sqDist(y, i, y, j, dim));
  let kxy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) kxy += Math.exp(g * sqDist(x, i, y, j, dim));
  return (2 * kxx) / (n * (n - 1)) + (2 * kyy) / (m * (m - 1)) - (2 * kxy) / (n * m);
}

/**
 * Energy distance 2E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ (Székely & Rizzo), with unbiased within-set means.
 * Non-negative in expectation, 0 iff the distributions agree.
 */
export function energyDistance(x: ArrayLike<number>, y: ArrayLike<number>, dim: number): number {
  const [n, m] = checkPair('energy distance', x, y, dim);
  let xy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) xy += Math.sqrt(sqDist(x, i, y, j, dim));
  let xx = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) xx += Math.sqrt(sqDist(x, i, x, j, dim));
  let yy = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) yy += Math.sqrt(sqDist(y, i, y, j, dim));
  return (2 * xy) / (n * m) - (2 * xx) / (n * (n - 1)) - (2 * yy) / (m * (m - 1));
}
