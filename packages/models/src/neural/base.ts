import { assertOneOf, BaseEnergy, EbmError, type EvalOptions, normalArray, type RngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import * as act from './activations.js';
import {
  artifactFromJSON,
  artifactToJSON,
  assertManifest,
  packWeights,
  unpackWeight,
  type WeightsArtifact,
  type WeightsJSON,
} from './serialize.js';

/**
 * Activations of the neural energies. `silu` (= swish) is x·σ(x); `leakyRelu` uses slope `leakySlope`; `relu` is
 * max(x, 0).
 */
export type Activation = 'silu' | 'swish' | 'elu' | 'leakyRelu' | 'tanh' | 'relu';
/** All activation names. */
export const ACTIVATIONS: readonly Activation[] = ['silu', 'swish', 'elu', 'leakyRelu', 'tanh', 'relu'];

/**
 * Applies an activation. The activations are `tf.customGrad` ops (see `activations.ts`) whose derivatives of
 * every order are exact, so score-matching losses can differentiate ∇ₓE with respect to the parameters.
 */
export function activate(x: tf.Tensor, activation: Activation, leakySlope: number): tf.Tensor {
  switch (activation) {
    case 'silu':
    case 'swish':
      return act.silu(x);
    case 'elu':
      return act.elu(x);
    case 'leakyRelu':
      return act.leakyRelu(x, leakySlope);
    case 'tanh':
      return act.tanh(x);
    case 'relu':
      return act.relu(x);
  }
}

/** Validates an activation name. */
export function assertActivation(value: unknown): Activation {
  return assertOneOf('activation', value, ACTIVATIONS);
}

/**
 * Validates the hidden activations of a network of `layers` hidden layers: one name for every layer, or an array
 * of one name per hidden layer (`argument` names the option in the error, e.g. `'activation'`).
 */
export function assertLayerActivations(
  value: unknown,
  layers: number,
  argument = 'activation',
): Activation | readonly Activation[] {
  if (!Array.isArray(value)) return assertOneOf(argument, value, ACTIVATIONS);
  const example = ["'relu'", ...Array.from({ length: Math.max(0, layers - 1) }, () => "'silu'")].join(', ');
  if (value.length !== layers) {
    throw new EbmError(
      'INVALID_PARAM',
      `${argument} has ${value.length} entries but the network has ${layers} hidden layer${layers === 1 ? '' : 's'} (one per entry of widths).`,
      {
        argument,
        value,
        fix: `pass one activation for every hidden layer (e.g. 'silu') or an array of ${layers}, one per hidden layer (e.g. [${example}]).`,
      },
    );
  }
  value.forEach((a, i) => {
    if (typeof a !== 'string' || !(ACTIVATIONS as readonly string[]).includes(a)) {
      throw new EbmError(
        'INVALID_PARAM',
        `${argument}[${i}] must be one of ${ACTIVATIONS.map((n) => `"${n}"`).join(', ')}.`,
        {
          argument,
          value,
          fix: `pass one of ${ACTIVATIONS.join(', ')} for every hidden layer (entry ${i} is ${JSON.stringify(a) ?? String(a)}).`,
        },
      );
    }
  });
  return [...value] as Activation[];
}

/** The activation of hidden layer `l` of a network whose activation option is `activation` (one or per layer). */
export function layerActivation(activation: Activation | readonly Activation[], l: number): Activation {
  return typeof activation === 'string' ? activation : activation[l]!;
}

/** Identity in the forward pass, zero gradient (tfjs-core has no stop-gradient op). */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/** Options of spectral normalisation. */
export interface SpectralNormOptions {
  /** Power iterations per forward pass in training mode (default 1). */
  readonly iterations?: number;
}

interface Param {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly trainable: boolean;
}

/** Normal(0, std²) initial values from a key (host-generated, so identical on every backend). */
export function normalInit(key: RngKey, shape: number[], std: number): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  return normalArray(key, [size], 0, std);
}

/**
 * Base of the neural energies: owns tfjs variables (trainable weights and non-trainable state), exposes
 * {@link NeuralEnergy.trainableVariables} for tfjs optimizers, saves/loads its weights bit-exactly, and
 * (optionally) spectrally normalises weight matrices: W_SN = W / σ̂(W), σ̂ = uᵀWv estimated by power iteration
 * (Miyato et al. 2018) with u, v held constant in the gradient. In training mode (default) each forward pass
 * runs `iterations` power steps and stores u; set `training = false` for a fixed energy (e.g. while sampling).
 */
export abstract class NeuralEnergy extends BaseEnergy {
  /** Plain-data architecture, enough to rebuild the energy with {@link restoreEnergy}. */
  abstract readonly config: Readonly<Record<string, unknown>> & { readonly type: string };
  /** When true (default), spectral-norm power iterations update their state on every forward pass. */
  training = true;
  private readonly params: Param[] = [];
  private disposedFlag = false;

