import {
  type ChainKernelInputs,
  chainKernelName,
  EbmError,
  foldIn,
  isRngKey,
  type LangevinStepInputs,
  langevinStepComposite,
  type RandomInputs,
  registerKernelImpl,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { NORMAL_WGSL, PHILOX_WGSL, UNIFORM_WGSL } from './wgsl.js';

/**
 * Fused WGSL kernels for tfjs's `webgpu` backend, registered in `@ebm/core`'s kernel registry.
 * Programs run through the backend's own program runner (`runWebGPUProgram`), so outputs are ordinary webgpu
 * tensors: nothing is generated on the CPU or copied through it.
 * @module
 */

/** The tfjs backend name these kernels are registered for. */
export const WEBGPU_BACKEND = 'webgpu';

/** The subset of `@tensorflow/tfjs-backend-webgpu`'s `WebGPUProgram` these kernels use. */
interface Program {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode: () => string;
}

type ProgramUniform = { type: 'float32' | 'int32' | 'uint32'; data: number[] }[];

/** The subset of `WebGPUBackend` used here (kept local: the webgpu backend is an optional peer). */
interface WebGpuBackendLike {
  runWebGPUProgram(
    program: Program,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: ProgramUniform,
  ): tf.TensorInfo;
}

const WORKGROUP = 64;

/**
 * Whole-chain kernels split runs into dispatches of at most this many steps, so that one dispatch stays short
 * enough for GPU watchdogs (browsers reset a device whose work runs for seconds).
 */
export const MAX_STEPS_PER_DISPATCH = 1000;

function webgpuBackend(): WebGpuBackendLike {
  const b = tf.backend() as unknown as Partial<WebGpuBackendLike>;
  if (tf.getBackend() !== WEBGPU_BACKEND || typeof b.runWebGPUProgram !== 'function') {
    throw new EbmError(
      'BACKEND_UNAVAILABLE',
      'The fused WGSL kernels need the active tfjs backend "webgpu".',
      {
        argument: 'backend',
        value: tf.getBackend(),
        fix: "call setupWebGpu() (or tf.setBackend('webgpu')) first; other backends use core's composite kernels.",
      },
    );
  }
  return b as WebGpuBackendLike;
}

function run(program: Program, inputs: tf.Tensor[], dtype: tf.DataType, uniforms: ProgramUniform): tf.Tensor {
  const info = webgpuBackend().runWebGPUProgram(program, inputs, dtype, uniforms);
  return tf.engine().makeTensorFromTensorInfo(info);
}

function sizeOf(shape: readonly number[], argument: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new EbmError('INVALID_PARAM', 'shape must hold non-negative integers.', {
        argument,
        value: shape,
        fix: 'pass a shape such as [nChains, dim].',
      });
    }
    n *= d;
  }
  if (n >= 2 ** 31) {
    throw new EbmError('INVALID_PARAM', 'A GPU random tensor must have fewer than 2^31 elements.', {
      argument,
      value: shape,
      fix: 'draw it in several smaller pieces.',
    });
  }
  return n;
}

function checkKey(key: unknown): readonly [number, number] {
  if (!isRngKey(key)) {
    throw new EbmError('INVALID_PARAM', 'key must be an RngKey: two integers in [0, 2^32).', {
      argument: 'key',
      value: key,
      fix: 'make keys with rngKey(seed), foldIn(key, n) or splitKey(key, n) from @ebm/core.',
    });
  }
  return key;
}

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
    dispatch: [Math.max(1, Math.ceil(nBlocks / WORKGROUP)), 1, 1],
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
    dispatch: [Math.max(1, Math.ceil(n / WORKGROUP)), 1, 1],
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
    dispatch: [Math.max(1, Math.ceil(n / WORKGROUP)), 1, 1],
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
// Whole-chain kernels for separable energies

/** A separable energy: ∂E/∂xᵢ depends on xᵢ only, written with two float constants `c0`, `c1`. */
interface SeparableKind {
  /** WGSL expression of the per-coordinate gradient in `x`, `c0`, `c1`. */
  readonly gradient: string;
  /** The two constants from the energy's `kernelHint.params`. */
  readonly constants: (params: Readonly<Record<string, unknown>>) => [number, number];
}

function positiveParam(params: Readonly<Record<string, unknown>>, name: string, kind: string): number {
  const v = params?.[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new EbmError(
      'INVALID_PARAM',
      `kernelHint.params.${name} of a "${kind}" energy must be a number > 0.`,
      {
        argument: `params.${name}`,
        value: v,
        fix: `pass the energy's own kernelHint (e.g. new ${kind === 'doubleWell' ? 'DoubleWell' : 'Harmonic'}() from @ebm/models).`,
      },
    );
  }
  return v;
}

