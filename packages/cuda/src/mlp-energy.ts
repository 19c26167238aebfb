import type { MLPKernelActivation, MLPKernelParams } from '@ebm/core';
import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import type { WgslEnergy } from './energy-kinds.js';

/**
 * The fused WGSL energy of a multilayer perceptron (kind `'mlp'`), for the whole-chain kernels: forward pass and
 * input gradient of one chain in one function, weights read from a storage buffer (the live variables, flattened
 * once per kernel call, so a network being trained is always current). Internal module.
 *
 * Network (as `MLPEnergy` of `@ebm/models`): h₀ = x, zₗ = hₗ₋₁·Wₗ + bₗ, hₗ = φₗ(zₗ) (l = 1..L),
 * E(x) = h_L·w_out + b_out. Input gradient by the chain rule, in place over the pre-activations:
 * δ_L = w_out ⊙ φ_L'(z_L), δₗ₋₁ = (Wₗ·δₗ) ⊙ φₗ₋₁'(zₗ₋₁), ∇ₓE = W₁·δ₁.
 *
 * Activations: one φ for every hidden layer gives the WGSL functions `ebmAct`/`ebmActGrad` (the programs of a
 * single-activation network are what they always were); one per layer (`activation: ['relu', 'silu', …]`)
 * gives one pair per distinct activation, `ebmAct_<name>`/`ebmActGrad_<name>`, and each layer calls its own
 * (`MlpLayout.act`).
 * @module
 */

/** Hidden activations with a fused form (those of `@ebm/models`' MLPEnergy). */
export type MlpActivation = MLPKernelActivation;

/**
 * `kernelHint.params` of an `'mlp'` energy: core's one MLP hint format {@link MLPKernelParams}
 * (`{ sizes, activation, leakySlope, weights: [K₀, b₀, …] }`, what `MLPEnergy.kernelHint` holds).
 * @deprecated use `MLPKernelParams` of `@ebm/core`.
 */
export type MlpKernelParams = MLPKernelParams;

/**
 * The params format of `@ebm/cuda` 0.x before the one MLP hint format: dense layers in order (hidden layers,
 * then the output layer), kernel `[fanIn, fanOut]` and bias `[fanOut]` tensors. Still accepted by the kernels.
 * @deprecated pass `MLPEnergy.kernelHint` (core's {@link MLPKernelParams}).
 */
export interface MlpLayersParams {
  readonly layers: readonly { readonly kernel: tf.Tensor; readonly bias: tf.Tensor }[];
  readonly activation: MlpActivation | readonly MlpActivation[];
  /** Negative slope of `'leakyRelu'` (default 0.2). */
  readonly leakySlope?: number;
}

/** Largest hidden width the fused program takes (per-chain private arrays). */
export const MLP_MAX_WIDTH = 1024;

/** Activations with a fused WGSL form. */
const WGSL_ACTIVATIONS: readonly string[] = ['silu', 'swish', 'tanh', 'elu', 'leakyRelu', 'relu'];

/** WGSL `ebmAct<sfx>(z)` = φ(z) and `ebmActGrad<sfx>(z)` = φ'(z) (ReLU: φ'(0) = 0, as tfjs). */
function activationWgsl(activation: MlpActivation, slope: number, sfx = ''): string {
  switch (activation) {
    case 'silu':
    case 'swish':
      return `fn ebmAct${sfx}(z : f32) -> f32 { return z / (1.0 + exp(-z)); }
fn ebmActGrad${sfx}(z : f32) -> f32 { let s = 1.0 / (1.0 + exp(-z)); return s * (1.0 + z * (1.0 - s)); }`;
    case 'tanh':
      return `fn ebmAct${sfx}(z : f32) -> f32 { return tanh(z); }
fn ebmActGrad${sfx}(z : f32) -> f32 { let t = tanh(z); return 1.0 - t * t; }`;
    case 'elu':
      return `fn ebmAct${sfx}(z : f32) -> f32 { return select(exp(z) - 1.0, z, z > 0.0); }
fn ebmActGrad${sfx}(z : f32) -> f32 { return select(exp(z), 1.0, z > 0.0); }`;
    case 'leakyRelu':
      return `fn ebmAct${sfx}(z : f32) -> f32 { return select(${slope} * z, z, z > 0.0); }
fn ebmActGrad${sfx}(z : f32) -> f32 { return select(${slope}, 1.0, z > 0.0); }`;
    case 'relu':
      return `fn ebmAct${sfx}(z : f32) -> f32 { return max(z, 0.0); }
fn ebmActGrad${sfx}(z : f32) -> f32 { return select(0.0, 1.0, z > 0.0); }`;
  }
}

