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
 * so first-order results are unchanged.
 */

type Unary = (x: tf.Tensor) => tf.Tensor;
type Save = (tensors: tf.Tensor[]) => void;

/** `tf.customGrad` for one input with the gradient written from the saved input: grad = dy ⊙ f'(x). */
function unaryWithDerivative(forward: Unary, derivative: Unary): Unary {
  return tf.customGrad(((x: tf.Tensor, save: Save) => {
    save([x]);
    return {
      value: forward(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, derivative(saved[0]!)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Unary;
}

/** eˣ, with d/dx eˣ = eˣ (recomputed from x). */
export const exp: Unary = unaryWithDerivative(
  (x) => tf.exp(x),
  (x) => exp(x),
);

/** σ(x) = 1/(1 + e⁻ˣ), with σ' = σ(1 − σ) (σ recomputed from x). */
export const sigmoid: Unary = unaryWithDerivative(
  (x) => tf.sigmoid(x),
  (x) => {
    const s = sigmoid(x);
    return tf.mul(s, tf.sub(1, s));
  },
);

/** tanh(x), with tanh' = 1 − tanh² (tanh recomputed from x). */
export const tanh: Unary = unaryWithDerivative(
  (x) => tf.tanh(x),
  (x) => tf.sub(1, tf.square(tanh(x))),
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
);

const leakyRelus = new Map<number, Unary>();

/** LeakyReLU with slope `alpha` below 0: derivative α + (1 − α)·step(x) (second derivative 0 a.e.). */
export function leakyRelu(x: tf.Tensor, alpha: number): tf.Tensor {
  let op = leakyRelus.get(alpha);
  if (op === undefined) {
    op = unaryWithDerivative(
      (v) => tf.leakyRelu(v, alpha),
      (v) => tf.add(alpha, tf.mul(1 - alpha, tf.step(v))),
    );
    leakyRelus.set(alpha, op);
  }
  return op(x);
}
