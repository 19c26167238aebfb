import { isRecordingGradients } from '@ebm/core/internal';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Elementwise functions whose derivatives of every order are exact under tfjs autodiff.
 *
 * Why: tfjs's gradients of `sigmoid`, `tanh`, `exp` and `elu` are written from the op's *saved output* y
 * (σ' = y(1 − y), tanh' = 1 − y², exp' = y, elu' via `EluGrad(y)`). The engine saves y as a clone whose tape
 * node is recorded *before* the op that produced y, so a nested gradient (a gradient of a gradient) sees y as a
 * constant and drops every second-order term: d²/dx² sigmoid(x) even throws ("cannot compute gradient"), and
 * parameter gradients of ∇ₓE (score matching: ½‖∇ₓE‖², vᵀ∇²ₓE v) come out wrong for all but the last layer.
 *
 * Here each function is a `tf.customGrad` op whose gradient is written from the saved *input* x (whose clone
 * stays connected on the tape) and calls these same functions again, so the gradient of the gradient is again
 * exact, at any depth. The derivative expressions use only ops whose own gradients read their inputs (mul,
 * sub, relu, step) — no comparison ops, which have no gradient in tfjs. Forward values are tfjs's own kernels,
 * so first-order results are unchanged; when no outer tape records the backward pass (the common first-order
 * case) the gradient is tfjs's own, from the saved output, at its old cost.
 */

type Unary = (x: tf.Tensor) => tf.Tensor;
type Save = (tensors: tf.Tensor[]) => void;
/** tfjs's own first-order gradient, from dy, the input x and the output y. */
type FastGrad = (dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/**
 * `tf.customGrad` for one input. When the backward pass is itself recorded (a gradient of a gradient is being
 * taken), grad = dy ⊙ f'(x) with f' written from the saved input through these exact ops; otherwise (plain
 * first-order use: samplers, ordinary training) `fast` — tfjs's own gradient from the saved output — so the
 * common path costs what it did before.
 */
function unaryWithDerivative(forward: Unary, derivative: Unary, fast: FastGrad): Unary {
  return tf.customGrad(((x: tf.Tensor, save: Save) => {
    const y = forward(x);
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor, tf.Tensor];
        return isRecordingGradients() ? tf.mul(dy, derivative(xs)) : fast(dy, xs, ys);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Unary;
}

/** eˣ, with d/dx eˣ = eˣ (recomputed from x). */
export const exp: Unary = unaryWithDerivative(
  (x) => tf.exp(x),
  (x) => exp(x),
  (dy, _x, y) => tf.mul(dy, y),
);

/** σ(x) = 1/(1 + e⁻ˣ), with σ' = σ(1 − σ) (σ recomputed from x). */
export const sigmoid: Unary = unaryWithDerivative(
  (x) => tf.sigmoid(x),
  (x) => {
    const s = sigmoid(x);
    return tf.mul(s, tf.sub(1, s));
  },
  (dy, _x, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y))),
);

/** tanh(x), with tanh' = 1 − tanh² (tanh recomputed from x). */
export const tanh: Unary = unaryWithDerivative(
  (x) => tf.tanh(x),
  (x) => tf.sub(1, tf.square(tanh(x))),
  (dy, _x, y) => tf.mul(tf.sub(1, tf.square(y)), dy),
);

/** SiLU / swish x·σ(x) (a product, so its derivatives follow from {@link sigmoid}'s). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, sigmoid(x));
}

/**
 * ELU: x for x > 0, eˣ − 1 otherwise, with elu'(x) = e^{min(x, 0)} = exp(−relu(−x)) (continuous, so the
 * second derivative is e^{x}·[x < 0] and nothing overflows for large x).
 */
export const elu: Unary = unaryWithDerivative(
  (x) => tf.elu(x),
  (x) => exp(tf.neg(tf.relu(tf.neg(x)))),
  (dy, _x, y) => tf.engine().runKernel('EluGrad', { dy, y }) as tf.Tensor,
);

const leakyRelus = new Map<number, Unary>();

/** LeakyReLU with slope `alpha` below 0: derivative α + (1 − α)·step(x) (second derivative 0 a.e.). */
export function leakyRelu(x: tf.Tensor, alpha: number): tf.Tensor {
  let op = leakyRelus.get(alpha);
  if (op === undefined) {
    op = unaryWithDerivative(
      (v) => tf.leakyRelu(v, alpha),
      (v) => tf.add(alpha, tf.mul(1 - alpha, tf.step(v))),
      (dy, v) => tf.where(tf.greater(v, 0), dy, tf.mul(dy, alpha)),
    );
    leakyRelus.set(alpha, op);
  }
  return op(x);
}

/** ReLU max(x, 0): derivative step(x) (0 at x = 0, as tfjs's `relu`; second derivative 0 a.e.). */
export const relu: Unary = unaryWithDerivative(
  (x) => tf.relu(x),
  (x) => tf.step(x),
  (dy, x) => tf.mul(dy, tf.step(x)),
);

/**
 * The elementwise ops above, whose derivatives of every order are exact under tfjs autodiff: use them in
 * energies that score matching differentiates twice (e.g. `energyFromFunction`) instead of `tf.sigmoid`,
 * `tf.tanh`, `tf.exp`, `tf.elu`.
 *
 * @example
 * ```ts
 * const w = tf.variable(tf.randomNormal([2, 16]));
 * const e = energyFromFunction((x) => tf.sum(activations.silu(tf.matMul(x, w)), 1), { dim: 2 });
 * ```
 */
export const activations: {
  readonly exp: Unary;
  readonly sigmoid: Unary;
  readonly tanh: Unary;
  readonly silu: Unary;
  readonly elu: Unary;
  readonly leakyRelu: (x: tf.Tensor, alpha: number) => tf.Tensor;
  readonly relu: Unary;
} = { exp, sigmoid, tanh, silu, elu, leakyRelu, relu };
