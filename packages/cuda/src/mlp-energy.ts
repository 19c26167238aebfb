import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import type { WgslEnergy } from './energy-kinds.js';

/**
 * The fused WGSL energy of a multilayer perceptron (kind `'mlp'`), for the whole-chain kernels: forward pass and
 * input gradient of one chain in one function, weights read from a storage buffer (the live variables, flattened
 * once per kernel call, so a network being trained is always current). Internal module.
 *
 * Network (as `MLPEnergy` of `@ebm/models`): h₀ = x, zₗ = hₗ₋₁·Wₗ + bₗ, hₗ = φ(zₗ) (l = 1..L),
 * E(x) = h_L·w_out + b_out. Input gradient by the chain rule, in place over the pre-activations:
 * δ_L = w_out ⊙ φ'(z_L), δₗ₋₁ = (Wₗ·δₗ) ⊙ φ'(zₗ₋₁), ∇ₓE = W₁·δ₁.
 * @module
 */

/** Hidden activations with a fused form (those of `@ebm/models`' MLPEnergy). */
export type MlpActivation = 'silu' | 'swish' | 'tanh' | 'elu' | 'leakyRelu';

/** `kernelHint.params` of an `'mlp'` energy. */
export interface MlpKernelParams {
  /** Dense layers in order, hidden layers then the output layer: kernel `[fanIn, fanOut]`, bias `[fanOut]`. */
  readonly layers: readonly { readonly kernel: tf.Tensor; readonly bias: tf.Tensor }[];
  readonly activation: MlpActivation;
  /** Negative slope of `'leakyRelu'` (default 0.2). */
  readonly leakySlope?: number;
}

/** Largest hidden width the fused program takes (per-chain private arrays). */
export const MLP_MAX_WIDTH = 1024;

function activationWgsl(activation: MlpActivation, slope: number): string {
  switch (activation) {
    case 'silu':
    case 'swish':
      return `fn ebmAct(z : f32) -> f32 { return z / (1.0 + exp(-z)); }
fn ebmActGrad(z : f32) -> f32 { let s = 1.0 / (1.0 + exp(-z)); return s * (1.0 + z * (1.0 - s)); }`;
    case 'tanh':
      return `fn ebmAct(z : f32) -> f32 { return tanh(z); }
fn ebmActGrad(z : f32) -> f32 { let t = tanh(z); return 1.0 - t * t; }`;
    case 'elu':
      return `fn ebmAct(z : f32) -> f32 { return select(exp(z) - 1.0, z, z > 0.0); }
fn ebmActGrad(z : f32) -> f32 { return select(exp(z), 1.0, z > 0.0); }`;
    case 'leakyRelu':
      return `fn ebmAct(z : f32) -> f32 { return select(${slope} * z, z, z > 0.0); }
fn ebmActGrad(z : f32) -> f32 { return select(${slope}, 1.0, z > 0.0); }`;
  }
}

function badMlp(what: string, value: unknown, fix: string): never {
  throw new EbmError('INVALID_PARAM', `kernelHint.params of an "mlp" energy: ${what}.`, {
    argument: 'params.layers',
    value,
    fix,
  });
}

/** Shapes and buffer offsets of an MLP's weights (flat buffer: kernel₀, bias₀, kernel₁, bias₁, …). */
export interface MlpLayout {
  /** [D, n₁, …, n_L, 1]. */
  readonly widths: readonly number[];
  /** Offsets of dense layer j's kernel `[widths[j], widths[j+1]]` (row-major) and bias. */
  readonly wOff: readonly number[];
  readonly bOff: readonly number[];
  readonly activation: MlpActivation;
  /** WGSL `ebmAct(z)` and `ebmActGrad(z)`. */
  readonly actCode: string;
  /** Shader-cache key part. */
  readonly key: string;
  /** The flat weight buffer, built on the device from the live variables. */
  readonly params: () => tf.Tensor1D;
}

/**
 * Validates an MLP's `kernelHint.params` ({@link MlpKernelParams}) for dimension `dim` and lays its weights out
 * in one flat buffer. Throws `INVALID_PARAM` for inconsistent layers, `NOT_IMPLEMENTED` for an unknown activation
 * or a width over {@link MLP_MAX_WIDTH}.
 */
