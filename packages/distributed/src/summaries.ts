import { assertInteger, autocovariance, EbmError, essFromAutocovariance, splitRhatEss } from '@ebm/core';

/**
 * # Per-chain summaries and their exact merge
 *
 * A chain-batch job returns, per chain and dimension, what the client needs for pooled moments, split-R̂ and
 * ESS across **all** chains without the draws: for each chain its mean and sum of squared deviations, and for
 * each half of it (the split chains of Vehtari et al. 2021: first ⌊n/2⌋ and last ⌊n/2⌋ kept draws) the mean,
 * the sample variance `s² = Σ(x − x̄)²/(n_h − 1)`, min, max and the biased autocovariance
 * `γ(t) = (1/n_h) Σ (x_i − x̄)(x_{i+t} − x̄)` for lags `0..L`.
 *
 * Summaries are computed per chain (the same code on the same draws gives the same numbers) and merged by
 * concatenation in chain order, then reduced in a fixed order, so the merged statistics are identical whatever
 * the split into jobs and the number of workers.
 *
 * From them: pooled mean and variance (Chan et al.'s pairwise update, chain by chain), classic split-R̂
 * `√((B/W + n − 1)/n)` and ESS by Geyer's initial monotone sequence with
 * `ρ_t = 1 − (W − mean_c γ_c(t))/var⁺`, `var⁺ = (n−1)/n·W + B/n` — exactly core's `rhatBasic` / `essBasic` of
 * the split chains when `L = n_h − 1` (a smaller L truncates the sequence: `essTruncated` says so).
 * With `samples` output the client also has the draws and computes core's rank-normalised `splitRhatEss`.
 * @module
 */

/** Summaries of a run of chains (all arrays chain-major). */
export interface ChainSummaries {
  readonly nChains: number;
  /** Kept draws per chain. */
  readonly nKept: number;
  readonly dim: number;
  /** Autocovariance lags kept per half chain: `0..maxLag`. */
  readonly maxLag: number;
  /** Per chain mean `[nChains·dim]`. */
  readonly mean: Float64Array;
  /** Per chain Σ(x − x̄)² `[nChains·dim]`. */
  readonly m2: Float64Array;
  /** Per half chain mean `[nChains·2·dim]` (half h of chain c at `(2c + h)·dim + j`). */
  readonly halfMean: Float64Array;
  /** Per half chain sample variance `[nChains·2·dim]`. */
  readonly halfVar: Float64Array;
  /** Per half chain min and max `[nChains·2·dim]`. */
  readonly halfMin: Float64Array;
  readonly halfMax: Float64Array;
  /** Per half chain autocovariance `[nChains·2·dim·(maxLag+1)]`. */
  readonly halfAcov: Float64Array;
}

/** Merged statistics of all chains, per dimension. */
export interface MergedStats {
  readonly nChains: number;
  readonly nKept: number;
  readonly dim: number;
  /** Pooled mean of all kept draws. */
  readonly mean: number[];
  /** Pooled variance (divisor: total draws − 1). */
  readonly variance: number[];
  /** Classic split-R̂. */
  readonly rhat: number[];
  /** ESS of the split chains (Geyer's initial monotone sequence). */
  readonly ess: number[];
  /** True where the autocorrelation sequence was cut at `maxLag` before it turned negative. */
  readonly essTruncated: boolean[];
  /** Monte-Carlo standard error of the mean: √(variance / ess). */
  readonly mcse: number[];
  /** Rank-normalised split-R̂ and bulk/tail ESS (core's `splitRhatEss`), when the draws were returned. */
  readonly rankNormalized?: {
    readonly rhat: number[];
    readonly essBulk: number[];
    readonly essTail: number[];
  };
}

/**
 * Summaries of chain-major draws `[nChains, nKept, dim]` (float32 or float64), with autocovariances up to
 * `maxLag` (default: all lags of a half chain).
 */
