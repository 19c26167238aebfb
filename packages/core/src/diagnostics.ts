import { EbmError } from './errors.js';
import { lowerNormalQuantile } from './normal-quantile.js';

/**
 * MCMC diagnostics on host arrays: acceptance rate, autocovariance/autocorrelation (FFT), effective sample
 * size (bulk and tail) and rank-normalised split-R̂, following Vehtari, Gelman, Simpson, Carpenter and Bürkner
 * (2021), "Rank-normalization, folding, and localization: an improved R̂", Bayesian Analysis 16(2), with the
 * same conventions as ArviZ (split chains drop the middle draw of odd lengths; Geyer's initial monotone
 * sequence; ranks with average ties, z = Φ⁻¹((r − 3/8)/(S + 1/4))).
 * A chain set is `number[][]`: one array per chain, all the same length.
 * @module
 */

/** Chains as arrays of draws. */
export type Chains = readonly (readonly number[] | Float32Array | Float64Array)[];

function validateChains(name: string, chains: Chains, minDraws = 2): { m: number; n: number } {
  if (!Array.isArray(chains) || chains.length === 0) {
    throw new EbmError('INVALID_PARAM', `${name} must be a non-empty array of chains.`, {
      argument: name,
      value: chains,
      fix: 'pass one array of draws per chain, e.g. [[...chain0], [...chain1]].',
    });
  }
  const n = chains[0]!.length;
  for (let c = 0; c < chains.length; c++) {
    const ch = chains[c]!;
    if (ch === null || typeof ch !== 'object' || typeof ch.length !== 'number' || ch.length !== n) {
      throw new EbmError('SHAPE_MISMATCH', `${name}: every chain must have the same number of draws.`, {
        argument: name,
        value: chains.map((x) => x?.length),
        fix: 'trim the chains to a common length.',
      });
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(ch[i])) {
        throw new EbmError('NON_FINITE', `${name}[${c}][${i}] is not finite.`, {
          argument: name,
          value: ch[i],
          fix: 'diagnostics need finite draws; check the sampler for divergences.',
        });
      }
    }
  }
  if (n < minDraws) {
    throw new EbmError('INVALID_PARAM', `${name} needs at least ${minDraws} draws per chain.`, {
      argument: name,
      value: n,
      fix: `run longer chains (>= ${minDraws} kept draws).`,
    });
  }
  return { m: chains.length, n };
}

/** Mean of 0/1 accept indicators or acceptance probabilities. */
export function acceptanceRate(accepted: ArrayLike<number>): number {
  if (accepted.length === 0) {
    throw new EbmError('INVALID_PARAM', 'acceptanceRate needs at least one value.', {
      argument: 'accepted',
      value: 0,
      fix: 'pass the per-step accept indicators or probabilities.',
    });
  }
  let s = 0;
  for (let i = 0; i < accepted.length; i++) {
    const v = accepted[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new EbmError('INVALID_PARAM', 'acceptance values must lie in [0, 1].', {
        argument: 'accepted',
        value: v,
        fix: 'pass 0/1 indicators or probabilities min(1, α).',
      });
    }
    s += v;
  }
  return s / accepted.length;
}

// ---- FFT (radix-2, in place) ---------------------------------------------------------------------------

function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
  if (inverse)
    for (let i = 0; i < n; i++) {
      re[i] = re[i]! / n;
      im[i] = im[i]! / n;
    }
}

/**
 * Biased autocovariance of one chain at lags 0..n−1: `γ(t) = (1/n) Σ (x_i − x̄)(x_{i+t} − x̄)` (FFT, exact up to
 * rounding).
 */
export function autocovariance(x: ArrayLike<number>): Float64Array {
  validateChains('x', [Array.from(x)], 1);
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let size = 1;
  while (size < 2 * n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = x[i]! - mean;
  fft(re, im, false);
  for (let i = 0; i < size; i++) {
    re[i] = re[i]! * re[i]! + im[i]! * im[i]!;
    im[i] = 0;
  }
  fft(re, im, true);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) out[t] = re[t]! / n;
  return out;
}

/** Autocorrelation ρ(t) = γ(t)/γ(0) at lags 0..maxLag (default n−1). A constant chain gives ρ = 1 at lag 0, 0 after. */
export function autocorrelation(x: ArrayLike<number>, maxLag?: number): Float64Array {
  const g = autocovariance(x);
  const L = Math.min(maxLag ?? g.length - 1, g.length - 1);
  const out = new Float64Array(L + 1);
  const g0 = g[0]!;
  for (let t = 0; t <= L; t++) out[t] = g0 > 0 ? g[t]! / g0 : t === 0 ? 1 : 0;
  return out;
}

// ---- normal quantile ------------------------------------------------------------------------------------

