import {
  assertAllocation,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertOneOf,
  assertPositive,
  EbmError,
  foldIn,
  normalArray,
  optionKeys,
  type RngKey,
  splitKey,
  toKey,
  uniformArray,
} from '@ebm/core';
import { PointDataset, permutation, type Seed } from './dataset.js';

/**
 * TorchEBM's eight synthetic 2-D generators (`torchebm/datasets/generators.py`, same parameters and defaults)
 * plus two spirals and concentric rings. Every generator is a pure function of its options: the randomness
 * comes from core's counter-based RNG keyed by `seed` (default 0), computed on the host in float64 and stored
 * as float32, so the same seed gives the same points on every backend and every run.
 * @module
 */

/** Options shared by every generator. */
export interface CommonOptions {
  /** Seed or key (default 0). */
  readonly seed?: Seed;
}

interface Keys {
  readonly noise: RngKey;
  readonly shuffle: RngKey;
  readonly a: RngKey;
  readonly b: RngKey;
}

function keys(seed: Seed | undefined): Keys {
  const [noise, shuffle, a, b] = splitKey(toKey(seed ?? 0), 4) as [RngKey, RngKey, RngKey, RngKey];
  return { noise, shuffle, a, b };
}

function nSamplesOf(value: unknown, fallback = 2000): number {
  const n = assertInteger('nSamples', value ?? fallback, 1);
  // Fail before allocating: nSamples: 1e9 would otherwise fill memory for a minute.
  assertAllocation(
    `a dataset of ${n} points`,
    2 * n,
    'use fewer samples (or draw batches from a smaller dataset).',
  );
  return n;
}

/** Adds N(0, σ²) noise in place from `normalArray(key, [n, 2])`. */
function addNoise(data: Float64Array, sigma: number, key: RngKey): void {
  if (sigma === 0) return;
  const z = normalArray(key, [data.length / 2, 2]);
  for (let i = 0; i < data.length; i++) data[i] = data[i]! + sigma * z[i]!;
}

/** Applies a row permutation to data (2 columns) and labels. */
function shuffleRows(data: Float64Array, labels: Int32Array | undefined, key: RngKey): void {
  const n = data.length / 2;
  const perm = permutation(n, key);
  const d = data.slice();
  const l = labels?.slice();
  for (let i = 0; i < n; i++) {
    const p = perm[i]!;
    data[2 * i] = d[2 * p]!;
    data[2 * i + 1] = d[2 * p + 1]!;
    if (labels !== undefined) labels[i] = l![p]!;
  }
}

/** Equal counts per class, the remainder going to the first classes: class of row i in 0..n−1. */
function equalLabels(n: number, k: number): Int32Array {
  const labels = new Int32Array(n);
  const base = Math.floor(n / k);
  const rem = n % k;
  let row = 0;
  for (let c = 0; c < k; c++) {
    const count = base + (c < rem ? 1 : 0);
    for (let j = 0; j < count; j++) labels[row++] = c;
  }
  return labels;
}

function finish(name: string, data: Float64Array, labels?: Int32Array): PointDataset {
  return new PointDataset(name, Float32Array.from(data), 2, labels);
}

/** Options of {@link gaussianMixture}. */
export interface GaussianMixtureDatasetOptions extends CommonOptions {
  /** Number of points (default 2000). */
  readonly nSamples?: number;
  /** Number of components K (default 8, at most 2²⁰). */
  readonly nComponents?: number;
  /** Standard deviation of each component (default 0.05). */
  readonly std?: number;
  /** Radius r of the ring of centres (default 1). */
  readonly radius?: number;
}

const GAUSSIANMIXTURE_KEYS = optionKeys<GaussianMixtureDatasetOptions>({
  seed: true,
  nSamples: true,
  nComponents: true,
  std: true,
  radius: true,
});

/**
 * Ring of Gaussians (TorchEBM `GaussianMixtureDataset`): centres cₖ = r·(cos θₖ, sin θₖ), θₖ = 2πk/K; equal
 * counts per component (the remainder to the first components); x = c_label + std·z; shuffled.
 * `labels` holds the component of each point.
 */