/** The activation's WGSL function-name suffix in a per-layer network (`swish` shares SiLU's functions). */
function activationSuffix(a: MlpActivation): string {
  return `_${a === 'swish' ? 'silu' : a}`;
}

function badMlp(what: string, value: unknown, fix: string): never {
  throw new EbmError('INVALID_PARAM', `kernelHint.params of an "mlp" energy: ${what}.`, {
    argument: 'params.layers',
    value,
    fix,
  });
}

/**
 * The input dimension, layout and live weight tensors of the MLP hint `params` given to the training kernel `kernel`
 * (`train.mlpContrastiveAdam`, `train.mlpGradientRegression`): an `INVALID_PARAM` EbmError naming `params` when it
 * is not an MLP hint, `params.weights[i]` when a weight is not a tensor.
 */
export function liveMlpParams(
  kernel: string,
  params: unknown,
): { dim: number; layout: MlpLayout; weights: readonly tf.Tensor[] } {
  const bad = (argument: string, what: string, value: unknown): never => {
    throw new EbmError('INVALID_PARAM', `${kernel}: ${what}.`, {
      argument,
      value,
      fix: "pass the energy's kernelHint.params.",
    });
  };
  const sizes = (params as Partial<MLPKernelParams> | undefined)?.sizes;
  const dim = Array.isArray(sizes) ? sizes[0] : undefined;
  if (typeof dim !== 'number') bad('params', 'params must be an MLP kernel hint', typeof params);
  const layout = mlpLayout(params as unknown as Readonly<Record<string, unknown>>, dim as number);
  const weights = (params as MLPKernelParams).weights;
  weights.forEach((w, i) => {
    if (!(w instanceof tf.Tensor))
      bad(`params.weights[${i}]`, 'the weights must be tensors (the live variables)', typeof w);
  });
  return { dim: dim as number, layout, weights: weights as readonly tf.Tensor[] };
}

/** Shapes and buffer offsets of an MLP's weights (flat buffer: kernel₀, bias₀, kernel₁, bias₁, …). */
export interface MlpLayout {
  /** [D, n₁, …, n_L, 1]. */
  readonly widths: readonly number[];
  /** Offsets of dense layer j's kernel `[widths[j], widths[j+1]]` (row-major) and bias. */
  readonly wOff: readonly number[];
  readonly bOff: readonly number[];
  /** The activation of every hidden layer; with per-layer activations, the first hidden layer's. */
  readonly activation: MlpActivation;
  /** The activation of each hidden layer (`widths.length − 2` entries). */
  readonly activations: readonly MlpActivation[];
  /**
   * The WGSL name suffix of each hidden layer's activation functions: `''` for every layer when they all have the
   * same activation (`ebmAct`, `ebmActGrad`), else `_<name>` (`ebmAct_relu`, …; see {@link MlpLayout.actSuffixes}).
   */
  readonly act: readonly string[];
  /** The distinct suffixes of {@link MlpLayout.act}, each with its activation (one entry `['', φ]` when uniform). */
  readonly actSuffixes: readonly (readonly [string, MlpActivation])[];
  /** WGSL `ebmAct<sfx>(z)` and `ebmActGrad<sfx>(z)` for every suffix of {@link MlpLayout.actSuffixes}. */
  readonly actCode: string;
  /** Shader-cache key part. */
  readonly key: string;
  /** The flat weight buffer, built on the device from the live variables. */
  readonly params: () => tf.Tensor1D;
}

/** One weight of the hint as a flat float32 tensor (a tensor is reshaped; an array is uploaded). */
function flatWeight(w: tf.Tensor | ArrayLike<number>): tf.Tensor1D {
  return w instanceof tf.Tensor
    ? (tf.reshape(w, [-1]) as tf.Tensor1D)
    : tf.tensor1d(w instanceof Float32Array ? w : Float32Array.from(w), 'float32');
}

/**
 * The weights `[K₀, b₀, K₁, b₁, …]` and layer widths `[D, …, 1]` of an MLP hint: core's {@link MLPKernelParams}
 * (`weights` as tensors or flat arrays, `sizes`) or the deprecated {@link MlpLayersParams} (`layers`).
 */
