import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Batched small-matrix algebra for a position-dependent metric G(x) (RMHMC), written with differentiable tfjs
 * ops (tfjs-core has no batched Cholesky or triangular solve): a metric is either diagonal (`[B, D]`, the
 * diagonal of G) or full (`[B, D, D]`, symmetric positive-definite). Full metrics cost O(D³) scalar ops per row
 * batch, fine for the small D where a full Riemannian metric is practical.
 * @module
 */

/** A factored metric: what RMHMC needs from G(x). All tensors are per row. */
export interface FactoredMetric {
  /** ½·log|G| `[B]`. */
  readonly halfLogDet: tf.Tensor1D;
  /** L⁻¹p (so ½pᵀG⁻¹p = ½‖L⁻¹p‖², L = chol(G)) `[B, D]`. */
  whiten(p: tf.Tensor2D): tf.Tensor2D;
  /** G⁻¹p `[B, D]`. */
  solve(p: tf.Tensor2D): tf.Tensor2D;
  /** L·z (a draw p ~ N(0, G) from z ~ N(0, I)) `[B, D]`. */
  colour(z: tf.Tensor2D): tf.Tensor2D;
}

/** Validates a metric's output for positions `[B, D]`. */
export function checkMetricShape(g: unknown, b: number, d: number): tf.Tensor2D | tf.Tensor3D {
  const t = g as tf.Tensor;
  const ok =
    t instanceof tf.Tensor &&
    t.shape[0] === b &&
    ((t.rank === 2 && t.shape[1] === d) || (t.rank === 3 && t.shape[1] === d && t.shape[2] === d));
  if (!ok) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `The metric must return [${b}, ${d}] (diagonal) or [${b}, ${d}, ${d}].`,
      {
        argument: 'metric',
        value: t instanceof tf.Tensor ? t.shape : typeof g,
        fix: 'return the diagonal of G(x) per row, or the full symmetric positive-definite G(x) per row.',
      },
    );
  }
  return t as tf.Tensor2D | tf.Tensor3D;
}

/**
 * Factors G: diagonal metrics directly; full metrics by a batched Cholesky G = LLᵀ (column by column, Lⱼⱼ =
 * √(Gⱼⱼ − Σₖ<ⱼ Lⱼₖ²), Lᵢⱼ = (Gᵢⱼ − Σₖ<ⱼ LᵢₖLⱼₖ)/Lⱼⱼ) and triangular solves. Differentiable in G. A metric that is
 * not positive-definite gives NaN (RMHMC rejects such proposals).
 */
export function factorMetric(g: tf.Tensor2D | tf.Tensor3D): FactoredMetric {
  if (g.rank === 2) {
    const diag = g as tf.Tensor2D;
    return {
      halfLogDet: tf.mul(0.5, tf.sum(tf.log(diag), 1)) as tf.Tensor1D,
      whiten: (p) => tf.div(p, tf.sqrt(diag)) as tf.Tensor2D,
      solve: (p) => tf.div(p, diag) as tf.Tensor2D,
      colour: (z) => tf.mul(z, tf.sqrt(diag)) as tf.Tensor2D,
    };
  }
  const d = g.shape[1];
  const rows = tf.unstack(g, 1).map((r) => tf.unstack(r, 1)) as tf.Tensor1D[][];
  const L: tf.Tensor1D[][] = Array.from({ length: d }, () => new Array<tf.Tensor1D>(d));
  for (let j = 0; j < d; j++) {
    let s: tf.Tensor = rows[j]![j]!;
    for (let k = 0; k < j; k++) s = tf.sub(s, tf.square(L[j]![k]!));
    L[j]![j] = tf.sqrt(s) as tf.Tensor1D;
    for (let i = j + 1; i < d; i++) {
      let t: tf.Tensor = rows[i]![j]!;
      for (let k = 0; k < j; k++) t = tf.sub(t, tf.mul(L[i]![k]!, L[j]![k]!));
      L[i]![j] = tf.div(t, L[j]![j]!) as tf.Tensor1D;
    }
  }
  let logDiag: tf.Tensor = tf.log(L[0]![0]!);
  for (let j = 1; j < d; j++) logDiag = tf.add(logDiag, tf.log(L[j]![j]!));
  const forward = (p: tf.Tensor2D): tf.Tensor1D[] => {
    const pc = tf.unstack(p, 1) as tf.Tensor1D[];
    const y: tf.Tensor1D[] = [];
    for (let i = 0; i < d; i++) {
      let t: tf.Tensor = pc[i]!;
      for (let k = 0; k < i; k++) t = tf.sub(t, tf.mul(L[i]![k]!, y[k]!));
      y.push(tf.div(t, L[i]![i]!) as tf.Tensor1D);
    }
    return y;
  };
  return {
    halfLogDet: logDiag as tf.Tensor1D,
    whiten: (p) => tf.stack(forward(p), 1) as tf.Tensor2D,
    solve: (p) => {
      const y = forward(p);
      const w = new Array<tf.Tensor1D>(d);
      for (let i = d - 1; i >= 0; i--) {
        let t: tf.Tensor = y[i]!;
        for (let k = i + 1; k < d; k++) t = tf.sub(t, tf.mul(L[k]![i]!, w[k]!));
        w[i] = tf.div(t, L[i]![i]!) as tf.Tensor1D;
      }
      return tf.stack(w, 1) as tf.Tensor2D;
    },
    colour: (z) => {
      const zc = tf.unstack(z, 1) as tf.Tensor1D[];
      const out: tf.Tensor1D[] = [];
      for (let i = 0; i < d; i++) {
        let t: tf.Tensor = tf.mul(L[i]![0]!, zc[0]!);
        for (let k = 1; k <= i; k++) t = tf.add(t, tf.mul(L[i]![k]!, zc[k]!));
        out.push(t as tf.Tensor1D);
      }
      return tf.stack(out, 1) as tf.Tensor2D;
    },
  };
}