export function gaussianMixture(options: GaussianMixtureDatasetOptions = {}): PointDataset {
  assertKnownOptions('gaussianMixture', options, GAUSSIANMIXTURE_KEYS);
  const n = nSamplesOf(options.nSamples);
  const K = assertInteger('nComponents', options.nComponents ?? 8, 1, 2 ** 20);
  const std = assertNonNegative('std', options.std ?? 0.05);
  const r = assertPositive('radius', options.radius ?? 1);
  const k = keys(options.seed);
  const labels = equalLabels(n, K);
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * labels[i]!) / K;
    data[2 * i] = r * Math.cos(t);
    data[2 * i + 1] = r * Math.sin(t);
  }
  addNoise(data, std, k.noise);
  shuffleRows(data, labels, k.shuffle);
  return finish('gaussianMixture', data, labels);
}

/** Options of {@link eightGaussians}. */
export interface EightGaussiansOptions extends CommonOptions {
  /** Number of points (default 2000). */
  readonly nSamples?: number;
  /** Standard deviation of each component (default 0.02). */
  readonly std?: number;
  /** Distance of the centres from the origin (default 2). */
  readonly scale?: number;
}

/** The eight centres of {@link eightGaussians} before scaling, in TorchEBM's order. */
export const EIGHT_GAUSSIAN_CENTERS: readonly (readonly [number, number])[] = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [Math.SQRT1_2, Math.SQRT1_2],
  [Math.SQRT1_2, -Math.SQRT1_2],
  [-Math.SQRT1_2, Math.SQRT1_2],
  [-Math.SQRT1_2, -Math.SQRT1_2],
];

const EIGHTGAUSSIANS_KEYS = optionKeys<EightGaussiansOptions>({
  seed: true,
  nSamples: true,
  std: true,
  scale: true,
});

/**
 * Eight Gaussians (TorchEBM `EightGaussiansDataset`): centres scale·{(±1, 0), (0, ±1), (±1/√2, ±1/√2)};
 * equal counts (remainder to the first centres); x = c_label + std·z; shuffled. `labels` = centre index.
 */
export function eightGaussians(options: EightGaussiansOptions = {}): PointDataset {
  assertKnownOptions('eightGaussians', options, EIGHTGAUSSIANS_KEYS);
  const n = nSamplesOf(options.nSamples);
  const std = assertNonNegative('std', options.std ?? 0.02);
  const scale = assertPositive('scale', options.scale ?? 2);
  const k = keys(options.seed);
  const labels = equalLabels(n, 8);
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const c = EIGHT_GAUSSIAN_CENTERS[labels[i]!]!;
    data[2 * i] = scale * c[0];
    data[2 * i + 1] = scale * c[1];
  }
  addNoise(data, std, k.noise);
  shuffleRows(data, labels, k.shuffle);
  return finish('eightGaussians', data, labels);
}

/** Options of {@link twoMoons}. */
export interface TwoMoonsOptions extends CommonOptions {
  /** Number of points (default 2000): ⌊n/2⌋ on the outer moon, the rest on the inner. */
  readonly nSamples?: number;
  /** Noise scale (default 0.05): the standard deviation with `noiseKind: 'normal'`, the shift's width with `'uniformShift'`. */
  readonly noise?: number;
  /**
   * How the noise is added (default `'normal'`, TorchEBM and scikit-learn): `'normal'` adds noise·z, z ~ N(0, I₂), to
   * each point; `'uniformShift'` adds one u ~ U[0, noise) to **both** coordinates of a point, a shift along the
   * diagonal (torchdyn's `generate_moons`, which torchcfm's `sample_moons` and the Energy Matching paper's 2-D code
   * use): thin arcs smeared along (1, 1), not blurred.
   */
  readonly noiseKind?: 'normal' | 'uniformShift';
  /** Shuffle the rows (default false, as TorchEBM: outer moon first). */
  readonly shuffle?: boolean;
}

function linspace(a: number, b: number, n: number, i: number): number {
  return n === 1 ? a : a + ((b - a) * i) / (n - 1);
}

const TWOMOONS_KEYS = optionKeys<TwoMoonsOptions>({
  seed: true,
  nSamples: true,
  noise: true,
  noiseKind: true,
  shuffle: true,
});

/** Adds u ~ U[0, width) to both coordinates of each point, in place (torchdyn's `rand(n, 1) * noise`). */
function addDiagonalShift(data: Float64Array, width: number, key: RngKey): void {
  if (width === 0) return;
  const u = uniformArray(key, [data.length / 2]);
  for (let i = 0; i < u.length; i++) {
    data[2 * i] = data[2 * i]! + width * u[i]!;
    data[2 * i + 1] = data[2 * i + 1]! + width * u[i]!;
  }
}