function mlpWeights(
  p: Readonly<Record<string, unknown>>,
  dim: number,
): { weights: (tf.Tensor | ArrayLike<number>)[]; widths: number[] } {
  const layers = (p as unknown as Partial<MlpLayersParams>)?.layers;
  if (layers !== undefined && (p as { weights?: unknown }).weights === undefined) {
    if (!Array.isArray(layers) || layers.length < 2) {
      badMlp(
        'layers must hold at least one hidden layer and the output layer',
        Array.isArray(layers) ? layers.length : typeof layers,
        "pass the energy's own kernelHint.",
      );
    }
    const widths: number[] = [dim];
    layers.forEach((l, i) => {
      const k = l?.kernel;
      const b = l?.bias;
      if (!(k instanceof tf.Tensor) || !(b instanceof tf.Tensor) || k.rank !== 2) {
        badMlp(
          `layers[${i}] must be { kernel: float32 [fanIn, fanOut], bias: [fanOut] } tensors`,
          typeof k,
          "pass the energy's own kernelHint.",
        );
      }
      widths.push(k.shape[1]!);
    });
    return { weights: layers.flatMap((l) => [l.kernel, l.bias]), widths };
  }
  const sizes = (p as Partial<MLPKernelParams>)?.sizes;
  if (!Array.isArray(sizes) || sizes.length < 3 || !sizes.every((s) => Number.isInteger(s) && s >= 1)) {
    badMlp(
      'sizes must be [inputDim, ...hiddenWidths, 1] with at least one hidden layer',
      sizes,
      "pass the energy's own kernelHint.",
    );
  }
  if (sizes[0] !== dim) {
    badMlp(
      `sizes starts with ${sizes[0]}, not the chains' dimension ${dim}`,
      sizes,
      "pass the energy's own kernelHint (its input dimension must match the chains).",
    );
  }
  const weights = (p as Partial<MLPKernelParams>).weights;
  const L = sizes.length - 1;
  if (!Array.isArray(weights) || weights.length !== 2 * L) {
    badMlp(
      `weights must be ${2 * L} tensors or arrays [K0, b0, K1, b1, ...]`,
      Array.isArray(weights) ? weights.length : typeof weights,
      "pass the energy's own kernelHint.",
    );
  }
  return { weights: weights as (tf.Tensor | ArrayLike<number>)[], widths: [...sizes] };
}

/**
 * Validates an MLP's `kernelHint.params` (core's {@link MLPKernelParams}; the deprecated {@link MlpLayersParams}
 * too) for dimension `dim` and lays its weights out in one flat buffer, built on the device from the live
 * variables at each kernel call. Throws `INVALID_PARAM` for inconsistent layers, `NOT_IMPLEMENTED` for an
 * unknown activation or a width over {@link MLP_MAX_WIDTH}.
 */
