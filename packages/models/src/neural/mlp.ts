import {
  assertInteger,
  assertKnownOptions,
  assertPositive,
  EbmError,
  foldIn,
  type KernelHint,
  type MLPKernelActivation,
  optionKeys,
  type RngKey,
  toKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Activation,
  activate,
  assertLayerActivations,
  layerActivation,
  NeuralEnergy,
  normalInit,
  type SpectralNormOptions,
} from './base.js';
import { assertLayoutSize, mlpLayout } from './validate.js';

/** Activations with a fused `chain.mlp` form on every backend. */
const FUSED_ACTIVATIONS: readonly MLPKernelActivation[] = [
  'silu',
  'swish',
  'elu',
  'leakyRelu',
  'tanh',
  'relu',
];

const MLPENERGY_KEYS = optionKeys<MLPEnergyOptions>({
  inputDim: true,
  widths: true,
  activation: true,
  leakySlope: true,
  spectralNorm: true,
  seed: true,
});

/** Options of {@link MLPEnergy}. */
export interface MLPEnergyOptions {
  /** Input dimension D. */
  readonly inputDim: number;
  /** Hidden layer widths (default [64, 64]). */
  readonly widths?: readonly number[];
  /**
   * Hidden activation (default 'silu'): one for every hidden layer, or an array of one per hidden layer (length
   * `widths.length`), e.g. `['relu', 'silu', 'silu']` for a ReLU first layer and SiLU after.
   */
  readonly activation?: Activation | readonly Activation[];
  /** Negative slope of 'leakyRelu' (default 0.2). */
  readonly leakySlope?: number;
  /** Spectral normalisation of every weight matrix: `true` or options (default off). */
  readonly spectralNorm?: boolean | SpectralNormOptions;
  /** Seed or key of the initialisation (default 0). */
  readonly seed?: number | RngKey;
}

/** Plain-data architecture of an {@link MLPEnergy}. */
export type MLPEnergyConfig = {
  readonly type: 'mlp';
  readonly inputDim: number;
  readonly widths: readonly number[];
  /** One activation for every hidden layer, or one per hidden layer (as given in the options). */
  readonly activation: Activation | readonly Activation[];
  readonly leakySlope: number;
  readonly spectralNormIterations: number;
};

/**
 * Multilayer-perceptron energy E_θ: ℝᴰ → ℝ,
 * h₀ = x, hₗ = φₗ(hₗ₋₁·Wₗ + bₗ) (l = 1..L), E(x) = h_L·w_out + b_out,
 * with φₗ ∈ {SiLU/swish x·σ(x), ELU, LeakyReLU, ReLU, tanh} — one activation for every hidden layer or one per
 * layer — and, optionally, every W spectrally normalised (W / σ̂(W), power iteration). Weights start as
 * N(0, 2/fanIn) for a layer feeding SiLU/ELU/LeakyReLU/ReLU (He) and N(0, 1/fanIn) for tanh and the output layer,
 * drawn from core's Philox RNG (`normalArray(foldIn(key, l), …)`), so a seed gives the same network on every
 * backend; biases start at 0. Gradients ∇ₓE come from autograd.
 *
 * @example
 * ```ts
 * const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], activation: 'silu', seed: 1 });
 * // Energy Matching's 2-D network: ReLU first, SiLU after.
 * const em = new MLPEnergy({ inputDim: 2, widths: [256, 256, 256, 256], activation: ['relu', 'silu', 'silu', 'silu'] });
 * const opt = tf.train.adam(1e-3);
 * opt.minimize(() => tf.mean(energy.energy(x)), false, energy.trainableVariables);
 * ```
 */
export class MLPEnergy extends NeuralEnergy {
  readonly config: MLPEnergyConfig;
  /** The fused-kernel hint (see the class docs): live variables; `undefined` with spectral normalisation. */
  override readonly kernelHint: KernelHint<'mlp'> | undefined;
  private readonly layers: { w: tf.Variable; b: tf.Variable; u: tf.Variable | undefined }[] = [];