  /** Creates and registers a variable. Names must be unique. */
  protected addVariable(name: string, values: Float32Array, shape: number[], trainable = true): tf.Variable {
    const v = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape, 'float32'), trainable, `${this.uid}/${name}`),
    );
    this.params.push({ name, variable: v, trainable });
    return v;
  }

  private static counter = 0;
  private readonly uid = `ebm_${this.constructor.name}_${NeuralEnergy.counter++}`;

  /** The trainable variables, in a fixed order (pass them to `optimizer.minimize(f, false, varList)`). */
  get trainableVariables(): tf.Variable[] {
    return this.params.filter((p) => p.trainable).map((p) => p.variable);
  }

  /** Every variable with its name (trainable weights and spectral-norm state). */
  get namedVariables(): { name: string; variable: tf.Variable; trainable: boolean }[] {
    return this.params.map((p) => ({ ...p }));
  }

  /** Number of trainable scalars. */
  get parameterCount(): number {
    return this.trainableVariables.reduce((a, v) => a + v.size, 0);
  }

  /** True once {@link dispose} has run. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Frees every variable. Idempotent; later calls throw `STATE_ERROR`. */
  dispose(): void {
    for (const p of this.params) p.variable.dispose();
    this.params.length = 0;
    this.disposedFlag = true;
  }

  protected override validateInput(x: unknown, options?: EvalOptions): tf.Tensor2D {
    if (this.disposedFlag) {
      throw new EbmError('STATE_ERROR', `${this.name} has been disposed.`, {
        argument: 'this',
        fix: 'create or restore a new energy; do not use one after dispose().',
      });
    }
    return super.validateInput(x, options);
  }

  /**
   * Spectrally normalised view of a weight: W / σ̂ with σ̂ = uᵀ·W₂·v, W₂ the weight reshaped to
   * `[fanIn, fanOut]`, v = normalise(u·W₂ᵀ), u ← normalise(v·W₂) (`iterations` times; u stored in training mode).
   */
  protected spectralNormalize(w: tf.Variable, u: tf.Variable, iterations: number): tf.Tensor {
    const fanOut = w.shape[w.shape.length - 1]!;
    const w2 = tf.reshape(w, [-1, fanOut]);
    const wc = stopGradient(w2);
    let uu: tf.Tensor = u;
    let vv: tf.Tensor = tf.zeros([1, w2.shape[0]!]);
    for (let i = 0; i < Math.max(1, iterations); i++) {
      vv = l2normalize(tf.matMul(uu, wc, false, true));
      uu = l2normalize(tf.matMul(vv, wc));
    }
    if (this.training) u.assign(uu as tf.Tensor2D);
    const sigma = tf.sum(tf.mul(tf.matMul(vv, w2), uu));
    return tf.div(w, sigma);
  }

  private collect(read: (v: tf.Variable) => Float32Array): WeightsArtifact {
    const { specs, data } = packWeights(
      this.params.map((p) => ({
        name: p.name,
        shape: p.variable.shape,
        values: read(p.variable),
        trainable: p.trainable,
      })),
    );
    return { manifest: { format: 'ebm-weights', version: 1, config: this.config, weights: specs }, data };
  }

  private assertUsable(): void {
    if (this.disposedFlag) {
      throw new EbmError('STATE_ERROR', `${this.name} has been disposed.`, {
        argument: 'this',
        fix: 'save weights before dispose().',
      });
    }
  }

  /** Weights and state as an artifact (manifest + little-endian float32 payload), read synchronously. */
  saveWeightsSync(): WeightsArtifact {
    this.assertUsable();
    return this.collect((v) => v.dataSync() as Float32Array);
  }

  /** Weights and state as an artifact, read asynchronously (works on every backend, including WebGPU). */
  async saveWeights(): Promise<WeightsArtifact> {
    this.assertUsable();
    const values = await Promise.all(this.params.map((p) => p.variable.data() as Promise<Float32Array>));
    let i = 0;
    return this.collect(() => values[i++]!);
  }

  /** One JSON document (manifest + base64 payload), so `JSON.stringify(energy)` saves it. Synchronous read. */
  toJSON(): WeightsJSON {
    return artifactToJSON(this.saveWeightsSync());
  }

  /**
   * Loads weights saved from an energy of the same architecture (artifact, JSON object or JSON string), in
   * place and bit-exactly. Validates everything before writing anything: `INVALID_PARAM` for another
   * architecture, `SHAPE_MISMATCH` for missing or mis-shaped tensors.
   */
  loadWeights(source: WeightsArtifact | WeightsJSON | string): void {
    this.assertUsable();
    const art =
      typeof source === 'string' || typeof (source as WeightsJSON).data === 'string'
        ? artifactFromJSON(source as WeightsJSON | string)
        : (source as WeightsArtifact);
    const manifest = assertManifest(art.manifest);
    if (JSON.stringify(manifest.config) !== JSON.stringify(this.config)) {
      throw new EbmError('INVALID_PARAM', 'the weights were saved from a different architecture.', {
        argument: 'config',
        value: manifest.config,
        fix: `build the energy with the saved config (restoreEnergy does this), expected ${JSON.stringify(this.config)}.`,
      });
    }
    const values: Float32Array[] = [];
    for (const p of this.params) {
      const spec = manifest.weights.find((s) => s.name === p.name);
      if (spec === undefined || spec.shape.join(',') !== p.variable.shape.join(',')) {
        throw new EbmError('SHAPE_MISMATCH', `weight "${p.name}" is missing or has the wrong shape.`, {
          argument: p.name,
          value: spec?.shape,
          fix: `the artifact must hold "${p.name}" with shape [${p.variable.shape.join(', ')}].`,
        });
      }
      values.push(unpackWeight(spec, art.data));
    }
    this.params.forEach((p, i) => {
      tf.tidy(() => p.variable.assign(tf.tensor(values[i]!, p.variable.shape, 'float32')));
    });
  }
}

function l2normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.add(tf.norm(x), 1e-12));
}