/** Standard-normal quantile Φ⁻¹(p), p ∈ (0, 1) (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new EbmError('INVALID_PARAM', 'normalQuantile needs p in [0, 1].', {
      argument: 'p',
      value: p,
      fix: 'pass a probability.',
    });
  }
  return p <= 0.5 ? lowerNormalQuantile(p) : -lowerNormalQuantile(1 - p);
}

/** Standard-normal CDF Φ(x) (erfc by Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const y =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - y / 2 : y / 2;
}

// ---- split chains, ranks -------------------------------------------------------------------------------

/** Splits each chain in two halves (the middle draw of an odd length is dropped): m chains → 2m. */
export function splitChains(chains: Chains): number[][] {
  const { n } = validateChains('chains', chains, 2);
  const half = Math.floor(n / 2);
  const out: number[][] = [];
  for (const ch of chains) {
    out.push(Array.from(ch.slice(0, half)));
    out.push(Array.from(ch.slice(n - half)));
  }
  return out;
}

/** Rank-normalises all draws jointly: z = Φ⁻¹((r − 3/8)/(S + 1/4)), average ranks for ties. */
export function rankNormalize(chains: Chains): number[][] {
  const { m, n } = validateChains('chains', chains, 1);
  const S = m * n;
  const flat = new Float64Array(S);
  for (let c = 0; c < m; c++) for (let i = 0; i < n; i++) flat[c * n + i] = chains[c]![i]!;
  const order = Array.from({ length: S }, (_, i) => i).sort((a, b) => flat[a]! - flat[b]!);
  const ranks = new Float64Array(S);
  for (let i = 0; i < S; ) {
    let j = i;
    while (j + 1 < S && flat[order[j + 1]!] === flat[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = avg;
    i = j + 1;
  }
  const out: number[][] = [];
  for (let c = 0; c < m; c++) {
    const row: number[] = new Array(n);
    for (let i = 0; i < n; i++) row[i] = normalQuantile((ranks[c * n + i]! - 0.375) / (S + 0.25));
    out.push(row);
  }
  return out;
}

function quantileLinear(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

function pooledSorted(chains: Chains): Float64Array {
  const all = new Float64Array(chains.length * chains[0]!.length);
  let k = 0;
  for (const ch of chains) for (let i = 0; i < ch.length; i++) all[k++] = ch[i]!;
  return all.sort();
}

// ---- R-hat ---------------------------------------------------------------------------------------------

/** Classic potential scale reduction R̂ = √(((n−1)/n·W + B/n)/W) of the given chains (no splitting). */
export function rhatBasic(chains: Chains): number {
  const { m, n } = validateChains('chains', chains, 2);
  if (m < 2) {
    throw new EbmError('INVALID_PARAM', 'R-hat needs at least 2 chains (split chains count).', {
      argument: 'chains',
      value: m,
      fix: 'run several chains, or use splitRhat on one long chain.',
    });
  }
  const means = chains.map((ch) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += ch[i]!;
    return s / n;
  });
  const vars = chains.map((ch, c) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (ch[i]! - means[c]!) ** 2;
    return s / (n - 1);
  });
  const grand = means.reduce((a, b) => a + b, 0) / m;
  const B = (n * means.reduce((a, mu) => a + (mu - grand) ** 2, 0)) / (m - 1);
  const W = vars.reduce((a, b) => a + b, 0) / m;
  if (W === 0) return B === 0 ? 1 : Infinity;
  return Math.sqrt((B / W + n - 1) / n);
}

/** Rank-normalised split-R̂: max(R̂ of rank-normalised split chains, R̂ of rank-normalised folded split chains). */
export function splitRhat(chains: Chains): number {
  validateChains('chains', chains, 4);
  const split = splitChains(chains);
  const bulk = rhatBasic(rankNormalize(split));
  const med = quantileLinear(pooledSorted(chains), 0.5);
  const folded = chains.map((ch) => Array.from(ch, (v) => Math.abs(v - med)));
  const tail = rhatBasic(rankNormalize(splitChains(folded)));
  return Math.max(bulk, tail);
}

// ---- ESS -----------------------------------------------------------------------------------------------

/** ESS of the given chains (no splitting, no normalisation), Geyer's initial monotone sequence estimator. */
export function essBasic(chains: Chains): number {
  const { m, n } = validateChains('chains', chains, 4);
  const pooled = pooledSorted(chains);
  if (pooled[pooled.length - 1]! - pooled[0]! < 1e-12 * Math.max(1, Math.abs(pooled[0]!))) return m * n;
  const acov = chains.map((ch) => autocovariance(ch));
  const means = chains.map((ch) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += ch[i]!;
    return s / n;
  });
  const meanAcov = (t: number) => acov.reduce((a, g) => a + g[t]!, 0) / m;
  return essFromAutocovariance(means, meanAcov, n).ess;
}

/** Result of {@link essFromAutocovariance}. */
export interface EssFromAutocovariance {
  /** Effective sample size of all `m·n` draws. */
  readonly ess: number;
  /** True when the autocorrelation sequence was cut at `maxLag` before Geyer's rule stopped it. */
  readonly truncated: boolean;
}