/**
 * Two moons (TorchEBM `TwoMoonsDataset`): θ = linspace(0, π) (deterministic), outer moon (cos θ, sin θ) for
 * the first ⌊n/2⌋ rows, inner moon (1 − cos θ, 1 − sin θ − 0.5) for the rest; + noise·z (`noiseKind: 'normal'`)
 * or + noise·u·(1, 1), u ~ U[0, 1) (`'uniformShift'`, torchdyn's moons). Not shuffled unless `shuffle: true`.
 * `labels`: 0 outer, 1 inner.
 */
export function twoMoons(options: TwoMoonsOptions = {}): PointDataset {
  assertKnownOptions('twoMoons', options, TWOMOONS_KEYS);
  const n = nSamplesOf(options.nSamples);
  const noise = assertNonNegative('noise', options.noise ?? 0.05);
  const noiseKind = assertOneOf('noiseKind', options.noiseKind ?? 'normal', [
    'normal',
    'uniformShift',
  ] as const);
  const k = keys(options.seed);
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const data = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < nOut; i++) {
    const t = linspace(0, Math.PI, nOut, i);
    data[2 * i] = Math.cos(t);
    data[2 * i + 1] = Math.sin(t);
  }
  for (let i = 0; i < nIn; i++) {
    const t = linspace(0, Math.PI, nIn, i);
    const r = nOut + i;
    data[2 * r] = 1 - Math.cos(t);
    data[2 * r + 1] = 1 - Math.sin(t) - 0.5;
    labels[r] = 1;
  }
  if (noiseKind === 'normal') addNoise(data, noise, k.noise);
  else addDiagonalShift(data, noise, k.noise);
  if (options.shuffle) shuffleRows(data, labels, k.shuffle);
  return finish('twoMoons', data, labels);
}

/** Options of {@link swissRoll}. */
export interface SwissRollOptions extends CommonOptions {
  readonly nSamples?: number;
  /** Noise standard deviation before standardisation (default 0.05). */
  readonly noise?: number;
  /** Arc-length factor (default 3). */
  readonly arclength?: number;
}

const SWISSROLL_KEYS = optionKeys<SwissRollOptions>({
  seed: true,
  nSamples: true,
  noise: true,
  arclength: true,
});

/**
 * Swiss roll (TorchEBM `SwissRollDataset`): u ~ U(0, 1), t = arclength·π·(1 + 2u), p = (t cos t, t sin t) +
 * noise·z, then standardised as (p − mean)/(2·mean(std_x, std_y)) (unbiased std, as torch).
 */
export function swissRoll(options: SwissRollOptions = {}): PointDataset {
  assertKnownOptions('swissRoll', options, SWISSROLL_KEYS);
  const n = nSamplesOf(options.nSamples);
  const noise = assertNonNegative('noise', options.noise ?? 0.05);
  const arclength = assertPositive('arclength', options.arclength ?? 3);
  const k = keys(options.seed);
  const u = uniformArray(k.a, [n]);
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = arclength * Math.PI * (1 + 2 * u[i]!);
    data[2 * i] = t * Math.cos(t);
    data[2 * i + 1] = t * Math.sin(t);
  }
  addNoise(data, noise, k.noise);
  const mean = [0, 0];
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) mean[j] = mean[j]! + data[2 * i + j]! / n;
  const ss = [0, 0];
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) ss[j] = ss[j]! + (data[2 * i + j]! - mean[j]!) ** 2;
  const denom = n > 1 ? n - 1 : 1;
  const scale = 2 * ((Math.sqrt(ss[0]! / denom) + Math.sqrt(ss[1]! / denom)) / 2);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < 2; j++) data[2 * i + j] = (data[2 * i + j]! - mean[j]!) / (scale || 1);
  return finish('swissRoll', data);
}

/** Options of {@link circle}. */
export interface CircleOptions extends CommonOptions {
  readonly nSamples?: number;
  /** Noise standard deviation (default 0.05). */
  readonly noise?: number;
  /** Radius (default 1). */
  readonly radius?: number;
}

const CIRCLE_KEYS = optionKeys<CircleOptions>({ seed: true, nSamples: true, noise: true, radius: true });

