import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertPositive,
  EbmError,
  type KernelHint,
  normalArray,
  optionKeys,
  type RngKey,
  uniformArray,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { AnalyticEnergy, MAX_DIM } from './base.js';
import { assertSampleCount } from './linalg.js';
import { Tabulated1D } from './tabulated.js';

const DOUBLEWELL_KEYS = optionKeys<DoubleWellOptions>({ barrierHeight: true, b: true, dim: true });
const HARMONIC_KEYS = optionKeys<HarmonicOptions>({ k: true, dim: true });
const ROSENBROCK_KEYS = optionKeys<RosenbrockOptions>({ a: true, b: true, dim: true });
const ACKLEY_KEYS = optionKeys<AckleyOptions>({ a: true, b: true, c: true, dim: true });
const RASTRIGIN_KEYS = optionKeys<RastriginOptions>({ a: true, dim: true });

function optionalDim(dim: unknown, min = 1): number | undefined {
  if (dim === undefined) return undefined;
  return assertInteger('dim', dim, min, MAX_DIM);
}

/** Options of {@link DoubleWell}. */
export interface DoubleWellOptions {
  /** Barrier height h > 0 (default 2, as TorchEBM). */
  readonly barrierHeight?: number;
  /** Well position b > 0: minima at xᵢ = ±b (default 1). */
  readonly b?: number;
  /** Fixed dimension D (default: any). */
  readonly dim?: number;
}

/**
 * Double-well energy (TorchEBM `DoubleWellModel`):
 * E(x) = h · Σᵢ (xᵢ² − b²)², ∇ᵢE = 4h · xᵢ (xᵢ² − b²).
 * 2^D global minima (E = 0) at xᵢ = ±b; a barrier of height h·b⁴ per coordinate at xᵢ = 0.
 * exp(−E) factorises over coordinates: known `coordinateNormalizer` Z₁, `logNormalizer(D)` = D·log Z₁,
 * `coordinateVariance`, and samples by tabulated inverse CDF ({@link DoubleWell.sample}).
 * `kernelHint`: `{ kind: 'doubleWell', params: { barrierHeight, b } }`.
 */
export class DoubleWell extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'doubleWell'>;
  /** h. */
  readonly barrierHeight: number;
  /** b. */
  readonly b: number;

  constructor(options: DoubleWellOptions = {}) {
    assertKnownOptions('DoubleWell', options, DOUBLEWELL_KEYS);
    super({ dim: optionalDim(options.dim), name: 'DoubleWell' });
    this.barrierHeight = assertPositive('barrierHeight', options.barrierHeight ?? 2);
    this.b = assertPositive('b', options.b ?? 1);
    this.kernelHint = { kind: 'doubleWell', params: { barrierHeight: this.barrierHeight, b: this.b } };
  }

  /** Barrier height per coordinate, E at xᵢ = 0 minus E at xᵢ = ±b: h·b⁴. */
  get barrier(): number {
    return this.barrierHeight * this.b ** 4;
  }

  /** The 2^D minima (E = 0) for dimension `dim` (≤ 16; default the fixed `dim`). */
  modes(dim: number | undefined = this.dim): number[][] {
    const d = assertInteger('dim', dim, 1, 16);
    const out: number[][] = [];
    for (let m = 0; m < 2 ** d; m++) {
      out.push(Array.from({ length: d }, (_, i) => ((m >> (d - 1 - i)) & 1 ? this.b : -this.b)));
    }
    return out;
  }

  private table: Tabulated1D | undefined;
  /** The 1-D factor exp(−h(x² − b²)²), tabulated on [−L, L] with h(L² − b²)² = 700 (built on first use). */
  private coordinate(): Tabulated1D {
    if (this.table === undefined) {
      const { barrierHeight: h, b } = this;
      const L = Math.sqrt(b * b + Math.sqrt(700 / h));
      this.table = new Tabulated1D((x) => h * (x * x - b * b) ** 2, -L, L);
    }
    return this.table;
  }

  /** Z₁ = ∫exp(−h(x² − b²)²)dx, the normaliser of one coordinate (Simpson quadrature). */
  get coordinateNormalizer(): number {
    return this.coordinate().z;
  }

  /** Var xᵢ = E[xᵢ²] under exp(−E) (the mean is 0 by symmetry; coordinates are independent). */
  get coordinateVariance(): number {
    return this.coordinate().secondMoment;
  }

  /** log ∫exp(−E) = D·log Z₁. */
  logNormalizer(dim: number | undefined = this.dim): number {
    return assertInteger('dim', dim, 1) * Math.log(this.coordinate().z);
  }

  /**
   * Samples of exp(−E) `[n, dim]`: the coordinates are independent, each drawn by inverting its tabulated CDF
   * (Simpson, 2·10⁵ cells, CDF error far below float32 resolution) at `uniformArray(key, [n, dim])`.
   */
  sample(n: number, key: RngKey, dim: number | undefined = this.dim): tf.Tensor2D {
    const d = assertInteger('dim', dim, 1);
    const u = uniformArray(key, [assertSampleCount(n), d]);
    const t = this.coordinate();
    const out = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) out[i] = t.quantile(u[i]!);
    return tf.tensor2d(out, [n, d], 'float32');
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(this.barrierHeight, tf.sum(tf.square(tf.sub(tf.square(x), this.b * this.b)), 1));
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(tf.mul(4 * this.barrierHeight, x), tf.sub(tf.square(x), this.b * this.b));
  }
}

