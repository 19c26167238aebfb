import { assertInteger, assertPositive, assertTensor, EbmError, foldIn, type RngKey, toKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { type Activation, activate, assertActivation, normalInit } from './base.js';

/** Options of {@link TimeConditionedMLP}. */
export interface TimeConditionedMLPOptions {
  /** Feature dimension D (input and output). */
  readonly dim: number;
  /** Hidden widths (default [128, 128, 128]). */
  readonly widths?: readonly number[];
  /** Size of the sinusoidal time embedding (even, default 32). */
  readonly timeEmbedDim?: number;
  /** Time scale s of the embedding (default 1000: t ∈ [0, 1] spans the frequencies like DiT's timesteps). */
  readonly timeScale?: number;
  /** Hidden activation (default 'silu'). */
  readonly activation?: Activation;
  /** Seed or key of the initialisation (default 0). */
  readonly seed?: number | RngKey;
}

/**
 * Sinusoidal embedding of times `[B]` → `[B, K]` (Transformer / DiT `timestep_embedding`):
 * [cos(s·t·f₀), …, cos(s·t·f_{K/2−1}), sin(s·t·f₀), …], fₖ = exp(−ln(10⁴)·k/(K/2)).
 */
export function sinusoidalEmbedding(t: tf.Tensor1D, size: number, scale = 1000): tf.Tensor2D {
  assertTensor('t', t, { rank: 1 });
  if (assertInteger('size', size, 2, 2 ** 16) % 2 !== 0) {
    throw new EbmError('INVALID_PARAM', 'size must be even (cosines and sines of size/2 frequencies).', {
      argument: 'size',
      value: size,
      fix: 'pass an even embedding size such as 32.',
    });
  }
  assertPositive('scale', scale);
  const half = size / 2;
  return tf.tidy(() => {
    const freqs = tf.tensor1d(
      Array.from({ length: half }, (_, k) => scale * Math.exp((-Math.log(10000) * k) / half)),
    );
    const args = tf.mul(tf.reshape(t, [-1, 1]), tf.reshape(freqs, [1, -1]));
    return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D;
  });
}

/**
 * A time-conditioned MLP f_θ(x, t): ℝᴰ × [0, 1] → ℝᴰ for velocity, score or noise prediction:
 * h₀ = [x, φ(t)] with φ the sinusoidal embedding, hₗ = act(hₗ₋₁Wₗ + bₗ), f = h_L·W_out + b_out.
 * He-normal weights from core's Philox RNG (same network on every backend for a seed), zero biases, and a
 * small output layer (std 0.01/√fanIn) so the initial field is near zero. Use it with `FlowSampler` and
 * `FlowMatchingLoss`; `trainableVariables` go to any tfjs optimizer.
 *
 * @example
 * ```ts
 * const model = new TimeConditionedMLP({ dim: 2, widths: [128, 128] });
 * const v = model.apply(x, t); // [B, 2]
 * ```
 */
export class TimeConditionedMLP {
  readonly name = 'TimeConditionedMLP';
  readonly dim: number;
  readonly widths: readonly number[];
  readonly timeEmbedDim: number;
  readonly timeScale: number;
  readonly activation: Activation;
  private readonly layers: { w: tf.Variable; b: tf.Variable }[] = [];
  private disposed = false;
  private static counter = 0;

  constructor(options: TimeConditionedMLPOptions) {
    if (options === null || typeof options !== 'object') {
      throw new EbmError('INVALID_PARAM', 'TimeConditionedMLP needs an options object with dim.', {
        argument: 'options',
        value: options,
        fix: 'pass e.g. { dim: 2 }.',
      });
    }
    const known = ['dim', 'widths', 'timeEmbedDim', 'timeScale', 'activation', 'seed'];
    for (const k of Object.keys(options)) {
      if (!known.includes(k)) {
        throw new EbmError('INVALID_PARAM', `TimeConditionedMLP: unknown option "${k}".`, {
          argument: k,
          fix: `known options: ${known.join(', ')}.`,
        });
      }
    }
    this.dim = assertInteger('dim', options.dim, 1);
    const widths = options.widths ?? [128, 128, 128];
    if (!Array.isArray(widths) || widths.length === 0) {
      throw new EbmError('INVALID_PARAM', 'widths must be a non-empty array of layer widths.', {
        argument: 'widths',
        value: widths,
        fix: 'pass e.g. widths: [128, 128].',
      });
    }
    widths.forEach((w, i) => assertInteger(`widths[${i}]`, w, 1));
    this.widths = [...widths];
    this.timeEmbedDim = assertInteger('timeEmbedDim', options.timeEmbedDim ?? 32, 2);
    if (this.timeEmbedDim % 2 !== 0) {
      throw new EbmError('INVALID_PARAM', 'timeEmbedDim must be even.', {
        argument: 'timeEmbedDim',
        value: this.timeEmbedDim,
        fix: 'pass an even size such as 32.',
      });
    }
    this.timeScale = assertPositive('timeScale', options.timeScale ?? 1000);
    this.activation = assertActivation(options.activation ?? 'silu');
    const key = toKey(options.seed ?? 0);
    const uid = `ebm_TimeConditionedMLP_${TimeConditionedMLP.counter++}`;
    const sizes = [this.dim + this.timeEmbedDim, ...this.widths, this.dim];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      const last = l + 2 === sizes.length;
      const std = last ? 0.01 / Math.sqrt(fanIn) : Math.sqrt((this.activation === 'tanh' ? 1 : 2) / fanIn);
      const w = tf.tidy(() =>
        tf.variable(
          tf.tensor2d(normalInit(foldIn(key, l), [fanIn, fanOut], std), [fanIn, fanOut]),
          true,
          `${uid}/dense${l}/kernel`,
        ),
      );
      const b = tf.tidy(() => tf.variable(tf.zeros([fanOut]), true, `${uid}/dense${l}/bias`));
      this.layers.push({ w, b });
    }
  }

  /** The trainable variables in a fixed order. */
  get trainableVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.w, l.b]);
  }

  /** f_θ(x, t) `[B, D]` for x `[B, D]` and t `[B]`. */
  apply(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    if (this.disposed) {
      throw new EbmError('STATE_ERROR', 'TimeConditionedMLP has been disposed.', {
        argument: 'this',
        fix: 'create a new model.',
      });
    }
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new EbmError('SHAPE_MISMATCH', `TimeConditionedMLP expects x of shape [B, ${this.dim}].`, {
        argument: 'x',
        value: x instanceof tf.Tensor ? x.shape : typeof x,
        fix: `pass a [B, ${this.dim}] tensor.`,
      });
    }
    if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== x.shape[0]) {
      throw new EbmError('SHAPE_MISMATCH', 'TimeConditionedMLP expects one time per row, t of shape [B].', {
        argument: 't',
        value: t instanceof tf.Tensor ? t.shape : typeof t,
        fix: 'pass tf.fill([B], t) for a shared time.',
      });
    }
    return tf.tidy(() => {
      let h: tf.Tensor = tf.concat([x, sinusoidalEmbedding(t, this.timeEmbedDim, this.timeScale)], 1);
      this.layers.forEach((layer, l) => {
        h = tf.add(tf.matMul(h as tf.Tensor2D, layer.w as tf.Tensor2D), layer.b);
        if (l + 1 < this.layers.length) h = activate(h, this.activation, 0.2);
      });
      return h as tf.Tensor2D;
    });
  }

  /** Number of trainable scalars. */
  get parameterCount(): number {
    return this.trainableVariables.reduce((a, v) => a + v.size, 0);
  }

  /** Frees the variables (idempotent). */
  dispose(): void {
    if (this.disposed) return;
    for (const v of this.trainableVariables) v.dispose();
    this.disposed = true;
  }
}