export function mlpLayout(p: Readonly<Record<string, unknown>>, dim: number): MlpLayout {
  const actRaw = (p as { activation?: unknown })?.activation;
  const names: unknown[] = Array.isArray(actRaw) ? actRaw : [actRaw];
  for (const a of names) {
    if (!WGSL_ACTIVATIONS.includes(a as string)) {
      throw new EbmError('NOT_IMPLEMENTED', `No fused MLP program for activation "${String(a)}".`, {
        argument: 'params.activation',
        value: actRaw,
        fix: 'use silu, tanh, elu, leakyRelu or relu, one for every hidden layer or one per hidden layer (other energies use the sampler step loop).',
      });
    }
  }
  const slope = (p as { leakySlope?: unknown }).leakySlope ?? 0.2;
  if (typeof slope !== 'number' || !Number.isFinite(slope))
    badMlp('leakySlope must be a finite number', slope, 'pass e.g. 0.2.');
  const { weights, widths } = mlpWeights(p, dim);
  const nHidden = widths.length - 2;
  if (Array.isArray(actRaw) && actRaw.length !== nHidden) {
    throw new EbmError(
      'INVALID_PARAM',
      `kernelHint.params of an "mlp" energy: activation lists ${actRaw.length} activations for ${nHidden} hidden layers.`,
      {
        argument: 'params.activation',
        value: actRaw,
        fix: `pass one activation for every hidden layer or an array of ${nHidden} (one per hidden layer).`,
      },
    );
  }
  const acts = names as MlpActivation[];
  const activations: MlpActivation[] = acts.length === 1 ? Array(nHidden).fill(acts[0]) : [...acts];
  // One activation for every layer (as SiLU and swish are one function): the single-activation programs.
  const canon = activations.map((a) => (a === 'swish' ? 'silu' : a));
  const uniform = canon.every((a) => a === canon[0]);
  const activation: MlpActivation = uniform && acts.every((a) => a === acts[0]) ? acts[0]! : canon[0]!;
  const act = activations.map((a) => (uniform ? '' : activationSuffix(a)));
  const actSuffixes: [string, MlpActivation][] = uniform
    ? [['', activation]]
    : [...new Set(canon)].map((a) => [activationSuffix(a), a]);
  const leaky = canon.includes('leakyRelu');
  for (let l = 0; l + 1 < widths.length; l++) {
    const k = weights[2 * l]!;
    const b = weights[2 * l + 1]!;
    const want = [widths[l]! * widths[l + 1]!, widths[l + 1]!];
    [k, b].forEach((w, j) => {
      const i = 2 * l + j;
      if (w instanceof tf.Tensor) {
        if (w.dtype !== 'float32')
          badMlp(`weights[${i}] must be float32`, w.dtype, "pass the energy's own kernelHint.");
        if (w.isDisposed)
          badMlp(`weights[${i}] has been disposed`, i, 'keep the network alive while sampling.');
      } else if (w === null || typeof w !== 'object' || typeof (w as ArrayLike<number>).length !== 'number') {
        badMlp(
          `weights[${i}] must be a tensor or an array of numbers`,
          typeof w,
          "pass the energy's own kernelHint.",
        );
      }
      const size = w instanceof tf.Tensor ? w.size : (w as ArrayLike<number>).length;
      const shapeOk =
        w instanceof tf.Tensor && j === 0
          ? w.rank === 2 && w.shape[0] === widths[l] && w.shape[1] === widths[l + 1]
          : size === want[j];
      if (!shapeOk) {
        badMlp(
          `weights[${i}] (layer ${l} ${j === 0 ? 'kernel' : 'bias'}) has ${w instanceof tf.Tensor ? `shape ${JSON.stringify(w.shape)}` : `${size} values`}, expected ${j === 0 ? `[${widths[l]}, ${widths[l + 1]}]` : want[j]}`,
          w instanceof tf.Tensor ? w.shape : size,
          "pass the energy's own kernelHint (its input dimension must match the chains).",
        );
      }
    });
  }
  if (widths[widths.length - 1] !== 1)
    badMlp(
      'the output layer must have one unit',
      widths[widths.length - 1],
      "pass the energy's own kernelHint.",
    );
  const hidden = widths.slice(1, -1);
  if (hidden.some((w) => w > MLP_MAX_WIDTH)) {
    throw new EbmError(
      'NOT_IMPLEMENTED',
      `The fused MLP program takes hidden widths up to ${MLP_MAX_WIDTH}.`,
      {
        argument: 'params.layers',
        value: hidden,
        fix: 'narrower layers, or the sampler step loop (automatic).',
      },
    );
  }
  // Offsets of each layer's kernel and bias in the flat buffer P.
  const wOff: number[] = [];
  const bOff: number[] = [];
  let off = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    wOff.push(off);
    off += widths[l]! * widths[l + 1]!;
    bOff.push(off);
    off += widths[l + 1]!;
  }
  return {
    widths,
    wOff,
    bOff,
    activation,
    activations,
    act,
    actSuffixes,
    actCode: actSuffixes.map(([sfx, a]) => activationWgsl(a, slope, sfx)).join('\n'),
    key: `mlp_${widths.join('x')}_${uniform ? activation : canon.join('-')}${leaky ? `_${slope}` : ''}`,
    params: () => tf.tidy(() => tf.concat(weights.map(flatWeight)) as tf.Tensor1D),
  };
}

/**
 * Builds the fused WGSL energy of an MLP for dimension `dim` from its `kernelHint.params`
 * ({@link MlpKernelParams}). Throws `INVALID_PARAM` for inconsistent layers and `NOT_IMPLEMENTED` for an unknown
 * activation or a width over {@link MLP_MAX_WIDTH}.
 */
