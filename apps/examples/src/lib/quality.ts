/**
 * The sample-quality score of issue 17, the same for every loss and library: 2000 samples drawn from the
 * trained energy, starting from uniform noise over the data's bounding box, against 2000 fresh held-out points,
 * all in the dataset generator's own coordinates:
 * - multi-bandwidth MMD² (`mmdMulti` of @ebm/core: unbiased RBF MMD² summed over {0.25, 0.5, 1, 2, 4} × the
 *   held-out data's median pairwise distance), beside the same score for uniform noise in the box (the
 *   baseline) and for a second held-out sample (the floor);
 * - eight gaussians: modes holding ≥ 5 % of the samples within 3σ, and the share of samples within 3σ of a mode;
 * - checkerboard: the share of samples inside the data's squares (data ≈ 1, uniform ≈ 0.5).
 */
import {
  checkerboardShare,
  type ModeCoverage,
  medianPairwiseDistance,
  mmdMulti,
  modeCoverage,
  rngKey,
  uniformArray,
} from '@ebm/core';
import { type DatasetName, EIGHT_GAUSSIAN_CENTERS, makeDataset } from '@ebm/datasets';

/** Points of the score (samples, held-out data, floor sample). */
export const SCORE_POINTS = 2000;

/** Axis-aligned box [lo, hi] per coordinate. */
export interface Box {
  readonly lo: [number, number];
  readonly hi: [number, number];
}

/** Held-out points of a dataset in generator coordinates (a seed far from any training seed). */
export function heldOut(dataset: DatasetName, n: number, seed: number): Float32Array {
  const d = makeDataset(dataset, { nSamples: n, seed, ...(dataset === 'twoMoons' ? { shuffle: true } : {}) });
  return Float32Array.from(d.data);
}

/** Bounding box of 2-D points. */
export function boundingBox(x: ArrayLike<number>): Box {
  const lo: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const hi: [number, number] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (let i = 0; i < x.length; i++) {
    const k = i % 2;
    lo[k] = Math.min(lo[k]!, x[i]!);
    hi[k] = Math.max(hi[k]!, x[i]!);
  }
  return { lo, hi };
}

/** n points uniform in a box. */
export function uniformInBox(box: Box, n: number, seed: number): Float32Array {
  const u = uniformArray(rngKey(seed), [n, 2]);
  for (let i = 0; i < u.length; i++) {
    const k = i % 2;
    u[i] = box.lo[k]! + (box.hi[k]! - box.lo[k]!) * u[i]!;
  }
  return u;
}

/** The score of one set of samples (see the module docs). */
export interface QualityScore {
  /** Multi-bandwidth MMD² of the samples, of uniform noise in the box (baseline), of a second held-out set (floor). */
  readonly mmd: { readonly samples: number; readonly baseline: number; readonly floor: number };
  /** Median pairwise distance of the held-out data (the bandwidths are {0.25, …, 4} × this). */
  readonly medianDistance: number;
  /** Eight gaussians only: modes held (≥ 5 % of samples within 3σ) and the share within 3σ of a mode. */
  readonly modes?: { readonly held: number; readonly withinShare: number; readonly shares: number[] };
  /** Checkerboard only: share of samples in the data's squares, of the held-out data, of uniform noise. */
  readonly squares?: { readonly samples: number; readonly data: number; readonly baseline: number };
  /** Whether the dataset's target (issue 17) is met. */
  readonly target: { readonly description: string; readonly met: boolean };
}

/** Targets of issue 17 per dataset (other datasets: MMD² below a fifth of the baseline). */
export function targetOf(dataset: DatasetName): string {
  switch (dataset) {
    case 'twoMoons':
    case 'swissRoll':
      return 'MMD²_multi ≤ 0.005';
    case 'eightGaussians':
      return '8/8 modes and ≥ 90 % within 3σ';
    case 'checkerboard':
      return '≥ 85 % in squares';
    default:
      return 'MMD²_multi ≤ baseline / 5';
  }
}

/** Reference data of the score for a dataset and seed: held-out data, a second held-out set, the box. */
export interface ScoreReference {
  readonly dataset: DatasetName;
  readonly held: Float32Array;
  readonly floorSet: Float32Array;
  readonly box: Box;
  readonly medianDistance: number;
  /** MMD² of uniform noise in the box, and of the second held-out set (computed once). */
  readonly baseline: number;
  readonly floor: number;
  readonly noise: Float32Array;
}

/**
 * Builds the reference of the score (held-out seeds derive from `seed`; the noise is the samplers' start).
 * `draw(n, seed)` replaces the dataset's own generator (e.g. a rescaled variant); the target stays the dataset's.
 */
export function scoreReference(
  dataset: DatasetName,
  seed: number,
  n = SCORE_POINTS,
  draw: (n: number, seed: number) => Float32Array = (m, s) => heldOut(dataset, m, s),
): ScoreReference {
  const held = draw(n, 900_001 + seed);
  const floorSet = draw(n, 700_001 + seed);
  const box = boundingBox(held);
  const med = medianPairwiseDistance(held, 2);
  const noise = uniformInBox(box, n, 500_001 + seed);
  return {
    dataset,
    held,
    floorSet,
    box,
    medianDistance: med,
    baseline: mmdMulti(noise, held, 2, { medianDistance: med }),
    floor: mmdMulti(floorSet, held, 2, { medianDistance: med }),
    noise,
  };
}

/** Scores samples (generator coordinates) against a reference. */
export function scoreSamples(ref: ScoreReference, samples: Float32Array): QualityScore {
  const mmd = {
    samples: mmdMulti(samples, ref.held, 2, { medianDistance: ref.medianDistance }),
    baseline: ref.baseline,
    floor: ref.floor,
  };
  let modes: QualityScore['modes'];
  let squares: QualityScore['squares'];
  let met: boolean;
  if (ref.dataset === 'eightGaussians') {
    // the generator's defaults: scale 2, std 0.02
    const centers = EIGHT_GAUSSIAN_CENTERS.map(([a, b]) => [2 * a, 2 * b]);
    const c: ModeCoverage = modeCoverage(samples, 2, centers, { radius: 3 * 0.02 });
    modes = { held: c.modesHeld, withinShare: c.withinShare, shares: c.shares };
    met = c.modesHeld === 8 && c.withinShare >= 0.9;
  } else if (ref.dataset === 'checkerboard') {
    squares = {
      samples: checkerboardShare(samples),
      data: checkerboardShare(ref.held),
      baseline: checkerboardShare(ref.noise),
    };
    met = squares.samples >= 0.85;
  } else if (ref.dataset === 'twoMoons' || ref.dataset === 'swissRoll') {
    met = mmd.samples <= 0.005;
  } else {
    met = mmd.samples <= mmd.baseline / 5;
  }
  return {
    mmd,
    medianDistance: ref.medianDistance,
    ...(modes ? { modes } : {}),
    ...(squares ? { squares } : {}),
    target: { description: targetOf(ref.dataset), met },
  };
}

/** Rounds the numbers of a score for printing and JSON. */
export function roundScore(s: QualityScore): QualityScore {
  const r = (v: number) => Math.round(v * 1e5) / 1e5;
  return {
    ...s,
    mmd: { samples: r(s.mmd.samples), baseline: r(s.mmd.baseline), floor: r(s.mmd.floor) },
    medianDistance: r(s.medianDistance),
    ...(s.modes
      ? { modes: { ...s.modes, withinShare: r(s.modes.withinShare), shares: s.modes.shares.map(r) } }
      : {}),
  };
}
