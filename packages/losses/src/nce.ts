import {
  assertBatch,
  assertFiniteArray,
  assertFiniteNumber,
  assertInteger,
  assertPositive,
  assertSyncReadable,
  EbmError,
  type EnergyFunction,
  type RngKey,
  randomNormal,
  readSync,
  splitKey,
  uniformArray,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { BaseLoss, type BaseLossOptions, type LossParts } from './base.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A noise law for {@link NoiseContrastiveEstimation}: draws and exact log-densities. */
export interface NoiseDistribution {
  /** Feature dimension. */
  readonly dim: number;
  /** `n` draws `[n, dim]` for a key (the caller owns them). */
  sample(key: RngKey, n: number): tf.Tensor2D;
  /** log q(x) per row, `[B]`. */
  logProb(x: tf.Tensor2D): tf.Tensor1D;
}

function toVector(name: string, v: number | readonly number[], dim: number): number[] {
  const arr = typeof v === 'number' ? new Array<number>(dim).fill(v) : [...v];
  if (arr.length !== dim) {
    throw new EbmError('SHAPE_MISMATCH', `${name} must have ${dim} entries.`, {
      argument: name,
      value: arr.length,
      fix: `pass a number or an array of length ${dim}.`,
    });
  }
  assertFiniteArray(name, arr);
  return arr;
}

/** Per-column mean and variance of `[B, D]` data, packed as one `[2D]` vector (one host read). */
function momentsOf(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0);
    return tf.concat([mean, variance]) as tf.Tensor1D;
  });
}

/** Options of {@link GaussianNoise}. */
export interface GaussianNoiseOptions {
  /** Mean vector (its length is the dimension). */
  readonly mean: readonly number[];
  /** Standard deviation, one per dimension or shared (default 1). */
  readonly std?: number | readonly number[];
}

/**
 * Diagonal Gaussian noise q(x) = Πᵢ N(xᵢ; mᵢ, sᵢ²):
 * log q(x) = −½ Σᵢ ((xᵢ − mᵢ)/sᵢ)² − Σᵢ log sᵢ − (D/2) log 2π.
 */
export class GaussianNoise implements NoiseDistribution {
  readonly dim: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];

  constructor(options: GaussianNoiseOptions) {
    if (options === null || typeof options !== 'object' || !Array.isArray(options.mean)) {
      throw new EbmError('INVALID_PARAM', 'GaussianNoise needs { mean: number[] }.', {
        argument: 'mean',
        value: options === null || typeof options !== 'object' ? options : typeof options.mean,
        fix: 'pass e.g. { mean: [0, 0], std: 2 }.',
      });
    }
    this.dim = assertInteger('mean.length', options.mean.length, 1);
    this.mean = toVector('mean', options.mean, this.dim);
    this.std = toVector('std', options.std ?? 1, this.dim);
    this.std.forEach((s, i) => assertPositive(`std[${i}]`, s));
  }

  /**
   * A Gaussian with the per-dimension mean and `inflate`× the standard deviation of `data` (default 1.5).
   * Synchronous (cpu, wasm, webgl); on a backend that cannot read synchronously (WebGPU in Node) it throws
   * `BACKEND_UNAVAILABLE`: use {@link GaussianNoise.fitAsync}.
   */
  static fit(data: tf.Tensor2D, inflate = 1.5): GaussianNoise {
    const x = assertBatch('data', data);
    assertPositive('inflate', inflate);
    assertSyncReadable('GaussianNoise.fit()', 'await GaussianNoise.fitAsync(data)');
    const mv = momentsOf(x);
    try {
      return GaussianNoise.fromMoments(
        readSync(mv, 'GaussianNoise.fit()', 'await GaussianNoise.fitAsync(data)'),
        x.shape[1],
        inflate,
      );
    } finally {
      mv.dispose();
    }
  }

  /** {@link GaussianNoise.fit} with an async read: works on every backend. */
  static async fitAsync(data: tf.Tensor2D, inflate = 1.5): Promise<GaussianNoise> {
    const x = assertBatch('data', data);
    assertPositive('inflate', inflate);
    const mv = momentsOf(x);
    try {
      return GaussianNoise.fromMoments((await mv.data()) as Float32Array, x.shape[1], inflate);
    } finally {
      mv.dispose();
    }
  }

  private static fromMoments(mv: Float32Array, d: number, inflate: number): GaussianNoise {
    const m = Array.from(mv.subarray(0, d));
    const v = Array.from(mv.subarray(d, 2 * d));
    return new GaussianNoise({ mean: m, std: v.map((s) => Math.sqrt(Math.max(s, 1e-12)) * inflate) });
  }

  sample(key: RngKey, n: number): tf.Tensor2D {
    assertInteger('n', n, 1);
    return tf.tidy(
      () =>
        tf.add(
          tf.mul(randomNormal(key, [n, this.dim]), tf.tensor1d(this.std as number[])),
          tf.tensor1d(this.mean as number[]),
        ) as tf.Tensor2D,
    );
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    const logNorm = this.std.reduce((a, s) => a + Math.log(s), 0) + 0.5 * this.dim * LOG_2PI;
    return tf.tidy(() => {
      const z = tf.div(tf.sub(x, tf.tensor1d(this.mean as number[])), tf.tensor1d(this.std as number[]));
      return tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), 1)), logNorm) as tf.Tensor1D;
    });
  }
}

