import {
  chainKernelName,
  declareKernel,
  EbmError,
  type LangevinStepInputs,
  langevinStepComposite,
  MLP_CONTRASTIVE_ADAM_KERNEL,
  MLP_GRADIENT_REGRESSION_ADAM_KERNEL,
  MLP_GRADIENT_REGRESSION_KERNEL,
  NON_FINITE_ROWS_KERNEL,
  type RandomInputs,
  REPLAY_DRAW_KERNEL,
  REPLAY_WRITE_KERNEL,
  registerKernelImpl,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkKey, run, sizeOf, WEBGPU_BACKEND, WORKGROUP } from './backend.js';
import { CHAIN_KINDS, chainTraceKernelName, makeChainKernel, makeChainTraceKernel } from './chain-kernels.js';
import { flatDispatch, type Program } from './chain-programs.js';
import { nonFiniteRowsWebGpu } from './finite-scan.js';
import { mlpGradientRegressionWebGpu } from './mlp-gradient-regression.js';
import { mlpGradientRegressionAdamWebGpu } from './mlp-gradient-regression-adam.js';
import { mlpContrastiveAdamWebGpu } from './mlp-train.js';
import { replayDrawWebGpu, replayWriteWebGpu } from './replay.js';
import { NORMAL_WGSL, PHILOX_WGSL, UNIFORM_WGSL } from './wgsl.js';

export { WEBGPU_BACKEND } from './backend.js';

/**
 * Fused WGSL kernels for tfjs's `webgpu` backend, registered in `@ebm/core`'s kernel registry.
 * Programs run through the backend's own program runner (`runWebGPUProgram`), so outputs are ordinary webgpu
 * tensors: nothing is generated on the CPU or copied through it.
 * @module
 */

// ---------------------------------------------------------------------------------------------------------
// randomNormal / randomUniform

/** One thread per Philox block: writes elements 4b … 4b+3 (those below `size`). */
function randomProgram(kind: 'normal' | 'uniform', n: number): Program {
  const nBlocks = Math.ceil(n / 4);
  const convert = kind === 'normal' ? 'ebmBitsToNormal' : 'ebmBitsToUniform';
  return {
    outputShape: [n],
    shaderKey: `ebm_philox_${kind}`,
    dispatchLayout: { x: [0] },
    dispatch: flatDispatch(Math.ceil(nBlocks / WORKGROUP)),
    variableNames: [],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: 'k0 : u32, k1 : u32,',
    getUserCode: () => `
${PHILOX_WGSL}
${kind === 'normal' ? NORMAL_WGSL : UNIFORM_WGSL}
fn main(index : i32) {
  let first = index * 4;
  if (first < uniforms.size) {
    let w = ebmPhilox(vec4<u32>(u32(index), 0u, 0u, 0u), vec2<u32>(uniforms.k0, uniforms.k1));
    for (var l = 0; l < 4; l++) {
      if (first + l < uniforms.size) {
        result[first + l] = ${convert}(w[l]);
      }
    }
  }
}
`,
  };
}

function randomWebGpu(kind: 'normal' | 'uniform', { key, shape }: RandomInputs): tf.Tensor {
  const k = checkKey(key);
  if (!Array.isArray(shape)) {
    throw new EbmError('INVALID_PARAM', 'shape must be an array of non-negative integers.', {
      argument: 'shape',
      value: shape,
      fix: 'pass a shape such as [nChains, dim].',
    });
  }
  const n = sizeOf(shape, 'shape');
  if (n === 0) return tf.zeros([...shape], 'float32');
  const flat = run(randomProgram(kind, n), [], 'float32', [
    { type: 'uint32', data: [k[0]] },
    { type: 'uint32', data: [k[1]] },
  ]);
  if (shape.length === 1) return flat;
  const out = tf.reshape(flat, [...shape]);
  flat.dispose();
  return out;
}

/**
 * `randomNormal` on WebGPU: Philox4x32-10 in WGSL, the exact stream of `@ebm/core`'s host `normalArray(key,
 * shape)` (element i = lane i mod 4 of block ⌊i/4⌋, each word mapped by `bitsToNormal`), equal up to float32
 * rounding of the inverse-CDF evaluation (|Δ| < 1e-5).
 */
export function randomNormalWebGpu(inputs: RandomInputs): tf.Tensor {
  return randomWebGpu('normal', inputs);
}

/**
 * `randomUniform` on WebGPU: the same Philox stream as `@ebm/core`'s `uniformArray(key, shape)`, mapped by
 * core's `bitsToUniform` (`(2⌊u/2⁹⌋ + 1)·2⁻²⁴`, exact in float32): bit-identical to the host.
 */