/** Circle (TorchEBM `CircleDataset`): φ = 2πu, u ~ U(0, 1); x = radius·(cos φ, sin φ) + noise·z. */
export function circle(options: CircleOptions = {}): PointDataset {
  assertKnownOptions('circle', options, CIRCLE_KEYS);
  const n = nSamplesOf(options.nSamples);
  const noise = assertNonNegative('noise', options.noise ?? 0.05);
  const radius = assertPositive('radius', options.radius ?? 1);
  const k = keys(options.seed);
  const u = uniformArray(k.a, [n]);
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const phi = 2 * Math.PI * u[i]!;
    data[2 * i] = radius * Math.cos(phi);
    data[2 * i + 1] = radius * Math.sin(phi);
  }
  addNoise(data, noise, k.noise);
  return finish('circle', data);
}

/** Options of {@link checkerboard}. */
export interface CheckerboardOptions extends CommonOptions {
  readonly nSamples?: number;
  /** Half-width L of the board [−L, L]² (default 4). */
  readonly rangeLimit?: number;
  /** Noise standard deviation (default 0, as TorchEBM after its fix). */
  readonly noise?: number;
}

/** True when (x, y) lies in a filled cell of the checkerboard: ⌊x⌋ + ⌊y⌋ odd. */
export function isCheckerboardCell(x: number, y: number): boolean {
  return (Math.floor(x) + Math.floor(y)) % 2 !== 0;
}

const CHECKERBOARD_KEYS = optionKeys<CheckerboardOptions>({
  seed: true,
  nSamples: true,
  rangeLimit: true,
  noise: true,
});

/**
 * Checkerboard (TorchEBM `CheckerboardDataset`, without its leak): points uniform on the filled unit cells of
 * [−L, L]², a cell being filled when ⌊x⌋ + ⌊y⌋ is odd. Candidates are drawn from U[−L, L]², moved by
 * noise·z, and kept only if the moved point is still in a filled cell inside the board (rejection after the
 * noise, where TorchEBM added noise after rejection and leaked ~1.45% of points into empty cells).
 * Rejection rounds use keys `foldIn(key, round)`.
 */
export function checkerboard(options: CheckerboardOptions = {}): PointDataset {
  assertKnownOptions('checkerboard', options, CHECKERBOARD_KEYS);
  const n = nSamplesOf(options.nSamples);
  const L = assertPositive('rangeLimit', options.rangeLimit ?? 4);
  const noise = assertNonNegative('noise', options.noise ?? 0);
  if (L < 1) {
    throw new EbmError('INVALID_PARAM', 'rangeLimit must be >= 1 so that the board has a filled cell.', {
      argument: 'rangeLimit',
      value: L,
      fix: 'use rangeLimit >= 1 (default 4).',
    });
  }
  const k = keys(options.seed);
  const data = new Float64Array(2 * n);
  let filled = 0;
  for (let round = 0; filled < n; round++) {
    if (round > 10_000) {
      throw new EbmError('DIVERGED', 'checkerboard rejection sampling accepted too few points.', {
        argument: 'noise',
        value: noise,
        fix: 'use a noise smaller than the cell size (e.g. <= 0.2).',
      });
    }
    const m = Math.max(64, 2 * (n - filled) + 16);
    const u = uniformArray(foldIn(k.a, round), [m, 2], -L, L);
    const z = noise > 0 ? normalArray(foldIn(k.noise, round), [m, 2]) : undefined;
    for (let i = 0; i < m && filled < n; i++) {
      const x = u[2 * i]! + (z ? noise * z[2 * i]! : 0);
      const y = u[2 * i + 1]! + (z ? noise * z[2 * i + 1]! : 0);
      if (Math.abs(x) > L || Math.abs(y) > L || !isCheckerboardCell(x, y)) continue;
      data[2 * filled] = x;
      data[2 * filled + 1] = y;
      filled++;
    }
  }
  return finish('checkerboard', data);
}

/** Options of {@link pinwheel}. */
export interface PinwheelOptions extends CommonOptions {
  readonly nSamples?: number;
  /** Number of blades K (default 5). */
  readonly nClasses?: number;
  /** Noise standard deviation added at the end (default 0.05). */
  readonly noise?: number;
  /** Radial scale (default 2). */
  readonly radialScale?: number;
  /** Angular spread (default 0.1). */
  readonly angularScale?: number;
  /** Spiral twist (default 5). */
  readonly spiralScale?: number;
}

const PINWHEEL_KEYS = optionKeys<PinwheelOptions>({
  seed: true,
  nSamples: true,
  nClasses: true,
  noise: true,
  radialScale: true,
  angularScale: true,
  spiralScale: true,
});