export function mlpEnergy(p: Readonly<Record<string, unknown>>, dim: number): WgslEnergy {
  const { widths, wOff, bOff, actCode, key, params, act } = mlpLayout(p, dim);
  const hidden = widths.slice(1, -1);
  const L = hidden.length; // hidden layers; layer index L is the output
  const decl = hidden.map((n, l) => `  var z${l} : array<f32, ${n}>;`).join('\n');
  const forward: string[] = [];
  for (let l = 0; l < L; l++) {
    const nIn = widths[l]!;
    const nOut = widths[l + 1]!;
    const input = l === 0 ? '(*x)[i]' : `ebmAct${act[l - 1]}(z${l - 1}[i])`;
    forward.push(`  for (var o = 0; o < ${nOut}; o++) {
    z${l}[o] = P[${bOff[l]} + o];
  }
  for (var i = 0; i < ${nIn}; i++) {
    let a = ${input};
    let row = ${wOff[l]} + i * ${nOut};
    for (var o = 0; o < ${nOut}; o++) {
      z${l}[o] += a * P[row + o];
    }
  }`);
  }
  const last = L - 1;
  const output = `  var e = P[${bOff[L]}];
  for (var i = 0; i < ${hidden[last]}; i++) {
    let w = P[${wOff[L]} + i];
    let z = z${last}[i];
    e += ebmAct${act[last]}(z) * w;
    z${last}[i] = w * ebmActGrad${act[last]}(z);
  }`;
  const backward: string[] = [];
  for (let l = last; l >= 1; l--) {
    const nIn = widths[l]!; // width of z(l−1)
    const nOut = widths[l + 1]!; // width of z(l)
    backward.push(`  for (var i = 0; i < ${nIn}; i++) {
    var s = 0.0;
    let row = ${wOff[l]} + i * ${nOut};
    for (var o = 0; o < ${nOut}; o++) {
      s += P[row + o] * z${l}[o];
    }
    z${l - 1}[i] = s * ebmActGrad${act[l - 1]}(z${l - 1}[i]);
  }`);
  }
  const input = `  for (var k = 0; k < D; k++) {
    var s = 0.0;
    let row = ${wOff[0]} + k * ${widths[1]};
    for (var o = 0; o < ${widths[1]}; o++) {
      s += P[row + o] * z0[o];
    }
    (*g)[k] = s;
  }`;
  return {
    key,
    params,
    code: /* wgsl */ `
${actCode}
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
${decl}
${forward.join('\n')}
${output}
${backward.join('\n')}
${input}
  return e;
}`,
  };
}

/**
 * The `kernelHint` of an MLP energy: its own `kernelHint` when it has an `'mlp'` one (`MLPEnergy` of
 * `@ebm/models` does), else `{ kind: 'mlp', params: { sizes, activation, leakySlope, weights } }` (core's
 * {@link MLPKernelParams}) built from an `MLPEnergy`-like object (`config` and `namedVariables` `dense<l>/kernel`,
 * `dense<l>/bias`); `undefined` when spectral normalisation is on (the fused program has no power iteration).
 * @deprecated `MLPEnergy.kernelHint` provides it; samplers pick `chain.mlp` from it automatically.
 */
export function mlpKernelHint(energy: {
  readonly kernelHint?: { readonly kind: string; readonly params: unknown } | undefined;
  readonly config: {
    readonly inputDim?: number;
    readonly activation: string | readonly string[];
    readonly leakySlope: number;
    readonly spectralNormIterations: number;
    readonly widths: readonly number[];
  };
  readonly namedVariables: readonly { readonly name: string; readonly variable: tf.Tensor }[];
}): { kind: 'mlp'; params: MLPKernelParams } | undefined {
  const c = (energy as { config?: unknown } | null)?.config as { widths?: unknown } | undefined;
  if (
    c === null ||
    typeof c !== 'object' ||
    !Array.isArray(c.widths) ||
    !Array.isArray((energy as { namedVariables?: unknown }).namedVariables)
  ) {
    throw new EbmError('INVALID_PARAM', 'mlpKernelHint needs an MLPEnergy (its config and namedVariables).', {
      argument: 'energy',
      value: energy === null ? null : typeof energy,
      fix: "pass an MLPEnergy from '@ebm/models'.",
    });
  }
  if (energy.config.spectralNormIterations > 0) return undefined;
  const own = energy.kernelHint;
  if (own?.kind === 'mlp') return own as { kind: 'mlp'; params: MLPKernelParams };
  const byName = new Map(energy.namedVariables.map((v) => [v.name, v.variable]));
  const weights: tf.Tensor[] = [];
  for (let l = 0; l <= energy.config.widths.length; l++) {
    const kernel = byName.get(`dense${l}/kernel`);
    const bias = byName.get(`dense${l}/bias`);
    if (kernel === undefined || bias === undefined) return undefined;
    weights.push(kernel, bias);
  }
  const dim = energy.config.inputDim ?? weights[0]!.shape[0]!;
  return {
    kind: 'mlp',
    params: {
      sizes: [dim, ...energy.config.widths, 1],
      activation: energy.config.activation as MlpActivation | readonly MlpActivation[],
      leakySlope: energy.config.leakySlope,
      weights,
    },
  };
}