/**
 * The autocovariance → ESS step of {@link essBasic} (Geyer's initial monotone sequence, as ArviZ/Stan): from
 * the `m` chain means `x̄_c`, the chain-averaged biased autocovariance `γ̄(t) = mean_c γ_c(t)` and the draws per
 * chain `n`,
 *
 * `W = γ̄(0)·n/(n−1)`, `var⁺ = (n−1)/n·W + B/n` with `B/n = Σ(x̄_c − x̄)²/(m−1)` (0 for one chain),
 * `ρ_t = 1 − (W − γ̄(t))/var⁺`; pairs `ρ_{2k} + ρ_{2k+1}` are summed while positive, made monotone, and
 * `ESS = m·n / max(−1 + 2Σρ_t, 1/log10(m·n))`.
 *
 * `maxLag` (default: unlimited) is the last lag of `γ̄` available — for autocovariances computed only up to a
 * lag: the sequence stops there and `truncated` says so (the ESS is then an over-estimate). A non-finite `W`
 * (a diverged chain) gives `NaN`. A constant chain (all draws equal) is the caller's case: `m·n`.
 *
 * @param means The chain means (`m` of them).
 * @param meanAcov `t ↦ γ̄(t)` for `0 ≤ t ≤ min(n − 1, maxLag)`.
 * @param n Draws per chain.
 */
export function essFromAutocovariance(
  means: ArrayLike<number>,
  meanAcov: (lag: number) => number,
  n: number,
  maxLag: number = Number.POSITIVE_INFINITY,
): EssFromAutocovariance {
  const m = means.length;
  const meanVar = (meanAcov(0) * n) / (n - 1);
  if (!Number.isFinite(meanVar)) return { ess: Number.NaN, truncated: false }; // a diverged chain
  let varPlus = (meanVar * (n - 1)) / n;
  if (m > 1) {
    let g = 0;
    for (let c = 0; c < m; c++) g += means[c]!;
    g /= m;
    let b = 0;
    for (let c = 0; c < m; c++) b += (means[c]! - g) ** 2;
    varPlus += b / (m - 1);
  }
  const rho = new Float64Array(n);
  let rhoEven = 1;
  rho[0] = rhoEven;
  let rhoOdd = 1 - (meanVar - meanAcov(1)) / varPlus;
  rho[1] = rhoOdd;
  let t = 1;
  let truncated = false;
  while (t < n - 3 && rhoEven + rhoOdd > 0) {
    if (t + 2 > maxLag) {
      truncated = true;
      break;
    }
    rhoEven = 1 - (meanVar - meanAcov(t + 1)) / varPlus;
    rhoOdd = 1 - (meanVar - meanAcov(t + 2)) / varPlus;
    if (rhoEven + rhoOdd >= 0) {
      rho[t + 1] = rhoEven;
      rho[t + 2] = rhoOdd;
    }
    t += 2;
  }
  const maxT = t - 2;
  if (rhoEven > 0) rho[maxT + 1] = rhoEven;
  t = 1;
  while (t <= maxT - 2) {
    if (rho[t + 1]! + rho[t + 2]! > rho[t - 1]! + rho[t]!) {
      rho[t + 1] = (rho[t - 1]! + rho[t]!) / 2;
      rho[t + 2] = rho[t + 1]!;
    }
    t += 2;
  }
  const ess = m * n;
  let sum = 0;
  for (let i = 0; i <= maxT; i++) sum += rho[i]!;
  let tau = -1 + 2 * sum + (maxT + 1 < n ? rho[maxT + 1]! : 0);
  tau = Math.max(tau, 1 / Math.log10(ess));
  return { ess: ess / tau, truncated };
}

/** Bulk ESS: ESS of the rank-normalised split chains. */
export function essBulk(chains: Chains): number {
  return essBasic(rankNormalize(splitChains(chains)));
}

/** Tail ESS: min of the ESS of the indicators I(θ ≤ q₀.₀₅) and I(θ ≤ q₀.₉₅) on split chains. */
export function essTail(chains: Chains): number {
  validateChains('chains', chains, 4);
  const sorted = pooledSorted(chains);
  const q05 = quantileLinear(sorted, 0.05);
  const q95 = quantileLinear(sorted, 0.95);
  const ind = (q: number) => chains.map((ch) => Array.from(ch, (v) => (v <= q ? 1 : 0)));
  return Math.min(essBasic(splitChains(ind(q05))), essBasic(splitChains(ind(q95))));
}

/** Rank-normalised split-R̂ and bulk/tail ESS of one quantity in one pass. */
export function splitRhatEss(chains: Chains): { rhat: number; essBulk: number; essTail: number } {
  return { rhat: splitRhat(chains), essBulk: essBulk(chains), essTail: essTail(chains) };
}

/** Monte-Carlo standard error of the mean: sd / √ESS, with the (non-rank-normalised) ESS of the split chains. */
export function mcseMean(chains: Chains): number {
  const { m, n } = validateChains('chains', chains, 4);
  let s = 0;
  let s2 = 0;
  for (const ch of chains)
    for (let i = 0; i < n; i++) {
      s += ch[i]!;
      s2 += ch[i]! * ch[i]!;
    }
  const N = m * n;
  const mean = s / N;
  const sd = Math.sqrt(Math.max(0, (s2 - N * mean * mean) / (N - 1)));
  return sd / Math.sqrt(essBasic(splitChains(chains)));
}