/**
 * Pinwheel (TorchEBM `PinwheelDataset`): per blade k (equal counts, remainder to the first): t = √u,
 * r = t·radialScale, θ = 2πk/K + spiralScale·t + angularScale·ε with u ~ U(0, 1), ε ~ N(0, 1);
 * x = r·(cos θ, sin θ); shuffled; + noise·z. `labels` = blade.
 */
export function pinwheel(options: PinwheelOptions = {}): PointDataset {
  assertKnownOptions('pinwheel', options, PINWHEEL_KEYS);
  const n = nSamplesOf(options.nSamples);
  const K = assertInteger('nClasses', options.nClasses ?? 5, 1);
  const noise = assertNonNegative('noise', options.noise ?? 0.05);
  const radial = assertPositive('radialScale', options.radialScale ?? 2);
  const angular = assertNonNegative('angularScale', options.angularScale ?? 0.1);
  const spiral = assertNonNegative('spiralScale', options.spiralScale ?? 5);
  const k = keys(options.seed);
  const labels = equalLabels(n, K);
  const u = uniformArray(k.a, [n]);
  const eps = normalArray(k.b, [n]);
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = Math.sqrt(u[i]!);
    const r = t * radial;
    const theta = (2 * Math.PI * labels[i]!) / K + spiral * t + angular * eps[i]!;
    data[2 * i] = r * Math.cos(theta);
    data[2 * i + 1] = r * Math.sin(theta);
  }
  shuffleRows(data, labels, k.shuffle);
  addNoise(data, noise, k.noise);
  return finish('pinwheel', data, labels);
}

/** Options of {@link grid}. */
export interface GridOptions extends CommonOptions {
  /** Points per axis n (default 10): n² points. */
  readonly nSamplesPerDim?: number;
  /** Half-width L (default 1). */
  readonly rangeLimit?: number;
  /** Noise standard deviation (default 0.01). */
  readonly noise?: number;
}

const GRID_KEYS = optionKeys<GridOptions>({
  seed: true,
  nSamplesPerDim: true,
  rangeLimit: true,
  noise: true,
});

/**
 * Grid (TorchEBM `GridDataset`): the n² points of meshgrid(linspace(−L, L, n)) in ij order
 * (row i·n + j is (gᵢ, gⱼ)), + noise·z.
 */
export function grid(options: GridOptions = {}): PointDataset {
  assertKnownOptions('grid', options, GRID_KEYS);
  const m = assertInteger('nSamplesPerDim', options.nSamplesPerDim ?? 10, 1);
  assertAllocation(`a grid of ${m}² points`, 2 * m * m, 'use a smaller nSamplesPerDim.');
  const L = assertPositive('rangeLimit', options.rangeLimit ?? 1);
  const noise = assertNonNegative('noise', options.noise ?? 0.01);
  const k = keys(options.seed);
  const data = new Float64Array(2 * m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const r = i * m + j;
      data[2 * r] = linspace(-L, L, m, i);
      data[2 * r + 1] = linspace(-L, L, m, j);
    }
  }
  addNoise(data, noise, k.noise);
  return finish('grid', data);
}

/** Options of {@link twoSpirals}. */
export interface TwoSpiralsOptions extends CommonOptions {
  /** Number of points (default 2000), split equally (remainder to spiral 0). */
  readonly nSamples?: number;
  /** Noise standard deviation (default 0.05). */
  readonly noise?: number;
  /** Turns of each spiral (default 1.5). */
  readonly turns?: number;
  /** Outer radius R (default 2). */
  readonly radius?: number;
}

const TWOSPIRALS_KEYS = optionKeys<TwoSpiralsOptions>({
  seed: true,
  nSamples: true,
  noise: true,
  turns: true,
  radius: true,
});

/**
 * Two interleaved Archimedean spirals (beyond TorchEBM; issue #179): for spiral s ∈ {0, 1},
 * θ = 2π·turns·√u (u ~ U(0, 1), uniform in area along the arm), r = R·θ/(2π·turns),
 * x = r·(cos(θ + sπ), sin(θ + sπ)) + noise·z; shuffled. `labels` = spiral.
 */
