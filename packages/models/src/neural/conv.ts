import {
  assertInteger,
  assertKnownOptions,
  assertPositive,
  EbmError,
  foldIn,
  optionKeys,
  type RngKey,
  toKey,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import {
  type Activation,
  activate,
  assertActivation,
  NeuralEnergy,
  normalInit,
  type SpectralNormOptions,
} from './base.js';
import { assertLayoutSize, convLayout } from './validate.js';

const CONVENERGY_KEYS = optionKeys<ConvEnergyOptions>({
  inputShape: true,
  channels: true,
  kernelSize: true,
  activation: true,
  leakySlope: true,
  spectralNorm: true,
  seed: true,
});

/** Options of {@link ConvEnergy}. */
export interface ConvEnergyOptions {
  /** Image shape [height, width, channels], e.g. [28, 28, 1] or [32, 32, 3]. */
  readonly inputShape: readonly [number, number, number];
  /** Output channels of the convolutions (default [16, 32, 64]). */
  readonly channels?: readonly number[];
  /** Square kernel size (default 3). */
  readonly kernelSize?: number;
  /** Activation (default 'silu'). */
  readonly activation?: Activation;
  /** Negative slope of 'leakyRelu' (default 0.2). */
  readonly leakySlope?: number;
  /** Spectral normalisation of every kernel (default off). */
  readonly spectralNorm?: boolean | SpectralNormOptions;
  /** Seed or key of the initialisation (default 0). */
  readonly seed?: number | RngKey;
}

/** Plain-data architecture of a {@link ConvEnergy}. */
export type ConvEnergyConfig = {
  readonly type: 'conv';
  readonly inputShape: readonly [number, number, number];
  readonly channels: readonly number[];
  readonly kernelSize: number;
  readonly activation: Activation;
  readonly leakySlope: number;
  readonly spectralNormIterations: number;
};

/**
 * Small convolutional energy for images. The input is a batch of flattened NHWC images `[B, H·W·C]`
 * (reshape with `tf.reshape(images, [B, -1])`), so it fits every sampler and loss.
 * h₀ = reshape(x, [B, H, W, C]); hₗ = φ(conv2d(hₗ₋₁, Kₗ, stride 2, 'same') + bₗ);
 * E(x) = mean_{spatial}(h_L)·w_out + b_out.
 * He-normal seeded initialisation (core Philox RNG), optional spectral normalisation of every kernel.
 */
export class ConvEnergy extends NeuralEnergy {
  readonly config: ConvEnergyConfig;
  private readonly convs: { k: tf.Variable; b: tf.Variable; u: tf.Variable | undefined }[] = [];
  private readonly head: { w: tf.Variable; b: tf.Variable; u: tf.Variable | undefined };

  constructor(options: ConvEnergyOptions) {
    assertKnownOptions('ConvEnergy', options, CONVENERGY_KEYS);
    const shape = options?.inputShape;
    if (!Array.isArray(shape) || shape.length !== 3) {
      throw new EbmError('INVALID_PARAM', 'inputShape must be [height, width, channels].', {
        argument: 'inputShape',
        value: shape,
        fix: 'pass e.g. inputShape: [28, 28, 1].',
      });
    }
    const [h, w, c] = shape.map((v, i) => assertInteger(`inputShape[${i}]`, v, 1)) as [
      number,
      number,
      number,
    ];
    super({ dim: h * w * c, name: 'ConvEnergy' });
    const channels = options.channels ?? [16, 32, 64];
    if (!Array.isArray(channels) || channels.length < 1) {
      throw new EbmError('INVALID_PARAM', 'channels must be a non-empty array.', {
        argument: 'channels',
        value: channels,
        fix: 'pass e.g. channels: [16, 32, 64].',
      });
    }
    channels.forEach((v, i) => assertInteger(`channels[${i}]`, v, 1));
    const kernelSize = assertInteger('kernelSize', options.kernelSize ?? 3, 1);
    const activation = assertActivation(options.activation ?? 'silu');
    const leakySlope = assertPositive('leakySlope', options.leakySlope ?? 0.2);
    const sn = options.spectralNorm;
    const iterations =
      sn === undefined || sn === false
        ? 0
        : assertInteger('spectralNorm.iterations', sn === true ? 1 : (sn.iterations ?? 1), 1);
    assertLayoutSize(convLayout(c, channels, kernelSize, iterations), 'ConvEnergy');
    this.config = {
      type: 'conv',
      inputShape: [h, w, c],
      channels: [...channels],
      kernelSize,
      activation,
      leakySlope,
      spectralNormIterations: iterations,
    };
    const key = toKey(options.seed ?? 0);
    const gain = activation === 'tanh' ? 1 : 2;
    let cin = c;
    channels.forEach((cout, l) => {
      const kshape = [kernelSize, kernelSize, cin, cout];
      const fanIn = kernelSize * kernelSize * cin;
      const k = this.addVariable(
        `conv${l}/kernel`,
        normalInit(foldIn(key, 2 * l), kshape, Math.sqrt(gain / fanIn)),
        kshape,
      );
      const b = this.addVariable(`conv${l}/bias`, new Float32Array(cout), [cout]);
      const u =
        iterations > 0
          ? this.addVariable(`conv${l}/sn_u`, unitVector(key, 2 * l + 1, cout), [1, cout], false)
          : undefined;
      this.convs.push({ k, b, u });
      cin = cout;
    });
    const L = channels.length;
    const hw = this.addVariable('head/kernel', normalInit(foldIn(key, 2 * L), [cin, 1], Math.sqrt(1 / cin)), [
      cin,
      1,
    ]);
    const hb = this.addVariable('head/bias', new Float32Array(1), [1]);
    const hu =
      iterations > 0
        ? this.addVariable('head/sn_u', unitVector(key, 2 * L + 1, 1), [1, 1], false)
        : undefined;
    this.head = { w: hw, b: hb, u: hu };
  }

  protected override computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const { inputShape, activation, leakySlope, spectralNormIterations: it } = this.config;
    let h: tf.Tensor4D = tf.reshape(x, [-1, ...inputShape]);
    for (const layer of this.convs) {
      const k = (
        layer.u === undefined ? layer.k : this.spectralNormalize(layer.k, layer.u, it)
      ) as tf.Tensor4D;
      h = activate(tf.add(tf.conv2d(h, k, 2, 'same'), layer.b), activation, leakySlope) as tf.Tensor4D;
    }
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const w = (
      this.head.u === undefined ? this.head.w : this.spectralNormalize(this.head.w, this.head.u, it)
    ) as tf.Tensor2D;
    return tf.reshape(tf.add(tf.matMul(pooled, w), this.head.b), [-1]) as tf.Tensor1D;
  }
}

function unitVector(key: RngKey, i: number, n: number): Float32Array {
  const u = normalInit(foldIn(key, i), [1, n], 1);
  const norm = Math.hypot(...u);
  return u.map((v) => v / norm);
}