/** The whole-chain kinds implemented on WebGPU, with the gradient formula each uses. */
export const SEPARABLE_CHAIN_KINDS: Readonly<Record<string, SeparableKind>> = {
  /** DoubleWell E = h·Σ(xᵢ² − b²)², ∂ᵢE = 4h·xᵢ(xᵢ² − b²); params `{ barrierHeight: h, b }`. */
  doubleWell: {
    gradient: '(c0 * x) * (x * x - c1)',
    constants: (p) => {
      const h = positiveParam(p, 'barrierHeight', 'doubleWell');
      const b = positiveParam(p, 'b', 'doubleWell');
      return [4 * h, b * b];
    },
  },
  /** Harmonic E = ½k·Σxᵢ², ∂ᵢE = k·xᵢ; params `{ k }`. */
  harmonic: {
    gradient: 'c0 * x',
    constants: (p) => [positiveParam(p, 'k', 'harmonic'), 0],
  },
};

function chainProgram(kind: string, gradient: string, shape: [number, number]): Program {
  const n = shape[0] * shape[1];
  const nBlocks = Math.ceil(n / 4);
  return {
    outputShape: shape,
    shaderKey: `ebm_chain_langevin_${kind}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [Math.max(1, Math.ceil(nBlocks / WORKGROUP)), 1, 1],
    variableNames: ['X', 'K'],
    workgroupSize: [WORKGROUP, 1, 1],
    size: true,
    uniforms: 'stepOffset : i32, nSteps : i32, h : f32, amp : f32, c0 : f32, c1 : f32,',
    getUserCode: () => `
${PHILOX_WGSL}
${NORMAL_WGSL}
fn ebmGrad(x : f32) -> f32 {
  let c0 = uniforms.c0;
  let c1 = uniforms.c1;
  return ${gradient};
}
fn main(index : i32) {
  let first = index * 4;
  if (first >= uniforms.size) {
    return;
  }
  var x = vec4<f32>(0.0);
  for (var l = 0; l < 4; l++) {
    if (first + l < uniforms.size) {
      x[l] = X[first + l];
    }
  }
  let counter = vec4<u32>(u32(index), 0u, 0u, 0u);
  for (var t = 0; t < uniforms.nSteps; t++) {
    let s = 2 * (uniforms.stepOffset + t);
    let key = vec2<u32>(bitcast<u32>(K[s]), bitcast<u32>(K[s + 1]));
    let w = ebmPhilox(counter, key);
    for (var l = 0; l < 4; l++) {
      let xl = x[l];
      let drift = xl - ebmGrad(xl) * uniforms.h;
      x[l] = drift + ebmBitsToNormal(w[l]) * uniforms.amp;
    }
  }
  for (var l = 0; l < 4; l++) {
    if (first + l < uniforms.size) {
      result[first + l] = x[l];
    }
  }
}
`,
  };
}

function settingOf(
  settings: Readonly<Record<string, number>>,
  name: 'stepSize' | 'noiseScale',
  dflt: number,
): number {
  const v = settings?.[name] ?? dflt;
  const ok = typeof v === 'number' && Number.isFinite(v) && (name === 'stepSize' ? v > 0 : v >= 0);
  if (!ok) {
    throw new EbmError(
      'INVALID_PARAM',
      `settings.${name} of a Langevin chain must be a finite number ${name === 'stepSize' ? '> 0' : '>= 0'}.`,
      {
        argument: `settings.${name}`,
        value: v,
        fix: name === 'stepSize' ? 'pass a step size > 0, e.g. 0.01.' : 'pass a noise scale >= 0, e.g. 1.',
      },
    );
  }
  return v;
}

/**
 * Per-step keys of a whole chain run from `key`: step t (0-based) draws its noise with `foldIn(key, t)`, in
 * core's layout (element i of the `[B, D]` noise = lane i mod 4 of block ⌊i/4⌋).
 */
export function chainStepKeys(key: readonly [number, number], nSteps: number): Int32Array {
  const words = new Int32Array(2 * nSteps);
  for (let t = 0; t < nSteps; t++) {
    const k = foldIn(key, t);
    words[2 * t] = k[0] | 0;
    words[2 * t + 1] = k[1] | 0;
  }
  return words;
}

/**
 * Whole-chain Langevin kernel `chain.<kind>` on WebGPU for the separable kinds in {@link SEPARABLE_CHAIN_KINDS}:
 * `nSteps` Euler–Maruyama steps x ← x − h·∇E(x) + σ√(2h)·ξ_t in ONE dispatch, with Philox noise generated in
 * the kernel (ξ_t = `normalArray(foldIn(key, t), [B, D])`, see {@link chainStepKeys}). Settings:
 * `{ stepSize: h > 0, noiseScale: σ ≥ 0 (default 1) }`. Methods other than `'langevin'` throw `NOT_IMPLEMENTED`
 * (samplers then use their step loop).
 */
export function makeSeparableChainKernel(kind: string): (inputs: ChainKernelInputs) => tf.Tensor2D {
  const spec = SEPARABLE_CHAIN_KINDS[kind];
  if (spec === undefined) {
    throw new EbmError('NOT_IMPLEMENTED', `No WebGPU whole-chain kernel for energies of kind "${kind}".`, {
      argument: 'kind',
      value: kind,
      fix: `use one of: ${Object.keys(SEPARABLE_CHAIN_KINDS).join(', ')}.`,
    });
  }
  return ({ method, x0, nSteps, key, params, settings }) => {
    if (method !== 'langevin') {
      throw new EbmError('NOT_IMPLEMENTED', `The WebGPU chain.${kind} kernel runs only method "langevin".`, {
        argument: 'method',
        value: method,
        fix: 'use the sampler step loop for other methods (samplers do this automatically).',
      });
    }
    if (!(x0 instanceof tf.Tensor) || x0.rank !== 2 || x0.dtype !== 'float32') {
      throw new EbmError('SHAPE_MISMATCH', 'x0 must be a float32 [B, D] tensor.', {
        argument: 'x0',
        value: x0 instanceof tf.Tensor ? { shape: x0.shape, dtype: x0.dtype } : typeof x0,
        fix: 'pass the chains as a 2-D float32 tensor, one row per chain.',
      });
    }
    if (!Number.isInteger(nSteps) || nSteps < 0) {
      throw new EbmError('INVALID_PARAM', 'nSteps must be an integer >= 0.', {
        argument: 'nSteps',
        value: nSteps,
        fix: 'pass the number of Langevin steps, e.g. 100.',
      });
    }
    const k = checkKey(key);
    const [c0, c1] = spec.constants(params);
    const h = settingOf(settings, 'stepSize', Number.NaN);
    const sigma = settingOf(settings, 'noiseScale', 1);
    if (nSteps === 0 || x0.size === 0) return tf.clone(x0);
    const keys = tf.tensor1d(chainStepKeys(k, nSteps), 'int32');
    const program = chainProgram(kind, spec.gradient, [x0.shape[0], x0.shape[1]]);
    const amp = sigma * Math.sqrt(2 * h);
    let x: tf.Tensor2D = x0;
    try {
      // Long runs are split into dispatches of at most MAX_STEPS_PER_DISPATCH steps (GPU watchdogs).
      for (let offset = 0; offset < nSteps; offset += MAX_STEPS_PER_DISPATCH) {
        const steps = Math.min(MAX_STEPS_PER_DISPATCH, nSteps - offset);
        const next = run(program, [x, keys], 'float32', [
          { type: 'int32', data: [offset] },
          { type: 'int32', data: [steps] },
          { type: 'float32', data: [h] },
          { type: 'float32', data: [amp] },
          { type: 'float32', data: [c0] },
          { type: 'float32', data: [c1] },
        ]) as tf.Tensor2D;
        if (x !== x0) x.dispose();
        x = next;
      }
      return x;
    } catch (e) {
      if (x !== x0) x.dispose();
      throw e;
    } finally {
      keys.dispose();
    }
  };
}

// ---------------------------------------------------------------------------------------------------------
// Registration

interface RegistrationState {
  unregister: () => void;
}
const STATE_SYMBOL = Symbol.for('@ebm/cuda/webgpu-kernels/v1');

/** Names of the kernels {@link registerWebGpuKernels} registers for `'webgpu'`. */
export const WEBGPU_KERNEL_NAMES: readonly string[] = [
  'randomNormal',
  'randomUniform',
  'langevinStep',
  ...Object.keys(SEPARABLE_CHAIN_KINDS).map(chainKernelName),
];

/**
 * Registers the fused WGSL kernels for tfjs backend `'webgpu'` in `@ebm/core`'s kernel registry:
 * `randomNormal`, `randomUniform`, `langevinStep`, `chain.doubleWell` and `chain.harmonic`. Samplers pick them
 * up through `runKernel` without changes whenever `webgpu` is the active backend. Idempotent (a second call
 * returns the same function); an implementation registered by someone else for `'webgpu'` is replaced.
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
    ...Object.keys(SEPARABLE_CHAIN_KINDS).map((kind) =>
      registerKernelImpl(
        chainKernelName(kind),
        WEBGPU_BACKEND,
        makeSeparableChainKernel(kind) as (inputs: unknown) => unknown,
        opts,
      ),
    ),
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