export function twoSpirals(options: TwoSpiralsOptions = {}): PointDataset {
  assertKnownOptions('twoSpirals', options, TWOSPIRALS_KEYS);
  const n = nSamplesOf(options.nSamples);
  const noise = assertNonNegative('noise', options.noise ?? 0.05);
  const turns = assertPositive('turns', options.turns ?? 1.5);
  const R = assertPositive('radius', options.radius ?? 2);
  const k = keys(options.seed);
  const labels = equalLabels(n, 2);
  const u = uniformArray(k.a, [n]);
  const data = new Float64Array(2 * n);
  const tMax = 2 * Math.PI * turns;
  for (let i = 0; i < n; i++) {
    const theta = tMax * Math.sqrt(u[i]!);
    const r = (R * theta) / tMax;
    const phase = theta + labels[i]! * Math.PI;
    data[2 * i] = r * Math.cos(phase);
    data[2 * i + 1] = r * Math.sin(phase);
  }
  addNoise(data, noise, k.noise);
  shuffleRows(data, labels, k.shuffle);
  return finish('twoSpirals', data, labels);
}

/** Options of {@link concentricRings}. */
export interface ConcentricRingsOptions extends CommonOptions {
  readonly nSamples?: number;
  /** Number of rings K (default 3), used when `radii` is not given. */
  readonly nRings?: number;
  /** Largest radius (default 2): radii k·maxRadius/K for k = 1..K. */
  readonly maxRadius?: number;
  /** Explicit radii (overrides nRings/maxRadius). */
  readonly radii?: readonly number[];
  /** Noise standard deviation (default 0.05). */
  readonly noise?: number;
}

const CONCENTRICRINGS_KEYS = optionKeys<ConcentricRingsOptions>({
  seed: true,
  nSamples: true,
  nRings: true,
  maxRadius: true,
  radii: true,
  noise: true,
});

/**
 * Concentric rings (beyond TorchEBM; issue #179): ring k has radius rₖ (default k·maxRadius/K, k = 1..K) and
 * an equal share of the points (remainder to the first rings); φ = 2πu; x = rₖ·(cos φ, sin φ) + noise·z;
 * shuffled. `labels` = ring.
 */
export function concentricRings(options: ConcentricRingsOptions = {}): PointDataset {
  assertKnownOptions('concentricRings', options, CONCENTRICRINGS_KEYS);
  const n = nSamplesOf(options.nSamples);
  const noise = assertNonNegative('noise', options.noise ?? 0.05);
  let radii: number[];
  if (options.radii !== undefined) {
    if (!Array.isArray(options.radii) || options.radii.length < 1) {
      throw new EbmError('INVALID_PARAM', 'radii must be a non-empty array of positive numbers.', {
        argument: 'radii',
        value: options.radii,
        fix: 'pass e.g. radii: [0.5, 1, 1.5].',
      });
    }
    radii = options.radii.map((r, i) => assertPositive(`radii[${i}]`, r));
  } else {
    const K = assertInteger('nRings', options.nRings ?? 3, 1);
    const maxR = assertPositive('maxRadius', options.maxRadius ?? 2);
    radii = Array.from({ length: K }, (_, i) => ((i + 1) * maxR) / K);
  }
  const k = keys(options.seed);
  const labels = equalLabels(n, radii.length);
  const u = uniformArray(k.a, [n]);
  const data = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const r = radii[labels[i]!]!;
    const phi = 2 * Math.PI * u[i]!;
    data[2 * i] = r * Math.cos(phi);
    data[2 * i + 1] = r * Math.sin(phi);
  }
  addNoise(data, noise, k.noise);
  shuffleRows(data, labels, k.shuffle);
  return finish('concentricRings', data, labels);
}

/** Every generator by name. */
export const DATASETS = {
  gaussianMixture,
  eightGaussians,
  twoMoons,
  swissRoll,
  circle,
  checkerboard,
  pinwheel,
  grid,
  twoSpirals,
  concentricRings,
} as const;

/** A generator name. */
export type DatasetName = keyof typeof DATASETS;

/** The generator names. */
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

/**
 * Generates a dataset by name, e.g. `makeDataset('twoMoons', { nSamples: 500, seed: 1 })`.
 * Throws `INVALID_PARAM` for an unknown name.
 */
export function makeDataset<N extends DatasetName>(
  name: N,
  options?: Parameters<(typeof DATASETS)[N]>[0],
): PointDataset {
  const gen = (DATASETS as Record<string, ((o?: unknown) => PointDataset) | undefined>)[name as string];
  if (typeof gen !== 'function' || !Object.hasOwn(DATASETS, name)) {
    throw new EbmError('INVALID_PARAM', `unknown dataset "${String(name)}".`, {
      argument: 'name',
      value: name,
      fix: `use one of ${DATASET_NAMES.join(', ')}.`,
    });
  }
  return gen(options);
}