/** Options of {@link GaussianMixtureNoise}. */
export interface GaussianMixtureNoiseOptions {
  /** Component means `[K][D]`. */
  readonly means: readonly (readonly number[])[];
  /** Component weights (K non-negative numbers, normalised; default uniform). */
  readonly weights?: readonly number[];
  /** Standard deviations: shared number, one per component `[K]`, or per component and dimension `[K][D]`. */
  readonly stds?: number | readonly number[] | readonly (readonly number[])[];
}

/**
 * Mixture of diagonal Gaussians q(x) = Σₖ wₖ Πᵢ N(xᵢ; mₖᵢ, sₖᵢ²):
 * log q(x) = logsumexpₖ [log wₖ − ½ Σᵢ ((xᵢ − mₖᵢ)/sₖᵢ)² − Σᵢ log sₖᵢ − (D/2) log 2π].
 */
export class GaussianMixtureNoise implements NoiseDistribution {
  readonly dim: number;
  readonly weights: readonly number[];
  readonly means: readonly (readonly number[])[];
  readonly stds: readonly (readonly number[])[];

  constructor(options: GaussianMixtureNoiseOptions) {
    if (
      options === null ||
      typeof options !== 'object' ||
      !Array.isArray(options.means) ||
      !options.means.length
    ) {
      throw new EbmError('INVALID_PARAM', 'GaussianMixtureNoise needs { means: number[][] } (K ≥ 1).', {
        argument: 'means',
        value: options === null || typeof options !== 'object' ? options : options.means,
        fix: 'pass e.g. { means: [[-2, 0], [2, 0]], stds: 1 }.',
      });
    }
    const k = options.means.length;
    const d = assertInteger('means[0].length', options.means[0]!.length, 1);
    this.dim = d;
    this.means = options.means.map((m, i) => toVector(`means[${i}]`, m, d));
    const w = toVector('weights', options.weights ?? 1, k);
    const total = w.reduce((a, b) => a + b, 0);
    if (w.some((x) => x < 0) || !(total > 0)) {
      throw new EbmError('INVALID_PARAM', 'weights must be non-negative with a positive sum.', {
        argument: 'weights',
        value: w,
        fix: 'pass mixture weights such as [0.5, 0.5].',
      });
    }
    this.weights = w.map((x) => x / total);
    const s = options.stds ?? 1;
    this.stds = Array.from({ length: k }, (_, i) => {
      const si = typeof s === 'number' ? s : s[i];
      if (si === undefined) {
        throw new EbmError('SHAPE_MISMATCH', `stds must have ${k} entries.`, {
          argument: 'stds',
          value: (s as readonly unknown[]).length,
          fix: 'pass one standard deviation (or one row) per component.',
        });
      }
      const row = toVector(`stds[${i}]`, si as number | readonly number[], d);
      row.forEach((x, j) => assertPositive(`stds[${i}][${j}]`, x));
      return row;
    });
  }

  sample(key: RngKey, n: number): tf.Tensor2D {
    assertInteger('n', n, 1);
    const [kc, kz] = splitKey(key, 2) as [RngKey, RngKey];
    const u = uniformArray(kc, [n]);
    const comp = new Int32Array(n);
    const cum: number[] = [];
    this.weights.reduce((a, w, i) => (cum[i] = a + w), 0);
    for (let r = 0; r < n; r++) {
      let c = 0;
      while (c < cum.length - 1 && u[r]! >= cum[c]!) c++;
      comp[r] = c;
    }
    return tf.tidy(() => {
      const idx = tf.tensor1d(comp, 'int32');
      const m = tf.gather(tf.tensor2d(this.means as number[][]), idx);
      const s = tf.gather(tf.tensor2d(this.stds as number[][]), idx);
      return tf.add(m, tf.mul(s, randomNormal(kz, [n, this.dim]))) as tf.Tensor2D;
    });
  }

  logProb(x: tf.Tensor2D): tf.Tensor1D {
    const d = this.dim;
    const consts = this.weights.map(
      (w, k) => Math.log(w) - this.stds[k]!.reduce((a, s) => a + Math.log(s), 0) - 0.5 * d * LOG_2PI,
    );
    return tf.tidy(() => {
      const m = tf.tensor2d(this.means as number[][]); // [K, D]
      const s = tf.tensor2d(this.stds as number[][]);
      const z = tf.div(tf.sub(tf.expandDims(x, 1), m), s); // [B, K, D]
      const comp = tf.add(tf.mul(-0.5, tf.sum(tf.square(z), 2)), tf.tensor1d(consts)); // [B, K]
      return tf.logSumExp(comp, 1) as tf.Tensor1D;
    });
  }
}

