import type { EnergyFunction } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Max over rows of ‖g_analytic − g_autograd‖₂ / max(‖g_autograd‖₂, 1e-3): the autograd reference is
 * tf.grad of Σ energy(x) (the energy's own forward pass, float32).
 */
export function gradientRelativeError(energy: EnergyFunction, x: tf.Tensor2D): number {
  const ga = energy.gradient(x, { checkFinite: false });
  const gb = tf.grad((v: tf.Tensor) => tf.sum(energy.energy(v as tf.Tensor2D, { checkFinite: false })))(x);
  const a = ga.arraySync() as number[][];
  const b = gb.arraySync() as number[][];
  ga.dispose();
  gb.dispose();
  let worst = 0;
  for (let r = 0; r < a.length; r++) {
    let num = 0;
    let den = 0;
    for (let j = 0; j < a[r]!.length; j++) {
      num += (a[r]![j]! - b[r]![j]!) ** 2;
      den += b[r]![j]! ** 2;
    }
    worst = Math.max(worst, Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-3));
  }
  return worst;
}

/** Column j of a row-major [n, d] array. */
export function column(data: ArrayLike<number>, d: number, j: number): Float64Array {
  const n = data.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * d + j]!;
  return out;
}

/** Projection Σⱼ wⱼ·x[:, j] of a row-major [n, d] array. */
export function project(data: ArrayLike<number>, w: readonly number[]): Float64Array {
  const d = w.length;
  const n = data.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += w[j]! * data[i * d + j]!;
    out[i] = s;
  }
  return out;
}

/** Independent reference for 1-D densities ∝ exp(−u) on [lo, hi]: trapezoid CDF and moments on its own grid. */
export function trapezoidCdf(
  u: (x: number) => number,
  lo: number,
  hi: number,
  steps = 40_000,
): { cdf: (x: number) => number; z: number; m2: number } {
  const h = (hi - lo) / steps;
  const cum = new Float64Array(steps + 1);
  let m2 = 0;
  const f = (x: number) => Math.exp(-u(x));
  for (let i = 1; i <= steps; i++) {
    const a = lo + (i - 1) * h;
    const b = lo + i * h;
    cum[i] = cum[i - 1]! + (h / 2) * (f(a) + f(b));
    m2 += (h / 2) * (a * a * f(a) + b * b * f(b));
  }
  const z = cum[steps]!;
  const cdf = (x: number) => {
    const pos = Math.min(Math.max((x - lo) / h, 0), steps);
    const i = Math.min(Math.floor(pos), steps - 1);
    return (cum[i]! + (pos - i) * (cum[i + 1]! - cum[i]!)) / z;
  };
  return { cdf, z, m2: m2 / z };
}
