import { EbmError } from './errors.js';
import { assertKnownOptions } from './options.js';
import { assertFiniteArray, assertPositive } from './validation.js';

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

/** Bandwidth multipliers of {@link mmdMulti}: {0.25, 0.5, 1, 2, 4} × the data's median pairwise distance. */
export const MMD_MULTI_SCALES: readonly number[] = [0.25, 0.5, 1, 2, 4];

/** Median of all pairwise Euclidean distances within one point set (exact, O(n² log n)). */
export function medianPairwiseDistance(x: ArrayLike<number>, dim: number): number {
  const n = checkPoints('x', x, dim);
  if (n < 2) {
    throw new EbmError('INVALID_PARAM', 'the median pairwise distance needs at least 2 points.', {
      argument: 'x',
      value: n,
      fix: 'pass a larger sample.',
    });
  }
  const d = new Float64Array((n * (n - 1)) / 2);
  let c = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) d[c++] = Math.sqrt(sqDist(x, i, x, j, dim));
  d.sort();
  const h = d.length >> 1;
  return d.length % 2 === 1 ? d[h]! : (d[h - 1]! + d[h]!) / 2;
}

/**
 * Multi-bandwidth unbiased RBF MMD² of `samples` against held-out `data`: the sum over ℓ ∈ `scales`·m of
 *
 *   MMD²_ℓ = mean_{i≠j} k_ℓ(xᵢ, xⱼ) + mean_{i≠j} k_ℓ(yᵢ, yⱼ) − 2 mean_{i,j} k_ℓ(xᵢ, yⱼ),  k_ℓ(a, b) = exp(−‖a − b‖²/(2ℓ²)),
 *
 * where m is the median pairwise distance of `data` (not of the pooled sets, so the bandwidths do not move
 * with the model) and `scales` defaults to {0.25, 0.5, 1, 2, 4} ({@link MMD_MULTI_SCALES}). Small bandwidths
 * see blur and missing detail, large ones see mass in the wrong place; one median bandwidth alone scores a
 * uniform blob on a checkerboard as good. Pairwise squared distances are computed once for all bandwidths.
 * O((n + m)²·|scales|).
 */
export function mmdMulti(
  samples: ArrayLike<number>,
  data: ArrayLike<number>,
  dim: number,
  options: { scales?: readonly number[]; medianDistance?: number } = {},
): number {
  const [n, m] = checkPair('MMD', samples, data, dim);
  const med = options.medianDistance ?? medianPairwiseDistance(data, dim);
  const scales = options.scales ?? MMD_MULTI_SCALES;
  if (!(med > 0) || !Number.isFinite(med) || scales.length === 0 || scales.some((s) => !(s > 0))) {
    throw new EbmError('INVALID_PARAM', 'the bandwidths must be positive numbers.', {
      argument: options.scales === undefined ? 'medianDistance' : 'scales',
      value: options.scales === undefined ? med : scales,
      fix: 'pass positive scales and a data set with distinct points.',
    });
  }
  const g = scales.map((s) => -1 / (2 * (s * med) ** 2));
  const L = g.length;
  const sums = (a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, same: boolean) => {
    const acc = new Float64Array(L);
    for (let i = 0; i < na; i++) {
      for (let j = same ? i + 1 : 0; j < nb; j++) {
        const d2 = sqDist(a, i, b, j, dim);
        for (let l = 0; l < L; l++) acc[l]! += Math.exp(g[l]! * d2);
      }
    }
    return acc;
  };
  const kxx = sums(samples, n, samples, n, true);
  const kyy = sums(data, m, data, m, true);
  const kxy = sums(samples, n, data, m, false);
  let total = 0;
  for (let l = 0; l < L; l++) {
    total += (2 * kxx[l]!) / (n * (n - 1)) + (2 * kyy[l]!) / (m * (m - 1)) - (2 * kxy[l]!) / (n * m);
  }
  return total;
}

/** What {@link modeCoverage} returns. */
export interface ModeCoverage {
  /** Modes within `radius` of which lie at least `minShare` of all samples. */
  readonly modesHeld: number;
  /** Share of the samples within `radius` of their nearest mode. */
  readonly withinShare: number;
  /** Per mode: share of all samples within `radius` of it. */
  readonly shares: number[];
}

/**
 * Mode coverage of samples of a mixture with known centres (eight gaussians: radius = 3σ): each sample counts
 * for its nearest centre when it lies within `radius` of it; a mode is held when at least `minShare` (default
 * 0.05) of all samples count for it. `withinShare` = share of samples within `radius` of their nearest centre.
 */
export function modeCoverage(
  samples: ArrayLike<number>,
  dim: number,
  centers: readonly (readonly number[])[],
  options: { radius: number; minShare?: number },
): ModeCoverage {
  const n = checkPoints('samples', samples, dim);
  assertKnownOptions('modeCoverage', options, ['radius', 'minShare']);
  if (options === undefined) {
    throw new EbmError('INVALID_PARAM', 'modeCoverage needs { radius }.', {
      argument: 'options',
      value: options,
      fix: 'pass { radius } (e.g. 3·std of a mode).',
    });
  }
  if (!Array.isArray(centers) || centers.some((c) => !Array.isArray(c) && !ArrayBuffer.isView(c))) {
    throw new EbmError('INVALID_PARAM', 'centers must be an array of points.', {
      argument: 'centers',
      value: typeof centers,
      fix: `pass [[x, y], …] centres of length ${dim}.`,
    });
  }
  assertPositive('radius', options.radius);
  const minShare = options.minShare ?? 0.05;
  if (!(options.radius > 0) || centers.length === 0 || centers.some((c) => c.length !== dim)) {
    throw new EbmError(
      'INVALID_PARAM',
      'modeCoverage needs centres of the samples’ dimension and a radius > 0.',
      {
        argument: options.radius > 0 ? 'centers' : 'radius',
        value: options.radius > 0 ? centers.length : options.radius,
        fix: `pass [[x, y], …] centres of length ${dim} and e.g. radius = 3·std.`,
      },
    );
  }
  const counts = new Float64Array(centers.length);
  const r2 = options.radius * options.radius;
  let within = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (let c = 0; c < centers.length; c++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += (samples[i * dim + k]! - centers[c]![k]!) ** 2;
      if (s < bestD) {
        bestD = s;
        best = c;
      }
    }
    if (bestD <= r2) {
      counts[best]!++;
      within++;
    }
  }
  const shares = Array.from(counts, (c) => c / n);
  return { modesHeld: shares.filter((s) => s >= minShare).length, withinShare: within / n, shares };
}

/**
 * Share of 2-D samples inside the filled squares of a checkerboard on [−L, L]² (a unit cell is filled when
 * ⌊x⌋ + ⌊y⌋ is odd, as `@ebm/datasets`' `checkerboard`). Data ≈ 1, uniform noise over the board ≈ 0.5.
 */
export function checkerboardShare(samples: ArrayLike<number>, rangeLimit = 4): number {
  const n = checkPoints('samples', samples, 2);
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[2 * i]!;
    const y = samples[2 * i + 1]!;
    if (Math.abs(x) <= rangeLimit && Math.abs(y) <= rangeLimit && (Math.floor(x) + Math.floor(y)) % 2 !== 0) {
      inside++;
    }
  }
  return inside / n;
}
