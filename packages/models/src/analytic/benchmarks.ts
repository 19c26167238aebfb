import {
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertPositive,
  EbmError,
  type KernelHint,
  normalArray,
  optionKeys,
  type RngKey,
  splitKey,
  uniformArray,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { AnalyticEnergy, MAX_DIM } from './base.js';
import { assertSampleCount } from './linalg.js';
import { Tabulated1D } from './tabulated.js';

const FUNNEL_KEYS = optionKeys<FunnelOptions>({ dim: true, scale: true });
const BANANA_KEYS = optionKeys<BananaOptions>({ dim: true, curvature: true, scale: true });
const MANYWELL_KEYS = optionKeys<ManyWellOptions>({ dim: true });

/** Options of {@link Funnel}. */
export interface FunnelOptions {
  /** Total dimension D ≥ 2: one scale coordinate v and D − 1 coordinates x (default 10). */
  readonly dim?: number;
  /** Standard deviation σ of v (default 3, Neal 2003). */
  readonly scale?: number;
}

/**
 * Neal's funnel (Neal 2003, "Slice sampling"): v ~ N(0, σ²), xᵢ | v ~ N(0, eᵛ) for i = 1..D−1, the row being
 * (v, x₁, …, x_{D−1}). Energy without constant:
 * E(v, x) = v²/(2σ²) + ½·e^{−v}·Σᵢ xᵢ² + ½(D − 1)·v,
 * ∂E/∂v = v/σ² − ½·e^{−v}·Σᵢ xᵢ² + ½(D − 1), ∂E/∂xᵢ = e^{−v}·xᵢ.
 * Known facts: log Z = ½ log(2πσ²) + ½(D − 1) log 2π; marginal of v is N(0, σ²); each xᵢ has mean 0 and
 * variance E[eᵛ] = e^{σ²/2} (heavy-tailed); exact samples by {@link Funnel.sample}.
 * `kernelHint`: `{ kind: 'funnel', params: { scale } }`.
 */
export class Funnel extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'funnel'>;
  /** σ. */
  readonly scale: number;
  /** log ∫exp(−E) = ½ log(2πσ²) + ½(D − 1)·log 2π. */
  readonly logNormalizer: number;
  /** Mean of every coordinate (all 0). */
  readonly mean: readonly number[];
  /** Marginal variances: σ² for v, e^{σ²/2} for each xᵢ (the covariance is diagonal). */
  readonly variances: readonly number[];
  /** The marginal of v: N(0, σ²). */
  readonly vMarginal: { readonly mean: number; readonly std: number };

  constructor(options: FunnelOptions = {}) {
    assertKnownOptions('Funnel', options, FUNNEL_KEYS);
    const d = assertInteger('dim', options.dim ?? 10, 2, MAX_DIM);
    super({ dim: d, name: 'Funnel' });
    this.scale = assertPositive('scale', options.scale ?? 3);
    this.logNormalizer =
      0.5 * Math.log(2 * Math.PI * this.scale ** 2) + ((d - 1) / 2) * Math.log(2 * Math.PI);
    this.mean = new Array<number>(d).fill(0);
    this.variances = [this.scale ** 2, ...new Array<number>(d - 1).fill(Math.exp(this.scale ** 2 / 2))];
    this.vMarginal = { mean: 0, std: this.scale };
    this.kernelHint = { kind: 'funnel', params: { scale: this.scale } };
  }

  /** The mode of the joint density: x = 0, v = −σ²(D − 1)/2 (where E is smallest). */
  modes(): number[][] {
    const d = this.dim!;
    return [[(-(this.scale ** 2) * (d - 1)) / 2, ...new Array<number>(d - 1).fill(0)]];
  }

  /** Exact samples `[n, D]`: z = `normalArray(key, [n, D])`, v = σz₀, xᵢ = e^{v/2}·zᵢ. */
  sample(n: number, key: RngKey): tf.Tensor2D {
    const d = this.dim!;
    const z = normalArray(key, [assertSampleCount(n), d]);
    const out = new Float32Array(n * d);
    for (let r = 0; r < n; r++) {
      const o = r * d;
      const v = this.scale * z[o]!;
      out[o] = v;
      const s = Math.exp(v / 2);
      for (let i = 1; i < d; i++) out[o + i] = s * z[o + i]!;
    }
    return tf.tensor2d(out, [n, d], 'float32');
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const d = x.shape[1];
    const v = tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]);
    const rest = tf.slice(x, [0, 1], [-1, d - 1]);
    const ss = tf.sum(tf.square(rest), 1);
    const t1 = tf.div(tf.square(v), 2 * this.scale ** 2);
    const t2 = tf.mul(0.5, tf.mul(tf.exp(tf.neg(v)), ss));
    return tf.add(tf.add(t1, t2), tf.mul(0.5 * (d - 1), v)) as tf.Tensor1D;
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    const d = x.shape[1];
    const v = tf.slice(x, [0, 0], [-1, 1]);
    const rest = tf.slice(x, [0, 1], [-1, d - 1]);
    const ev = tf.exp(tf.neg(v));
    const ss = tf.sum(tf.square(rest), 1, true);
    const gv = tf.add(tf.sub(tf.div(v, this.scale ** 2), tf.mul(0.5, tf.mul(ev, ss))), 0.5 * (d - 1));
    return tf.concat([gv, tf.mul(ev, rest)], 1) as tf.Tensor2D;
  }
}