/** Options of {@link Harmonic}. */
export interface HarmonicOptions {
  /** Spring constant k > 0 (default 1). */
  readonly k?: number;
  /** Fixed dimension D (default: any). */
  readonly dim?: number;
}

/**
 * Harmonic (isotropic quadratic) energy (TorchEBM `HarmonicModel`): E(x) = ½k · Σᵢ xᵢ², ∇E = k·x.
 * exp(−E) is N(0, I/k): mean 0, covariance I/k, log Z = (D/2)·log(2π/k).
 * `kernelHint`: `{ kind: 'harmonic', params: { k } }`.
 */
export class Harmonic extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'harmonic'>;
  /** k. */
  readonly k: number;

  constructor(options: HarmonicOptions = {}) {
    assertKnownOptions('Harmonic', options, HARMONIC_KEYS);
    super({ dim: optionalDim(options.dim), name: 'Harmonic' });
    this.k = assertPositive('k', options.k ?? 1);
    this.kernelHint = { kind: 'harmonic', params: { k: this.k } };
  }

  /** The single mode (E = 0): the origin. */
  modes(dim: number | undefined = this.dim): number[][] {
    return [new Array<number>(assertInteger('dim', dim, 1)).fill(0)];
  }

  /** Standard deviation of every coordinate under exp(−E): 1/√k. */
  get std(): number {
    return 1 / Math.sqrt(this.k);
  }

  /** log ∫exp(−E) = (D/2)·log(2π/k). */
  logNormalizer(dim: number | undefined = this.dim): number {
    const d = assertInteger('dim', dim, 1);
    return (d / 2) * Math.log((2 * Math.PI) / this.k);
  }

  /** Exact samples of N(0, I/k): `[n, dim]`, x = z/√k with z = `normalArray(key, [n, dim])`. */
  sample(n: number, key: RngKey, dim: number | undefined = this.dim): tf.Tensor2D {
    const d = assertInteger('dim', dim, 1);
    const z = normalArray(key, [assertSampleCount(n), d], 0, this.std);
    return tf.tensor2d(z, [n, d], 'float32');
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5 * this.k, tf.sum(tf.square(x), 1));
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(this.k, x);
  }
}

/** Options of {@link Rosenbrock}. */
export interface RosenbrockOptions {
  /** a (default 1). */
  readonly a?: number;
  /** b > 0 (default 100). */
  readonly b?: number;
  /** Fixed dimension D ≥ 2 (default: any D ≥ 2). */
  readonly dim?: number;
}