  constructor(options: MLPEnergyOptions) {
    assertKnownOptions('MLPEnergy', options, MLPENERGY_KEYS);
    const inputDim = assertInteger('inputDim', options?.inputDim, 1);
    super({ dim: inputDim, name: 'MLPEnergy' });
    const widths = options.widths ?? [64, 64];
    if (!Array.isArray(widths)) {
      throw new EbmError('INVALID_PARAM', 'widths must be an array of layer widths.', {
        argument: 'widths',
        value: widths,
        fix: 'pass e.g. widths: [64, 64].',
      });
    }
    widths.forEach((w, i) => assertInteger(`widths[${i}]`, w, 1));
    const activation = assertLayerActivations(options.activation ?? 'silu', widths.length);
    const leakySlope = assertPositive('leakySlope', options.leakySlope ?? 0.2);
    const sn = options.spectralNorm;
    const iterations =
      sn === undefined || sn === false
        ? 0
        : assertInteger('spectralNorm.iterations', sn === true ? 1 : (sn.iterations ?? 1), 1);
    // Fail before allocating: widths of 1e6 would otherwise build a multi-GB network.
    assertLayoutSize(mlpLayout(inputDim, widths, iterations), 'MLPEnergy');
    this.config = {
      type: 'mlp',
      inputDim,
      widths: [...widths],
      activation,
      leakySlope,
      spectralNormIterations: iterations,
    };
    const key = toKey(options.seed ?? 0);
    const sizes = [inputDim, ...widths, 1];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      const last = l + 2 === sizes.length;
      const gain = last || layerActivation(activation, l) === 'tanh' ? 1 : 2;
      const w = this.addVariable(
        `dense${l}/kernel`,
        normalInit(foldIn(key, 2 * l), [fanIn, fanOut], Math.sqrt(gain / fanIn)),
        [fanIn, fanOut],
      );
      const b = this.addVariable(`dense${l}/bias`, new Float32Array(fanOut), [fanOut]);
      let u: tf.Variable | undefined;
      if (iterations > 0) {
        const u0 = normalInit(foldIn(key, 2 * l + 1), [1, fanOut], 1);
        const norm = Math.hypot(...u0);
        u = this.addVariable(
          `dense${l}/sn_u`,
          u0.map((v) => v / norm),
          [1, fanOut],
          false,
        );
      }
      this.layers.push({ w, b, u });
    }
    this.kernelHint = this.makeKernelHint(sizes);
  }

  /** `{ kind: 'mlp', params }` over the live variables, or `undefined` when the fused kernels cannot run it. */
  private makeKernelHint(sizes: readonly number[]): KernelHint<'mlp'> | undefined {
    const { activation, leakySlope, spectralNormIterations } = this.config;
    const acts = typeof activation === 'string' ? [activation] : activation;
    if (
      spectralNormIterations > 0 ||
      !acts.every((a) => (FUSED_ACTIVATIONS as readonly string[]).includes(a))
    ) {
      return undefined;
    }
    // One name when every hidden layer has the same activation (the format every kernel has always read).
    const uniform = acts.every((a) => a === acts[0]);
    return {
      kind: 'mlp',
      params: {
        sizes: [...sizes],
        activation: (uniform ? (acts[0] ?? 'silu') : [...acts]) as
          | MLPKernelActivation
          | MLPKernelActivation[],
        leakySlope,
        weights: this.layers.flatMap((l) => [l.w, l.b]),
      },
    };
  }

  /** Frees the variables; the kernel hint is dropped with them. */
  override dispose(): void {
    super.dispose();
    Object.defineProperty(this, 'kernelHint', { value: undefined, configurable: true, enumerable: true });
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const { activation, leakySlope, spectralNormIterations: it } = this.config;
    let h: tf.Tensor = x;
    this.layers.forEach((layer, l) => {
      const w = layer.u === undefined ? layer.w : this.spectralNormalize(layer.w, layer.u, it);
      h = tf.add(tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D), layer.b);
      if (l + 1 < this.layers.length) h = activate(h, layerActivation(activation, l), leakySlope);
    });
    return tf.reshape(h, [-1]) as tf.Tensor1D;
  }
}