/** Options of {@link Banana}. */
export interface BananaOptions {
  /** Dimension D ≥ 2 (default 2); coordinates beyond the second are standard normal. */
  readonly dim?: number;
  /** Curvature b ≥ 0 (default 0.03, Haario et al. 1999 / Inference Gym). */
  readonly curvature?: number;
  /** Standard deviation σ of x₁ (default 10). */
  readonly scale?: number;
}

/**
 * Banana (twisted Gaussian; Haario, Saksman and Tamminen 1999): x₁ ~ N(0, σ²), x₂ | x₁ ~ N(b(x₁² − σ²), 1),
 * xᵢ ~ N(0, 1) for i > 2. With t = x₂ − b(x₁² − σ²):
 * E(x) = x₁²/(2σ²) + ½t² + ½Σ_{i>2} xᵢ²,
 * ∂E/∂x₁ = x₁/σ² − 2b·x₁·t, ∂E/∂x₂ = t, ∂E/∂xᵢ = xᵢ (i > 2).
 * Known facts: log Z = (D/2) log 2π + log σ; mean 0; diagonal covariance with Var x₁ = σ²,
 * Var x₂ = 1 + 2b²σ⁴, Var xᵢ = 1; exact samples by {@link Banana.sample}.
 * `kernelHint`: `{ kind: 'banana', params: { curvature, scale } }`.
 */