/**
 * Rosenbrock energy (TorchEBM `RosenbrockModel`), D ≥ 2:
 * E(x) = Σ_{i=1}^{D−1} [(a − xᵢ)² + b·(x_{i+1} − xᵢ²)²],
 * ∇ᵢE = −2(a − xᵢ) − 4b·xᵢ(x_{i+1} − xᵢ²) [i < D] + 2b·(xᵢ − x_{i−1}²) [i > 1].
 * Global minimum 0 at x = (1, …, 1) when a = 1 (at 0 when a = 0).
 * `kernelHint`: `{ kind: 'rosenbrock', params: { a, b } }`.
 */
export class Rosenbrock extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'rosenbrock'>;
  readonly a: number;
  readonly b: number;

  constructor(options: RosenbrockOptions = {}) {
    assertKnownOptions('Rosenbrock', options, ROSENBROCK_KEYS);
    super({ dim: optionalDim(options.dim, 2), name: 'Rosenbrock', minDim: 2 });
    this.a = assertFiniteNumber('a', options.a ?? 1);
    this.b = assertPositive('b', options.b ?? 100);
    this.kernelHint = { kind: 'rosenbrock', params: { a: this.a, b: this.b } };
  }

  /** The global minimiser (E = 0) for a ∈ {0, 1}: (a, …, a). Throws `NOT_IMPLEMENTED` for other a. */
  minimum(dim: number | undefined = this.dim): number[] {
    const d = assertInteger('dim', dim, 2);
    if (this.a !== 0 && this.a !== 1) {
      throw new EbmError(
        'NOT_IMPLEMENTED',
        'The Rosenbrock minimiser has a closed form only for a = 0 or a = 1.',
        {
          argument: 'a',
          value: this.a,
          fix: 'use a = 1 (the default) or find the minimum numerically.',
        },
      );
    }
    return new Array<number>(d).fill(this.a);
  }

  /** `[minimum(dim)]` (a ∈ {0, 1}). */
  modes(dim: number | undefined = this.dim): number[][] {
    return [this.minimum(dim)];
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const d = x.shape[1];
    const head = tf.slice(x, [0, 0], [-1, d - 1]);
    const tail = tf.slice(x, [0, 1], [-1, d - 1]);
    const t1 = tf.square(tf.sub(this.a, head));
    const t2 = tf.mul(this.b, tf.square(tf.sub(tail, tf.square(head))));
    return tf.sum(tf.add(t1, t2), 1);
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    const d = x.shape[1];
    const b = x.shape[0];
    const head = tf.slice(x, [0, 0], [-1, d - 1]);
    const tail = tf.slice(x, [0, 1], [-1, d - 1]);
    const r = tf.sub(tail, tf.square(head)); // x_{i+1} − x_i², [B, D−1]
    const gHead = tf.sub(tf.mul(-2, tf.sub(this.a, head)), tf.mul(tf.mul(4 * this.b, head), r));
    const gTail = tf.mul(2 * this.b, r);
    const zero = tf.zeros([b, 1]);
    return tf.add(tf.concat([gHead, zero], 1), tf.concat([zero, gTail], 1));
  }
}

/** Options of {@link Ackley}. */
export interface AckleyOptions {
  /** a (default 20). */
  readonly a?: number;
  /** b > 0 (default 0.2). */
  readonly b?: number;
  /** c (default 2π). */
  readonly c?: number;
  /** Fixed dimension D (default: any). */
  readonly dim?: number;
}

/**
 * Ackley energy (TorchEBM `AckleyModel`), with r = √((1/D)Σxᵢ²) and m = (1/D)Σcos(c·xᵢ):
 * E(x) = −a·exp(−b·r) − exp(m) + a + e,
 * ∇ᵢE = a·b·exp(−b·r)·xᵢ/(D·r) + (c/D)·exp(m)·sin(c·xᵢ).
 * Global minimum 0 at x = 0. E has a cone point at 0; the gradient there is defined as 0 (the minimum-norm
 * subgradient), so it is finite (TorchEBM's autograd gives NaN).
 * `kernelHint`: `{ kind: 'ackley', params: { a, b, c } }`.
 */