export function summarizeDraws(
  draws: ArrayLike<number>,
  nChains: number,
  nKept: number,
  dim: number,
  maxLag?: number,
): ChainSummaries {
  assertInteger('nChains', nChains, 1);
  assertInteger('nKept', nKept, 1);
  assertInteger('dim', dim, 1);
  if (maxLag !== undefined) assertInteger('maxLag', maxLag, 0);
  if (draws === null || typeof draws !== 'object' || typeof draws.length !== 'number') {
    throw new EbmError('INVALID_PARAM', 'draws must be an array of numbers.', {
      argument: 'draws',
      value: draws === null ? null : typeof draws,
      fix: 'pass chain-major draws [nChains, nKept, dim] as a Float64Array.',
    });
  }
  if (draws.length !== nChains * nKept * dim) {
    throw new EbmError('SHAPE_MISMATCH', 'draws must hold nChains·nKept·dim numbers.', {
      argument: 'draws',
      value: [draws.length, nChains, nKept, dim],
      fix: 'pass chain-major draws [nChains, nKept, dim].',
    });
  }
  const half = Math.floor(nKept / 2);
  if (half < 2) {
    throw new EbmError('INVALID_PARAM', 'Summaries need at least 4 kept draws per chain.', {
      argument: 'nKept',
      value: nKept,
      fix: 'run more steps (or lower thin).',
    });
  }
  const L = Math.min(maxLag ?? half - 1, half - 1);
  const mean = new Float64Array(nChains * dim);
  const m2 = new Float64Array(nChains * dim);
  const halfMean = new Float64Array(nChains * 2 * dim);
  const halfVar = new Float64Array(nChains * 2 * dim);
  const halfMin = new Float64Array(nChains * 2 * dim);
  const halfMax = new Float64Array(nChains * 2 * dim);
  const halfAcov = new Float64Array(nChains * 2 * dim * (L + 1));
  const x = new Float64Array(nKept);
  const h = new Float64Array(half);
  for (let c = 0; c < nChains; c++) {
    for (let j = 0; j < dim; j++) {
      for (let t = 0; t < nKept; t++) x[t] = draws[(c * nKept + t) * dim + j]!;
      let s = 0;
      for (let t = 0; t < nKept; t++) s += x[t]!;
      const mu = s / nKept;
      let q = 0;
      for (let t = 0; t < nKept; t++) q += (x[t]! - mu) ** 2;
      mean[c * dim + j] = mu;
      m2[c * dim + j] = q;
      for (let hh = 0; hh < 2; hh++) {
        const start = hh === 0 ? 0 : nKept - half;
        let hs = 0;
        let lo = Infinity;
        let hi = -Infinity;
        for (let t = 0; t < half; t++) {
          const v = x[start + t]!;
          h[t] = v;
          hs += v;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        const hm = hs / half;
        let hq = 0;
        for (let t = 0; t < half; t++) hq += (h[t]! - hm) ** 2;
        const at = (2 * c + hh) * dim + j;
        halfMean[at] = hm;
        halfVar[at] = hq / (half - 1);
        halfMin[at] = lo;
        halfMax[at] = hi;
        // A diverged chain (NaN/∞) has no autocovariance: NaN, so the merged R̂/ESS say so instead of failing.
        if (Number.isFinite(hm) && Number.isFinite(hq))
          halfAcov.set(autocovariance(h).subarray(0, L + 1), at * (L + 1));
        else halfAcov.fill(Number.NaN, at * (L + 1), (at + 1) * (L + 1));
      }
    }
  }
  return { nChains, nKept, dim, maxLag: L, mean, m2, halfMean, halfVar, halfMin, halfMax, halfAcov };
}

/** Concatenates summaries of consecutive chain ranges (in chain order). */
export function concatSummaries(parts: readonly ChainSummaries[]): ChainSummaries {
  if (parts.length === 0) {
    throw new EbmError('INVALID_PARAM', 'concatSummaries needs at least one part.', {
      argument: 'parts',
      value: 0,
      fix: 'pass the summaries of every job.',
    });
  }
  const p0 = parts[0]!;
  for (const p of parts) {
    if (p.nKept !== p0.nKept || p.dim !== p0.dim || p.maxLag !== p0.maxLag) {
      throw new EbmError('SHAPE_MISMATCH', 'Summaries of one run must share nKept, dim and maxLag.', {
        argument: 'parts',
        value: parts.map((q) => [q.nKept, q.dim, q.maxLag]),
        fix: 'merge only the jobs of one run.',
      });
    }
  }
  const cat = (k: 'mean' | 'm2' | 'halfMean' | 'halfVar' | 'halfMin' | 'halfMax' | 'halfAcov') => {
    const out = new Float64Array(parts.reduce((a, p) => a + p[k].length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p[k], o);
      o += p[k].length;
    }
    return out;
  };
  return {
    nChains: parts.reduce((a, p) => a + p.nChains, 0),
    nKept: p0.nKept,
    dim: p0.dim,
    maxLag: p0.maxLag,
    mean: cat('mean'),
    m2: cat('m2'),
    halfMean: cat('halfMean'),
    halfVar: cat('halfVar'),
    halfMin: cat('halfMin'),
    halfMax: cat('halfMax'),
    halfAcov: cat('halfAcov'),
  };
}

/** Classic R̂ from per-(split-)chain means and sample variances (core's `rhatBasic`, same arithmetic). */
function rhatFrom(means: number[], vars: number[], n: number): number {
  const m = means.length;
  const grand = means.reduce((a, b) => a + b, 0) / m;
  const B = (n * means.reduce((a, mu) => a + (mu - grand) ** 2, 0)) / (m - 1);
  const W = vars.reduce((a, b) => a + b, 0) / m;
  if (W === 0) return B === 0 ? 1 : Infinity;
  return Math.sqrt((B / W + n - 1) / n);
}

/** Pooled moments, split-R̂ and ESS across all chains from merged summaries (see the module docs). */
export function mergedStats(s: ChainSummaries): MergedStats {
  if (s === null || typeof s !== 'object' || !(s.halfAcov instanceof Float64Array)) {
    throw new EbmError(
      'INVALID_PARAM',
      'mergedStats needs summaries from summarizeDraws / concatSummaries.',
      {
        argument: 'summaries',
        value: s === null ? null : typeof s,
        fix: 'pass the value returned by summarizeDraws or concatSummaries.',
      },
    );
  }
  const { nChains, nKept, dim, maxLag } = s;
  if (nChains < 1) {
    throw new EbmError('INVALID_PARAM', 'mergedStats needs at least one chain.', {
      argument: 'summaries.nChains',
      value: nChains,
      fix: 'run at least one chain.',
    });
  }
  const half = Math.floor(nKept / 2);
  const mean: number[] = [];
  const variance: number[] = [];
  const rhat: number[] = [];
  const ess: number[] = [];
  const essTruncated: boolean[] = [];
  const mcse: number[] = [];
  for (let j = 0; j < dim; j++) {
    // Chan et al.: merge (n_a, μ_a, M2_a) with (n_b, μ_b, M2_b), chain by chain in order.
    let nA = 0;
    let mu = 0;
    let q = 0;
    for (let c = 0; c < nChains; c++) {
      const nB = nKept;
      const muB = s.mean[c * dim + j]!;
      const d = muB - mu;
      const n = nA + nB;
      mu += (d * nB) / n;
      q += s.m2[c * dim + j]! + (d * d * nA * nB) / n;
      nA = n;
    }
    mean.push(mu);
    const v = nA > 1 ? q / (nA - 1) : 0;
    variance.push(v);
    const hm: number[] = [];
    const hv: number[] = [];
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < 2 * nChains; k++) {
      hm.push(s.halfMean[k * dim + j]!);
      hv.push(s.halfVar[k * dim + j]!);
      lo = Math.min(lo, s.halfMin[k * dim + j]!);
      hi = Math.max(hi, s.halfMax[k * dim + j]!);
    }
    rhat.push(rhatFrom(hm, hv, half));
    const constant = hi - lo < 1e-12 * Math.max(1, Math.abs(lo));
    const m = 2 * nChains;
    const meanAcov = (t: number) => {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += s.halfAcov[(k * dim + j) * (maxLag + 1) + t]!;
      return sum / m;
    };
    // Core's autocovariance → ESS step (Geyer's initial monotone sequence), cut at the lags kept.
    const e = constant
      ? { ess: m * half, truncated: false }
      : essFromAutocovariance(hm, meanAcov, half, maxLag);
    ess.push(e.ess);
    essTruncated.push(e.truncated);
    mcse.push(Math.sqrt(v / e.ess));
  }
  return { nChains, nKept, dim, mean, variance, rhat, ess, essTruncated, mcse };
}

/** {@link mergedStats} plus core's rank-normalised split-R̂ and bulk/tail ESS from chain-major draws. */
export function mergedStatsFromDraws(
  draws: ArrayLike<number>,
  nChains: number,
  nKept: number,
  dim: number,
): MergedStats {
  const base = mergedStats(summarizeDraws(draws, nChains, nKept, dim));
  const rn = { rhat: [] as number[], essBulk: [] as number[], essTail: [] as number[] };
  for (let j = 0; j < dim; j++) {
    const chains: Float64Array[] = [];
    for (let c = 0; c < nChains; c++) {
      const row = new Float64Array(nKept);
      for (let t = 0; t < nKept; t++) row[t] = draws[(c * nKept + t) * dim + j]!;
      chains.push(row);
    }
    const r = splitRhatEss(chains);
    rn.rhat.push(r.rhat);
    rn.essBulk.push(r.essBulk);
    rn.essTail.push(r.essTail);
  }
  return { ...base, rankNormalized: rn };
}
