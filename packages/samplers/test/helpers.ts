import { BaseEnergy, type KernelHint, normalArray, type RngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** E(x) = ½(x−μ)ᵀP(x−μ), P = Σ⁻¹ (2-D or any D), analytic gradient. Test-local stand-in for @ebm/models. */
export class TestGaussian extends BaseEnergy {
  readonly mu: number[];
  readonly cov: number[][];
  readonly prec: number[][];
  readonly chol: number[][];
  private readonly muT: tf.Tensor1D;
  private readonly precT: tf.Tensor2D;
  constructor(mu: number[], cov: number[][]) {
    super({ dim: mu.length, name: 'TestGaussian' });
    this.mu = mu;
    this.cov = cov;
    this.prec = invert(cov);
    this.chol = cholesky(cov);
    this.muT = tf.keep(tf.tensor1d(mu));
    this.precT = tf.keep(tf.tensor2d(this.prec));
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const d = tf.sub(x, this.muT);
    return tf.mul(0.5, tf.sum(tf.mul(tf.matMul(d, this.precT), d), 1)) as tf.Tensor1D;
  }
  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(tf.sub(x, this.muT), this.precT) as tf.Tensor2D;
  }
  /** n exact samples μ + L z. */
  sample(n: number, key: RngKey): tf.Tensor2D {
    const d = this.mu.length;
    const z = normalArray(key, [n, d]);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < d; a++) {
        let v = this.mu[a]!;
        for (let b = 0; b <= a; b++) v += this.chol[a]![b]! * z[i * d + b]!;
        out[i * d + a] = v;
      }
    return tf.tensor2d(out, [n, d]);
  }
}

/** TorchEBM's correlated Gaussian μ = (1, −1), Σ = [[1, .5], [.5, 2]]. */
export function torchEbmGaussian(): TestGaussian {
  return new TestGaussian(
    [1, -1],
    [
      [1, 0.5],
      [0.5, 2],
    ],
  );
}

/** DoubleWell E = h·Σ(xᵢ² − b²)², analytic gradient 4h·x(x² − b²); kernelHint kind 'doubleWell'. */
export class TestDoubleWell extends BaseEnergy {
  readonly h: number;
  readonly b: number;
  override readonly kernelHint: KernelHint;
  constructor(h = 2, b = 1, dim?: number) {
    super({ dim, name: 'TestDoubleWell' });
    this.h = h;
    this.b = b;
    this.kernelHint = { kind: 'testDoubleWell', params: { barrierHeight: h, b } };
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(this.h, tf.sum(tf.square(tf.sub(tf.square(x), this.b * this.b)), 1)) as tf.Tensor1D;
  }
  protected override computeGradient(x: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(4 * this.h, tf.mul(x, tf.sub(tf.square(x), this.b * this.b))) as tf.Tensor2D;
  }
}

/** Mixture w·N(m₁, s²) + (1−w)·N(m₂, s²) per coordinate 0 (others standard normal), autograd gradient. */
export class TestMixture1D extends BaseEnergy {
  constructor(
    readonly w: number,
    readonly m1: number,
    readonly m2: number,
    readonly s: number,
  ) {
    super({ dim: 1, name: 'TestMixture1D' });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const v = tf.reshape(x, [-1]);
    const a = tf.sub(Math.log(this.w), tf.div(tf.square(tf.sub(v, this.m1)), 2 * this.s * this.s));
    const b = tf.sub(Math.log(1 - this.w), tf.div(tf.square(tf.sub(v, this.m2)), 2 * this.s * this.s));
    return tf.neg(tf.logSumExp(tf.stack([a, b], 1), 1)) as tf.Tensor1D;
  }
}

function invert(m: number[][]): number[][] {
  const n = m.length;
  const a = m.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const piv = a[c]![c]!;
    for (let j = 0; j < 2 * n; j++) a[c]![j]! /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]!;
      for (let j = 0; j < 2 * n; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((r) => r.slice(n));
}

function cholesky(m: number[][]): number[][] {
  const n = m.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = m[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = i === j ? Math.sqrt(s) : s / l[j]![j]!;
    }
  return l;
}

/** Symmetric 2×2 eigen-decomposition: eigenvalues and unit eigenvectors. */
export function eig2(m: number[][]): { values: [number, number]; vectors: [number[], number[]] } {
  const a = m[0]![0]!;
  const b = m[0]![1]!;
  const d = m[1]![1]!;
  const tr = a + d;
  const disc = Math.sqrt(((a - d) / 2) ** 2 + b * b);
  const l1 = tr / 2 + disc;
  const l2 = tr / 2 - disc;
  const vec = (l: number) => {
    const v = Math.abs(b) > 1e-12 ? [b, l - a] : l === a ? [1, 0] : [0, 1];
    const n = Math.hypot(v[0]!, v[1]!);
    return [v[0]! / n, v[1]! / n];
  };
  return { values: [l1, l2], vectors: [vec(l1), vec(l2)] };
}

/** Column j of a row-major [n, d] array. */
export function column(a: ArrayLike<number>, n: number, d: number, j: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i * d + j]!;
  return out;
}

/** What {@link oneStep} needs of a sampler: `init` + `step` + `disposeState` on a state with positions `x`. */
interface Stepper<S extends { readonly x: tf.Tensor2D }> {
  init(x: tf.Tensor2D): S;
  step(state: S, key: RngKey): { state: S; info: object };
  disposeState(state: S): void;
}

/** One step of `sampler` from x (the conservation test's transition): a fresh state, one step, all else disposed. */
export function oneStep<S extends { readonly x: tf.Tensor2D }>(sampler: Stepper<S>) {
  return (x: tf.Tensor2D, key: RngKey): tf.Tensor2D => {
    const st = sampler.init(x);
    const { state, info } = sampler.step(st, key);
    const out = tf.clone(state.x);
    sampler.disposeState(st);
    sampler.disposeState(state);
    tf.dispose(Object.values(info) as tf.Tensor[]);
    return out;
  };
}