export class Ackley extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'ackley'>;
  readonly a: number;
  readonly b: number;
  readonly c: number;

  constructor(options: AckleyOptions = {}) {
    assertKnownOptions('Ackley', options, ACKLEY_KEYS);
    super({ dim: optionalDim(options.dim), name: 'Ackley' });
    this.a = assertFiniteNumber('a', options.a ?? 20);
    this.b = assertPositive('b', options.b ?? 0.2);
    this.c = assertFiniteNumber('c', options.c ?? 2 * Math.PI);
    this.kernelHint = { kind: 'ackley', params: { a: this.a, b: this.b, c: this.c } };
  }

  /** The global minimiser (E = 0): the origin. */
  minimum(dim: number | undefined = this.dim): number[] {
    return new Array<number>(assertInteger('dim', dim, 1)).fill(0);
  }

  /** The global mode `[minimum(dim)]`. */
  modes(dim: number | undefined = this.dim): number[][] {
    return [this.minimum(dim)];
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    // √ of the mean square, with a zero-safe gradient at the origin for autograd users.
    const ms = tf.mean(tf.square(x), 1);
    const r = tf.sqrt(ms);
    const t1 = tf.mul(-this.a, tf.exp(tf.mul(-this.b, r)));
    const t2 = tf.neg(tf.exp(tf.mean(tf.cos(tf.mul(this.c, x)), 1)));
    return tf.add(tf.add(t1, t2), this.a + Math.E);
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    const d = x.shape[1];
    const r = tf.sqrt(tf.mean(tf.square(x), 1, true)); // [B, 1]
    const safeR = tf.maximum(r, 1e-30);
    const coef = tf.div(tf.mul((this.a * this.b) / d, tf.exp(tf.mul(-this.b, r))), safeR); // [B, 1]
    const g1 = tf.where(tf.greater(r, 0), tf.mul(coef, x), tf.zerosLike(x));
    const cx = tf.mul(this.c, x);
    const em = tf.exp(tf.mean(tf.cos(cx), 1, true));
    const g2 = tf.mul(tf.mul(this.c / d, em), tf.sin(cx));
    return tf.add(g1, g2);
  }
}

/** Options of {@link Rastrigin}. */
export interface RastriginOptions {
  /** a (default 10). */
  readonly a?: number;
  /** Fixed dimension D (default: any). */
  readonly dim?: number;
}

/**
 * Rastrigin energy (TorchEBM `RastriginModel`): E(x) = a·D + Σᵢ [xᵢ² − a·cos(2π·xᵢ)],
 * ∇ᵢE = 2xᵢ + 2πa·sin(2π·xᵢ). Global minimum 0 at x = 0; local minima near the integer lattice.
 * `kernelHint`: `{ kind: 'rastrigin', params: { a } }`.
 */
export class Rastrigin extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'rastrigin'>;
  readonly a: number;

  constructor(options: RastriginOptions = {}) {
    assertKnownOptions('Rastrigin', options, RASTRIGIN_KEYS);
    super({ dim: optionalDim(options.dim), name: 'Rastrigin' });
    this.a = assertFiniteNumber('a', options.a ?? 10);
    this.kernelHint = { kind: 'rastrigin', params: { a: this.a } };
  }

  /** The global minimiser (E = 0): the origin. */
  minimum(dim: number | undefined = this.dim): number[] {
    return new Array<number>(assertInteger('dim', dim, 1)).fill(0);
  }

  /** The global mode `[minimum(dim)]`. */
  modes(dim: number | undefined = this.dim): number[][] {
    return [this.minimum(dim)];
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const d = x.shape[1];
    const terms = tf.sub(tf.square(x), tf.mul(this.a, tf.cos(tf.mul(2 * Math.PI, x))));
    return tf.add(tf.sum(terms, 1), this.a * d);
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.mul(2, x), tf.mul(2 * Math.PI * this.a, tf.sin(tf.mul(2 * Math.PI, x))));
  }
}