export function mlpLayout(p: Readonly<Record<string, unknown>>, dim: number): MlpLayout {
  const params = p as unknown as MlpKernelParams;
  const layers = params?.layers;
  if (!Array.isArray(layers) || layers.length < 2) {
    badMlp(
      'layers must hold at least one hidden layer and the output layer',
      Array.isArray(layers) ? layers.length : typeof layers,
      "pass the energy's own kernelHint.",
    );
  }
  const activation = params.activation;
  if (!['silu', 'swish', 'tanh', 'elu', 'leakyRelu'].includes(activation)) {
    throw new EbmError('NOT_IMPLEMENTED', `No fused MLP program for activation "${String(activation)}".`, {
      argument: 'params.activation',
      value: activation,
      fix: 'use silu, tanh, elu or leakyRelu (other energies use the sampler step loop).',
    });
  }
  const slope = params.leakySlope ?? 0.2;
  if (typeof slope !== 'number' || !Number.isFinite(slope))
    badMlp('leakySlope must be a finite number', slope, 'pass e.g. 0.2.');
  const widths: number[] = [dim];
  layers.forEach((l, i) => {
    const k = l?.kernel;
    const b = l?.bias;
    if (!(k instanceof tf.Tensor) || !(b instanceof tf.Tensor) || k.rank !== 2 || k.dtype !== 'float32') {
      badMlp(
        `layers[${i}] must be { kernel: float32 [fanIn, fanOut], bias: [fanOut] } tensors`,
        typeof k,
        "pass the energy's own kernelHint.",
      );
    }
    if (k.isDisposed || b.isDisposed)
      badMlp(`layers[${i}] has been disposed`, i, 'keep the network alive while sampling.');
    if (k.shape[0] !== widths[i] || b.size !== k.shape[1]) {
      badMlp(
        `layers[${i}] has kernel ${JSON.stringify(k.shape)} and bias ${JSON.stringify(b.shape)} after width ${widths[i]}`,
        k.shape,
        "pass the energy's own kernelHint (its input dimension must match the chains).",
      );
    }
    widths.push(k.shape[1]!);
  });
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
  for (let l = 0; l < layers.length; l++) {
    wOff.push(off);
    off += widths[l]! * widths[l + 1]!;
    bOff.push(off);
    off += widths[l + 1]!;
  }
  const tensors = layers.flatMap((l) => [l.kernel, l.bias]);
  return {
    widths,
    wOff,
    bOff,
    activation,
    actCode: activationWgsl(activation, slope),
    key: `mlp_${widths.join('x')}_${activation}${activation === 'leakyRelu' ? `_${slope}` : ''}`,
    params: () => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))) as tf.Tensor1D,
  };
}

/**
 * Builds the fused WGSL energy of an MLP for dimension `dim` from its `kernelHint.params`
 * ({@link MlpKernelParams}). Throws `INVALID_PARAM` for inconsistent layers and `NOT_IMPLEMENTED` for an unknown
 * activation or a width over {@link MLP_MAX_WIDTH}.
 */
export function mlpEnergy(p: Readonly<Record<string, unknown>>, dim: number): WgslEnergy {
  const { widths, wOff, bOff, actCode, key, params } = mlpLayout(p, dim);
  const hidden = widths.slice(1, -1);
  const L = hidden.length; // hidden layers; layer index L is the output
  const decl = hidden.map((n, l) => `  var z${l} : array<f32, ${n}>;`).join('\n');
  const forward: string[] = [];
  for (let l = 0; l < L; l++) {
    const nIn = widths[l]!;
    const nOut = widths[l + 1]!;
    const input = l === 0 ? '(*x)[i]' : `ebmAct(z${l - 1}[i])`;
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
    e += ebmAct(z) * w;
    z${last}[i] = w * ebmActGrad(z);
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
    z${l - 1}[i] = s * ebmActGrad(z${l - 1}[i]);
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
 * The `kernelHint` an MLP energy gives the whole-chain kernels: `{ kind: 'mlp', params: { layers, activation,
 * leakySlope } }` from an `MLPEnergy`-like object (`config` and `namedVariables` `dense<l>/kernel`,
 * `dense<l>/bias`), or `undefined` when spectral normalisation is on (the fused program has no power iteration).
 * `@ebm/models`' `MLPEnergy.kernelHint` should return this.
 */
export function mlpKernelHint(energy: {
  readonly config: {
    readonly activation: string;
    readonly leakySlope: number;
    readonly spectralNormIterations: number;
    readonly widths: readonly number[];
  };
  readonly namedVariables: readonly { readonly name: string; readonly variable: tf.Tensor }[];
}): { kind: 'mlp'; params: MlpKernelParams } | undefined {
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
  const byName = new Map(energy.namedVariables.map((v) => [v.name, v.variable]));
  const layers: { kernel: tf.Tensor; bias: tf.Tensor }[] = [];
  for (let l = 0; l <= energy.config.widths.length; l++) {
    const kernel = byName.get(`dense${l}/kernel`);
    const bias = byName.get(`dense${l}/bias`);
    if (kernel === undefined || bias === undefined) return undefined;
    layers.push({ kernel, bias });
  }
  return {
    kind: 'mlp',
    params: {
      layers,
      activation: energy.config.activation as MlpActivation,
      leakySlope: energy.config.leakySlope,
    },
  };
}