export class Banana extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'banana'>;
  readonly curvature: number;
  readonly scale: number;
  /** log ∫exp(−E) = (D/2)·log 2π + log σ. */
  readonly logNormalizer: number;
  /** Mean (all 0). */
  readonly mean: readonly number[];
  /** Marginal variances (the covariance is diagonal): σ², 1 + 2b²σ⁴, 1, …. */
  readonly variances: readonly number[];

  constructor(options: BananaOptions = {}) {
    assertKnownOptions('Banana', options, BANANA_KEYS);
    const d = assertInteger('dim', options.dim ?? 2, 2, MAX_DIM);
    super({ dim: d, name: 'Banana' });
    this.curvature = assertNonNegative('curvature', options.curvature ?? 0.03);
    this.scale = assertPositive('scale', options.scale ?? 10);
    this.logNormalizer = (d / 2) * Math.log(2 * Math.PI) + Math.log(this.scale);
    this.mean = new Array<number>(d).fill(0);
    this.variances = [
      this.scale ** 2,
      1 + 2 * this.curvature ** 2 * this.scale ** 4,
      ...new Array<number>(d - 2).fill(1),
    ];
    this.kernelHint = { kind: 'banana', params: { curvature: this.curvature, scale: this.scale } };
  }

  /** The mode: x₁ = 0, x₂ = −bσ², the rest 0 (E = 0). */
  modes(): number[][] {
    const d = this.dim!;
    return [[0, -this.curvature * this.scale ** 2, ...new Array<number>(d - 2).fill(0)]];
  }

  /** Exact samples `[n, D]`: z = `normalArray(key, [n, D])`, x₁ = σz₀, x₂ = z₁ + b(x₁² − σ²), xᵢ = zᵢ. */
  sample(n: number, key: RngKey): tf.Tensor2D {
    const d = this.dim!;
    const z = normalArray(key, [assertSampleCount(n), d]);
    const out = new Float32Array(n * d);
    const s2 = this.scale ** 2;
    for (let r = 0; r < n; r++) {
      const o = r * d;
      const x1 = this.scale * z[o]!;
      out[o] = x1;
      out[o + 1] = z[o + 1]! + this.curvature * (x1 * x1 - s2);
      for (let i = 2; i < d; i++) out[o + i] = z[o + i]!;
    }
    return tf.tensor2d(out, [n, d], 'float32');
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const d = x.shape[1];
    const x1 = tf.squeeze(tf.slice(x, [0, 0], [-1, 1]), [1]);
    const x2 = tf.squeeze(tf.slice(x, [0, 1], [-1, 1]), [1]);
    const t = tf.sub(x2, tf.mul(this.curvature, tf.sub(tf.square(x1), this.scale ** 2)));
    let e = tf.add(tf.div(tf.square(x1), 2 * this.scale ** 2), tf.mul(0.5, tf.square(t)));
    if (d > 2) e = tf.add(e, tf.mul(0.5, tf.sum(tf.square(tf.slice(x, [0, 2], [-1, d - 2])), 1)));
    return e as tf.Tensor1D;
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    const d = x.shape[1];
    const x1 = tf.slice(x, [0, 0], [-1, 1]);
    const x2 = tf.slice(x, [0, 1], [-1, 1]);
    const t = tf.sub(x2, tf.mul(this.curvature, tf.sub(tf.square(x1), this.scale ** 2)));
    const g1 = tf.sub(tf.div(x1, this.scale ** 2), tf.mul(tf.mul(2 * this.curvature, x1), t));
    const parts = [g1, t];
    if (d > 2) parts.push(tf.slice(x, [0, 2], [-1, d - 2]));
    return tf.concat(parts, 1) as tf.Tensor2D;
  }
}

/** Options of {@link ManyWell}. */
export interface ManyWellOptions {
  /** Even dimension D ≥ 2 (default 32, the standard ManyWell-32). */
  readonly dim?: number;
}

/** 1-D double-well energy of ManyWell: u(x) = x⁴ − 6x² − 0.5x. */
function mwU(x: number): number {
  return x ** 4 - 6 * x * x - 0.5 * x;
}

let mwTable: Tabulated1D | undefined;
/** exp(−u) tabulated on [−5, 5] (u(±5) > 470 above the minimum: the mass outside is < e^{−470}). */
function manyWellTable(): Tabulated1D {
  mwTable ??= new Tabulated1D(mwU, -5, 5);
  return mwTable;
}

/** Minima of u(x) = x⁴ − 6x² − 0.5x (roots of 4x³ − 12x − 0.5 near ±√3), by Newton's method. */
function manyWellMinima(): [number, number] {
  const root = (x0: number): number => {
    let x = x0;
    for (let i = 0; i < 50; i++) x -= (4 * x ** 3 - 12 * x - 0.5) / (12 * x * x - 12);
    return x;
  };
  return [root(-Math.sqrt(3)), root(Math.sqrt(3))];
}

/**
 * ManyWell (Midgley et al. 2023, "Flow annealed importance sampling bootstrap"; GFN benchmark): D/2 independent
 * 2-D blocks, each a tilted double well in its first coordinate and a standard normal in its second:
 * E(x) = Σⱼ [x_{2j}⁴ − 6x_{2j}² − 0.5·x_{2j} + ½x_{2j+1}²],
 * ∂E/∂x_{2j} = 4x_{2j}³ − 12x_{2j} − 0.5, ∂E/∂x_{2j+1} = x_{2j+1}.
 * 2^{D/2} modes at (m±, 0) per block with m± the roots of 4m³ − 12m − 0.5 = 0 (≈ −1.70, 1.77).
 * Known facts: log Z = (D/2)·(log Z₁ + ½ log 2π), Z₁ = ∫exp(−x⁴ + 6x² + 0.5x)dx ≈ 11784.50927 (computed
 * here by Simpson quadrature); {@link ManyWell.sample} draws by a tabulated inverse CDF of the 1-D well.
 * `kernelHint`: `{ kind: 'manyWell', params: {} }`.
 */