export function randomUniformWebGpu(inputs: RandomInputs): tf.Tensor {
  return randomWebGpu('uniform', inputs);
}

/**
 * Internal (tests): maps raw uint32 words, held bit for bit in an int32 tensor, through the WGSL conversion
 * `ebmBitsToNormal` or `ebmBitsToUniform` (checks the tails and ties that random draws rarely reach).
 */
export function convertBitsWebGpu(kind: 'normal' | 'uniform', bits: tf.Tensor1D): tf.Tensor1D {
  const convert = kind === 'normal' ? 'ebmBitsToNormal' : 'ebmBitsToUniform';
  const n = bits.shape[0];
  const program: Program = {
    outputShape: [n],
    shaderKey: `ebm_convert_bits_${kind}`,
    dispatchLayout: { x: [0] },
    dispatch: flatDispatch(Math.ceil(n / WORKGROUP)),
    variableNames: ['U'],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    getUserCode: () => `
${kind === 'normal' ? NORMAL_WGSL : UNIFORM_WGSL}
fn main(index : i32) {
  if (index < uniforms.size) {
    result[index] = ${convert}(bitcast<u32>(U[index]));
  }
}
`,
  };
  return run(program, [bits], 'float32', []) as tf.Tensor1D;
}

// ---------------------------------------------------------------------------------------------------------
// langevinStep

function langevinProgram(withNoise: boolean, shape: number[]): Program {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    outputShape: shape,
    shaderKey: `ebm_langevin_step_${withNoise ? 'noise' : 'drift'}`,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: flatDispatch(Math.ceil(n / WORKGROUP)),
    variableNames: withNoise ? ['X', 'G', 'N'] : ['X', 'G'],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: 'h : f32, amp : f32,',
    getUserCode: () => `
fn main(index : i32) {
  if (index < uniforms.size) {
    let drift = X[index] - G[index] * uniforms.h;
    ${withNoise ? 'result[index] = drift + N[index] * uniforms.amp;' : 'result[index] = drift;'}
  }
}
`,
  };
}

function sameShape(a: tf.Tensor, b: tf.Tensor): boolean {
  return a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
}

/** True while tfjs records a gradient tape (inside `tf.grad`, `optimizer.minimize`, ...). */
function recordingGradients(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 0) > 0;
}

/**
 * `langevinStep` on WebGPU: `x − h·∇E + σ√(2h)·ξ` in one elementwise program (the composite runs three to four
 * tfjs kernels). The program has no gradient: inside a gradient tape, and for inputs other than three float32
 * tensors of one shape, it falls back to the (differentiable, broadcasting) composite.
 */