/** Options of {@link NoiseContrastiveEstimation}. */
export interface NceOptions extends BaseLossOptions {
  /** The noise law q (its dimension must match the data). */
  readonly noise: NoiseDistribution;
  /** Noise draws per data point ν (default 1); ν·B noise rows per batch (rounded, at least 1). */
  readonly noiseRatio?: number;
  /** Initial value of the learnable log-normaliser c (default 0). */
  readonly logZInit?: number;
  /** Learn c (default true); `false` keeps it fixed at `logZInit`. */
  readonly learnLogZ?: boolean;
}

/**
 * Noise-contrastive estimation (Gutmann & Hyvärinen 2010) with a learnable log-normaliser c:
 * the model is log p(x) = −E(x) − c, and a logistic classifier separates data from ν·B noise draws y ~ q:
 *
 * G(u) = −E(u) − c − log q(u) − log ν,
 * L = −[ mean_x log σ(G(x)) + ν·mean_y log(1 − σ(G(y))) ] (+ λ·(mean E(x)² + mean E(y)²))
 *
 * At the optimum p = data law and c = log ∫ e^{−E}. c is a `tf.Variable` in {@link NoiseContrastiveEstimation.variables},
 * so `optimizer.minimize` and `fit` train it with the energy. Metrics: `loss`, `energyPos`, `energyNeg`
 * (mean E on noise), `logZ`, `accuracy` (fraction classified correctly).
 */
export class NoiseContrastiveEstimation extends BaseLoss {
  readonly noise: NoiseDistribution;
  readonly noiseRatio: number;
  /** The log-normaliser c. */
  readonly logZ: tf.Variable<tf.Rank.R0>;
  override readonly variables: readonly tf.Variable[];

  constructor(energy: EnergyFunction, options: NceOptions, name?: string) {
    super(energy, options, name);
    const n = options?.noise;
    if (
      n === null ||
      typeof n !== 'object' ||
      typeof n.sample !== 'function' ||
      typeof n.logProb !== 'function'
    ) {
      throw new EbmError('INVALID_PARAM', 'NoiseContrastiveEstimation needs a noise distribution.', {
        argument: 'noise',
        value: n === null ? null : typeof n,
        fix: 'pass { noise: new GaussianNoise({ mean: [0, 0], std: 2 }) } or a GaussianMixtureNoise.',
      });
    }
    if (energy.dim !== undefined && n.dim !== energy.dim) {
      throw new EbmError('SHAPE_MISMATCH', 'The noise dimension differs from the energy dimension.', {
        argument: 'noise.dim',
        value: [n.dim, energy.dim],
        fix: `use a noise law of dimension ${energy.dim}.`,
      });
    }
    this.noise = n;
    this.noiseRatio = assertPositive('noiseRatio', options.noiseRatio ?? 1);
    const learn = options.learnLogZ ?? true;
    this.logZ = tf.variable(tf.scalar(assertFiniteNumber('logZInit', options.logZInit ?? 0)), learn);
    this.variables = learn ? [this.logZ] : [];
  }

  protected override validateData(data: unknown): tf.Tensor2D {
    return assertBatch('data', data, this.noise.dim);
  }

  protected computeParts(data: tf.Tensor2D, key: RngKey): LossParts {
    const b = data.shape[0];
    const nu = this.noiseRatio;
    const m = Math.max(1, Math.round(nu * b));
    const [kNoise] = splitKey(key, 1) as [RngKey];
    const y = this.noise.sample(kNoise, m);
    const logNu = Math.log(nu);
    const ePos = this.energy.energy(data, { checkFinite: false });
    const eNeg = this.energy.energy(y, { checkFinite: false });
    const gPos = tf.sub(tf.sub(tf.neg(ePos), this.logZ), tf.add(this.noise.logProb(data), logNu));
    const gNeg = tf.sub(tf.sub(tf.neg(eNeg), this.logZ), tf.add(this.noise.logProb(y), logNu));
    // log σ(g) = −softplus(−g); log(1 − σ(g)) = −softplus(g)
    const termPos = tf.mean(tf.softplus(tf.neg(gPos)));
    const termNeg = tf.mul(nu, tf.mean(tf.softplus(gNeg)));
    let loss = tf.add(termPos, termNeg) as tf.Scalar;
    const pen = this.energyPenalty(ePos, eNeg);
    if (pen !== undefined) loss = tf.add(loss, pen) as tf.Scalar;
    const correct = tf.add(
      tf.sum(tf.cast(tf.greater(gPos, 0), 'float32')),
      tf.sum(tf.cast(tf.lessEqual(gNeg, 0), 'float32')),
    );
    return {
      loss,
      stats: {
        energyPos: tf.mean(ePos) as tf.Scalar,
        energyNeg: tf.mean(eNeg) as tf.Scalar,
        logZ: tf.clone(this.logZ) as tf.Scalar,
        accuracy: tf.div(correct, b + m) as tf.Scalar,
      },
    };
  }

  override dispose(): void {
    this.logZ.dispose();
  }
}