export class ManyWell extends AnalyticEnergy {
  override readonly kernelHint: KernelHint<'manyWell'>;
  /** Z₁ = ∫exp(−x⁴ + 6x² + 0.5x)dx. */
  readonly wellNormalizer: number;
  /** log ∫exp(−E) = (D/2)·(log Z₁ + ½ log 2π). */
  readonly logNormalizer: number;
  /** The two minimisers of the 1-D well [m−, m+]. */
  readonly wellMinima: readonly [number, number];

  constructor(options: ManyWellOptions = {}) {
    assertKnownOptions('ManyWell', options, MANYWELL_KEYS);
    const d = assertInteger('dim', options.dim ?? 32, 2, MAX_DIM);
    if (d % 2 !== 0) {
      throw new EbmError('INVALID_PARAM', 'ManyWell dim must be even.', {
        argument: 'dim',
        value: d,
        fix: 'pass an even dimension such as 32.',
      });
    }
    super({ dim: d, name: 'ManyWell' });
    this.wellNormalizer = manyWellTable().z;
    this.logNormalizer = (d / 2) * (Math.log(this.wellNormalizer) + 0.5 * Math.log(2 * Math.PI));
    this.wellMinima = manyWellMinima();
    this.kernelHint = { kind: 'manyWell', params: {} };
  }

  /** The 2^{D/2} modes (D ≤ 32): every choice of m± for the well coordinates, 0 for the others. */
  modes(): number[][] {
    const d = this.dim!;
    const h = d / 2;
    if (h > 16) {
      throw new EbmError('INVALID_PARAM', 'modes() lists at most 2^16 modes (dim <= 32).', {
        argument: 'dim',
        value: d,
        fix: 'use wellMinima to build the modes you need.',
      });
    }
    const out: number[][] = [];
    for (let m = 0; m < 2 ** h; m++) {
      const row = new Array<number>(d).fill(0);
      for (let j = 0; j < h; j++) row[2 * j] = this.wellMinima[(m >> (h - 1 - j)) & 1]!;
      out.push(row);
    }
    return out;
  }

  /**
   * Samples `[n, D]`: the well coordinates by inverting the 1-D CDF, tabulated with Simpson's rule on
   * [−5, 5] with 2·10⁵ cells and linearly interpolated within a cell (CDF error far below float32 resolution;
   * the mass outside [−5, 5] is below 1e−200). With [k₁, k₂] = `splitKey(key, 2)`: `uniformArray(k₁, [n, D])`
   * drives the wells and `normalArray(k₂, [n, D])` the Gaussian coordinates.
   */
  sample(n: number, key: RngKey): tf.Tensor2D {
    const d = this.dim!;
    const table = manyWellTable();
    const [ku, kg] = splitKey(key, 2) as [RngKey, RngKey];
    const u = uniformArray(ku, [assertSampleCount(n), d]);
    const g = normalArray(kg, [n, d]);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) out[i] = (i % d) % 2 === 1 ? g[i]! : table.quantile(u[i]!);
    return tf.tensor2d(out, [n, d], 'float32');
  }

  private split(x: tf.Tensor2D): { w: tf.Tensor3D; shape: [number, number] } {
    const [b, d] = x.shape;
    return { w: tf.reshape(x, [b, d / 2, 2]) as tf.Tensor3D, shape: [b, d] };
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const { w } = this.split(x);
    const a = tf.squeeze(tf.slice(w, [0, 0, 0], [-1, -1, 1]), [2]);
    const c = tf.squeeze(tf.slice(w, [0, 0, 1], [-1, -1, 1]), [2]);
    const a2 = tf.square(a);
    const u = tf.sub(tf.sub(tf.square(a2), tf.mul(6, a2)), tf.mul(0.5, a));
    return tf.sum(tf.add(u, tf.mul(0.5, tf.square(c))), 1) as tf.Tensor1D;
  }

  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    const { w, shape } = this.split(x);
    const a = tf.slice(w, [0, 0, 0], [-1, -1, 1]);
    const c = tf.slice(w, [0, 0, 1], [-1, -1, 1]);
    const ga = tf.sub(tf.sub(tf.mul(4, tf.pow(a, 3)), tf.mul(12, a)), 0.5);
    return tf.reshape(tf.concat([ga, c], 2), shape) as tf.Tensor2D;
  }
}