export function langevinStepWebGpu(inputs: LangevinStepInputs): tf.Tensor2D {
  const { x, grad, noise, stepSize, noiseScale } = inputs;
  if (
    !(x instanceof tf.Tensor) ||
    !(grad instanceof tf.Tensor) ||
    !(noise instanceof tf.Tensor) ||
    typeof stepSize !== 'number' ||
    typeof noiseScale !== 'number' ||
    x.dtype !== 'float32' ||
    grad.dtype !== 'float32' ||
    noise.dtype !== 'float32' ||
    !sameShape(x, grad) ||
    !sameShape(x, noise) ||
    x.size === 0 ||
    recordingGradients()
  ) {
    return langevinStepComposite(inputs);
  }
  const amp = noiseScale * Math.sqrt(2 * stepSize);
  const withNoise = amp !== 0;
  return run(langevinProgram(withNoise, [...x.shape]), withNoise ? [x, grad, noise] : [x, grad], 'float32', [
    { type: 'float32', data: [stepSize] },
    { type: 'float32', data: [amp] },
  ]) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------------------
// Registration

interface RegistrationState {
  unregister: () => void;
}
const STATE_SYMBOL = Symbol.for('@ebm/cuda/webgpu-kernels/v1');

/** Whether {@link registerWebGpuKernels}' registrations are in place (registered and not removed since). */
export function webGpuKernelsRegistered(): boolean {
  return (globalThis as unknown as Record<symbol, RegistrationState | undefined>)[STATE_SYMBOL] !== undefined;
}

/** Names of the kernels {@link registerWebGpuKernels} registers for `'webgpu'`. */
export const WEBGPU_KERNEL_NAMES: readonly string[] = [
  'randomNormal',
  'randomUniform',
  'langevinStep',
  MLP_CONTRASTIVE_ADAM_KERNEL,
  MLP_GRADIENT_REGRESSION_KERNEL,
  MLP_GRADIENT_REGRESSION_ADAM_KERNEL,
  REPLAY_DRAW_KERNEL,
  REPLAY_WRITE_KERNEL,
  NON_FINITE_ROWS_KERNEL,
  ...CHAIN_KINDS.map(chainKernelName),
  ...CHAIN_KINDS.map(chainTraceKernelName),
];

/**
 * Registers the fused WGSL kernels for tfjs backend `'webgpu'` in `@ebm/core`'s kernel registry:
 * `randomNormal`, `randomUniform`, `langevinStep`, `train.mlpContrastiveAdam` (the fused CD + Adam training step of
 * an MLP energy, see `mlp-train.ts`), `train.mlpGradientRegression` (loss and parameter gradient of
 * Σ c‖∇ₓV + u‖², Energy Matching's flow term, see `mlp-gradient-regression.ts`), `train.mlpGradientRegressionAdam`
 * (that term and tfjs's Adam in one step, see `mlp-gradient-regression-adam.ts`), `replay.draw` and `replay.write`
 * (PCD's replay buffer in one program each, see `replay.ts`), `nonFiniteRows` (the count of non-finite rows of
 * `[B, D]` in one dispatch, see `finite-scan.ts`), and for every kind in `CHAIN_KINDS` the whole-chain
 * kernel
 * `chain.<kind>` (Langevin, MALA, HMC) and its traced variant `chainTrace.<kind>` (declared here). Samplers pick
 * them up through `runKernel` without changes whenever `webgpu` is the active backend. `setupWebGpu()` calls this
 * (unless `{ kernels: false }`); call it yourself (or import `@ebm/cuda/register`) when you activate tfjs's
 * `webgpu` backend another way. Idempotent (a second call returns the same function); an implementation
 * registered by someone else for `'webgpu'` is replaced.
 * @returns a function that removes these registrations (and lets a later call register them again).
 */
export function registerWebGpuKernels(): () => void {
  const g = globalThis as unknown as Record<symbol, RegistrationState | undefined>;
  const existing = g[STATE_SYMBOL];
  if (existing !== undefined) return existing.unregister;
  const opts = { override: true };
  const removers = [
    registerKernelImpl('randomNormal', WEBGPU_BACKEND, randomNormalWebGpu, opts),
    registerKernelImpl('randomUniform', WEBGPU_BACKEND, randomUniformWebGpu, opts),
    registerKernelImpl('langevinStep', WEBGPU_BACKEND, langevinStepWebGpu, opts),
    registerKernelImpl(MLP_CONTRASTIVE_ADAM_KERNEL, WEBGPU_BACKEND, mlpContrastiveAdamWebGpu, opts),
    registerKernelImpl(MLP_GRADIENT_REGRESSION_KERNEL, WEBGPU_BACKEND, mlpGradientRegressionWebGpu, opts),
    registerKernelImpl(
      MLP_GRADIENT_REGRESSION_ADAM_KERNEL,
      WEBGPU_BACKEND,
      mlpGradientRegressionAdamWebGpu,
      opts,
    ),
    registerKernelImpl(REPLAY_DRAW_KERNEL, WEBGPU_BACKEND, replayDrawWebGpu, opts),
    registerKernelImpl(REPLAY_WRITE_KERNEL, WEBGPU_BACKEND, replayWriteWebGpu, opts),
    registerKernelImpl(NON_FINITE_ROWS_KERNEL, WEBGPU_BACKEND, nonFiniteRowsWebGpu, opts),
    ...CHAIN_KINDS.map((kind) =>
      registerKernelImpl(
        chainKernelName(kind),
        WEBGPU_BACKEND,
        makeChainKernel(kind) as (inputs: unknown) => unknown,
        opts,
      ),
    ),
    ...CHAIN_KINDS.map((kind) => {
      declareKernel(
        chainTraceKernelName(kind),
        {
          description: `whole chain with kept-step statistics and thinned positions, energies of kind "${kind}"`,
          fallback: null,
        },
        { override: true },
      );
      return registerKernelImpl(
        chainTraceKernelName(kind),
        WEBGPU_BACKEND,
        makeChainTraceKernel(kind) as (inputs: unknown) => unknown,
        opts,
      );
    }),
  ];
  const state: RegistrationState = {
    unregister: () => {
      if (g[STATE_SYMBOL] !== state) return;
      for (const remove of removers) remove();
      g[STATE_SYMBOL] = undefined;
    },
  };
  g[STATE_SYMBOL] = state;
  return state.unregister;
}
