import * as tf from '@tensorflow/tfjs-core';
import { declareKernel } from './kernels.js';

/**
 * # The non-finite row count kernel
 *
 * `nonFiniteRows` ({@link NON_FINITE_ROWS_KERNEL}) counts the rows of a `[B, D]` float32 tensor that hold NaN or
 * ±Infinity: the end-of-run check of a large whole chain (see `loop.ts`), which needs only that count
 * (`NonFiniteReport.chains`). The composite fallback runs on every backend (isFinite, all, logicalNot, cast,
 * sum); a backend registers one program for it (`@ebm/cuda`: one WGSL dispatch that reduces per workgroup), so
 * the check is one dispatch and one small read instead of a full reduction chain.
 * @module
 */

/** Registry name of the non-finite row count kernel (inputs {@link NonFiniteRowsInputs}). */
export const NON_FINITE_ROWS_KERNEL = 'nonFiniteRows';

/** Inputs of the `nonFiniteRows` kernel. */
export interface NonFiniteRowsInputs {
  /** The rows `[B, D]` (float32; not disposed). */
  readonly x: tf.Tensor2D;
}

/**
 * Output of the `nonFiniteRows` kernel: a 1-D int32 tensor of partial counts whose sum is the number of rows r
 * of x with some x[r, j] ∉ ℝ (NaN, +∞ or −∞), e.g. one count per workgroup of a backend's program (the composite
 * returns one element). The caller owns it.
 */
export type NonFiniteRowsOutput = tf.Tensor1D;

/** The composite: Σ_r [¬∀j isFinite(x[r, j])] as a `[1]` int32 tensor. */
function nonFiniteRowsComposite({ x }: NonFiniteRowsInputs): NonFiniteRowsOutput {
  return tf.tidy(() =>
    tf.reshape(tf.sum(tf.cast(tf.logicalNot(tf.all(tf.isFinite(x), 1)), 'int32')), [1]),
  ) as tf.Tensor1D;
}

declareKernel(
  NON_FINITE_ROWS_KERNEL,
  {
    description: 'number of rows of a [B, D] float32 tensor holding NaN or ±Infinity (partial counts, int32)',
    fallback: nonFiniteRowsComposite,
  },
  { override: true },
);
