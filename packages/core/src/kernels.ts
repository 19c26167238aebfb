import * as tf from '@tensorflow/tfjs-core';
import type {
  ChainKernelInputs,
  ChainKernelName,
  ChainTraceKernelInputs,
  ChainTraceKernelName,
  ChainTraceKernelOutput,
} from './energy-kinds.js';
import { EbmError } from './errors.js';
import type { NonFiniteRowsInputs, NonFiniteRowsOutput } from './finite-kernel.js';
import type { ReplayDrawInputs, ReplayWriteInputs } from './replay-kernels.js';
import { normalTensor, type RngKey, uniformTensor } from './rng.js';
import type {
  MLPGradientRegressionInputs,
  MLPGradientRegressionOutput,
} from './train-gradient-regression.js';
import type {
  MLPContrastiveAdamInputs,
  MLPContrastiveAdamOutput,
  MLPGradientRegressionAdamInputs,
  MLPGradientRegressionAdamOutput,
} from './train-kernels.js';

/**
 * # Kernel registry
 *
 * Core declares named kernels, each with a composite tfjs fallback that works on every backend. A plugin
 * (for example `@ebm/cuda`) registers a faster implementation for a tfjs backend name; {@link runKernel} picks
 * the registered one for the active backend (`tf.getBackend()`) and falls back to the composite otherwise.
 * Samplers call `runKernel` and never know which ran.
 *
 * Plugins add kernels of their own without touching core: call {@link declareKernel} and, for type safety,
 * augment {@link KernelSignatures}:
 * ```ts
 * declare module '@ebm/core' {
 *   interface KernelSignatures { myStep: { inputs: { x: tf.Tensor2D }; output: tf.Tensor2D } }
 * }
 * declareKernel('myStep', { description: '...', fallback: ({ x }) => tf.neg(x) });
 * registerKernelImpl('myStep', 'webgpu', ({ x }) => fastNeg(x));
 * ```
 * The registry lives on `globalThis` (like tfjs's own), so two copies of this module share it.
 * @module
 */

/** Inputs of the `langevinStep` kernel: `x − h·∇E + σ·√(2h)·ξ`. */
export interface LangevinStepInputs {
  /** Current states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** ∇E(x), `[B, D]`. */
  readonly grad: tf.Tensor2D;
  /** Standard-normal noise ξ `[B, D]`. */
  readonly noise: tf.Tensor2D;
  /** Step size h > 0. */
  readonly stepSize: number;
  /** Noise scale σ ≥ 0 (σ² is a temperature). */
  readonly noiseScale: number;
}

/**
 * Inputs of the `momentumKick` kernel: `p − c·∇E`, one momentum update of a leapfrog / velocity-Verlet
 * integrator (c = ε/2 for a half kick, c = ε for the merged full kick between two drifts; for a tempered
 * target π_β ∝ exp(−β·E) pass c·β).
 */
export interface MomentumKickInputs {
  /** Momenta `[B, D]`. */
  readonly p: tf.Tensor2D;
  /** ∇E at the current positions, `[B, D]`. */
  readonly grad: tf.Tensor2D;
  /** Kick length c: a number, or a `[B, 1]` tensor for per-chain step sizes (or temperatures). */
  readonly stepSize: number | tf.Tensor;
}

/** Inputs of the `positionDrift` kernel: `q + c·M⁻¹p`, the position update of a leapfrog integrator. */
export interface PositionDriftInputs {
  /** Positions `[B, D]`. */
  readonly q: tf.Tensor2D;
  /** Momenta `[B, D]`. */
  readonly p: tf.Tensor2D;
  /** Drift length c (ε for leapfrog): a number, or a `[B, 1]` tensor for per-chain step sizes. */
  readonly stepSize: number | tf.Tensor;
  /** Inverse mass M⁻¹: a number, or a `[D]` / `[B, D]` tensor (diagonal). */
  readonly invMass: number | tf.Tensor;
}

/** Inputs of the `gradientDescentStep` kernel: `x − η·∇E`. */
export interface GradientDescentStepInputs {
  /** Current states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** ∇E(x), `[B, D]`. */
  readonly grad: tf.Tensor2D;
  /** Step size η > 0. */
  readonly stepSize: number;
}

/** Inputs of the `nesterovStep` kernel: `v' = μ·v − η·∇E(x + μ·v)`, `x' = x + v'`. */
export interface NesterovStepInputs {
  /** Current states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** Velocities `[B, D]`. */
  readonly v: tf.Tensor2D;
  /** ∇E at the look-ahead point `x + μ·v`, `[B, D]`. */
  readonly grad: tf.Tensor2D;
  /** Step size η > 0. */
  readonly stepSize: number;
  /** Momentum μ ∈ [0, 1). */
  readonly momentum: number;
}

/** Output of the `nesterovStep` kernel. */
export interface NesterovStepOutput {
  readonly x: tf.Tensor2D;
  readonly v: tf.Tensor2D;
}

/**
 * Inputs of the `leapfrogStep` kernel (one velocity-Verlet step with the force reused across steps).
 * @deprecated It takes the gradient as a callback, so no backend can implement it as data: use the
 * `momentumKick` and `positionDrift` kernels and compute ∇E between them (see `leapfrogStepComposite`).
 * Kept, and still working, for plugins; it will be removed in a later release.
 */
export interface LeapfrogStepInputs {
  /** Positions `[B, D]`. */
  readonly q: tf.Tensor2D;
  /** Momenta `[B, D]`. */
  readonly p: tf.Tensor2D;
  /** ∇E(q) at the current positions, `[B, D]` (reused from the previous step). */
  readonly grad: tf.Tensor2D;
  /** Step size ε (a number, or a `[B, 1]` tensor for per-chain step sizes). */
  readonly stepSize: number | tf.Tensor;
  /** Inverse mass: a number, or a `[D]` / `[B, D]` tensor (diagonal). */
  readonly invMass: number | tf.Tensor;
  /** Gradient of the energy, called once at the new positions. */
  readonly gradient: (q: tf.Tensor2D) => tf.Tensor2D;
}

/**
 * Output of the `leapfrogStep` kernel.
 * @deprecated See {@link LeapfrogStepInputs}.
 */
export interface LeapfrogStepOutput {
  readonly q: tf.Tensor2D;
  readonly p: tf.Tensor2D;
  /** ∇E at the new positions (pass it to the next step). */
  readonly grad: tf.Tensor2D;
}

/** Inputs of the `metropolisAccept` kernel. */
export interface MetropolisAcceptInputs {
  /** log α per chain, `[B]` (non-finite values are rejected). */
  readonly logAcceptRatio: tf.Tensor1D;
  /** Tensors describing the current state (leading axis = chains), e.g. `[x, energy, grad]`. */
  readonly current: readonly tf.Tensor[];
  /** The proposals, same shapes as `current`. */
  readonly proposal: readonly tf.Tensor[];
  /** Key of the uniform draws (one per chain). */
  readonly key: RngKey;
}

/** Output of the `metropolisAccept` kernel. */
export interface MetropolisAcceptOutput {
  /** Per chain, the proposal where accepted and the current state elsewhere, one tensor per input. */
  readonly selected: tf.Tensor[];
  /** 1 where accepted, 0 where rejected, `[B]` float32. */
  readonly accepted: tf.Tensor1D;
}

/** Inputs of the `randomNormal` / `randomUniform` kernels. */
export interface RandomInputs {
  readonly key: RngKey;
  readonly shape: readonly number[];
}

/**
 * Kernel names and their input/output types. Augment it (declaration merging) to type a plugin's kernels.
 * Whole-chain kernels `chain.<kind>` are typed separately: their inputs are {@link ChainKernelInputs} of the
 * kind (see `EnergyKinds`), their output the final states `[B, D]`.
 */
export interface KernelSignatures {
  randomNormal: { inputs: RandomInputs; output: tf.Tensor };
  randomUniform: { inputs: RandomInputs; output: tf.Tensor };
  langevinStep: { inputs: LangevinStepInputs; output: tf.Tensor2D };
  momentumKick: { inputs: MomentumKickInputs; output: tf.Tensor2D };
  positionDrift: { inputs: PositionDriftInputs; output: tf.Tensor2D };
  gradientDescentStep: { inputs: GradientDescentStepInputs; output: tf.Tensor2D };
  nesterovStep: { inputs: NesterovStepInputs; output: NesterovStepOutput };
  /** @deprecated use `momentumKick` and `positionDrift` (see {@link LeapfrogStepInputs}). */
  leapfrogStep: { inputs: LeapfrogStepInputs; output: LeapfrogStepOutput };
  metropolisAccept: { inputs: MetropolisAcceptInputs; output: MetropolisAcceptOutput };
  /** One fused CD + Adam step of an MLP energy (see `MLP_CONTRASTIVE_ADAM_KERNEL`); no composite. */
  'train.mlpContrastiveAdam': { inputs: MLPContrastiveAdamInputs; output: MLPContrastiveAdamOutput };
  /** Loss and parameter gradient of Σ c‖∇ₓV + u‖² for an MLP energy (see `MLP_GRADIENT_REGRESSION_KERNEL`); no composite. */
  'train.mlpGradientRegression': { inputs: MLPGradientRegressionInputs; output: MLPGradientRegressionOutput };
  /** One fused gradient-regression + Adam step of an MLP energy (see `MLP_GRADIENT_REGRESSION_ADAM_KERNEL`); no composite. */
  'train.mlpGradientRegressionAdam': {
    inputs: MLPGradientRegressionAdamInputs;
    output: MLPGradientRegressionAdamOutput;
  };
  /** Replay-buffer draw of PCD (see `REPLAY_DRAW_KERNEL`): the start points `[B, D]`. */
  'replay.draw': { inputs: ReplayDrawInputs; output: tf.Tensor2D };
  /** Replay-buffer FIFO write (see `REPLAY_WRITE_KERNEL`): the new buffer `[capacity, D]`. */
  'replay.write': { inputs: ReplayWriteInputs; output: tf.Tensor2D };
  /** Partial counts of the rows of `[B, D]` holding NaN/±Infinity (see `NON_FINITE_ROWS_KERNEL`). */
  nonFiniteRows: { inputs: NonFiniteRowsInputs; output: NonFiniteRowsOutput };
}

/** A kernel's name: one of {@link KernelSignatures}, or any string for kernels declared at run time. */
export type KernelName = keyof KernelSignatures | (string & {});
/** Inputs of kernel `N`: from {@link KernelSignatures}, {@link ChainKernelInputs} for `chain.<kind>`, else unknown. */
export type KernelInputs<N> = N extends keyof KernelSignatures
  ? KernelSignatures[N]['inputs']
  : N extends `chain.${infer K}`
    ? ChainKernelInputs<K>
    : N extends `chainTrace.${infer K}`
      ? ChainTraceKernelInputs<K>
      : unknown;
/** Output of kernel `N`: from {@link KernelSignatures}, the final states for `chain.<kind>`, else unknown. */
export type KernelOutput<N> = N extends keyof KernelSignatures
  ? KernelSignatures[N]['output']
  : N extends `chain.${string}`
    ? tf.Tensor2D
    : N extends `chainTrace.${string}`
      ? ChainTraceKernelOutput
      : unknown;
type Inputs<N> = KernelInputs<N>;
type Output<N> = KernelOutput<N>;

/** A kernel implementation: a function of the inputs object. It must not leak intermediate tensors. */
export type KernelImpl<I = unknown, O = unknown> = (inputs: I) => O;

/** What {@link declareKernel} takes. */
export interface KernelDeclaration<I = unknown, O = unknown> {
  /** One line: what the kernel computes. */
  readonly description: string;
  /** Composite implementation for every backend, or `null` when there is none (callers must check). */
  readonly fallback: KernelImpl<I, O> | null;
}

/** A registry entry as reported by {@link listKernels}. */
export interface KernelInfo {
  readonly name: string;
  readonly description: string;
  readonly hasFallback: boolean;
  /** tfjs backend names with a registered implementation. */
  readonly backends: string[];
}

interface Entry {
  description: string;
  fallback: KernelImpl | null;
  impls: Map<string, KernelImpl>;
}

const REGISTRY_SYMBOL = Symbol.for('@ebm/core/kernel-registry/v1');
function registry(): Map<string, Entry> {
  const g = globalThis as unknown as Record<symbol, Map<string, Entry> | undefined>;
  let r = g[REGISTRY_SYMBOL];
  if (r === undefined) {
    r = new Map();
    g[REGISTRY_SYMBOL] = r;
  }
  return r;
}

const CHAIN_PREFIX = 'chain.';

/**
 * The registry name of the whole-chain kernel for an energy kind: `chain.<kind>` — the one name of the fused
 * whole-chain path. For a literal kind the name is typed (`'chain.doubleWell'`), so `runKernel` and
 * `registerKernelImpl` check the inputs against `ChainKernelInputs<'doubleWell'>`.
 */
export function chainKernelName<K extends string>(kind: K): ChainKernelName<K> {
  return `${CHAIN_PREFIX}${kind}` as ChainKernelName<K>;
}

const CHAIN_TRACE_PREFIX = 'chainTrace.';

/**
 * The registry name of the traced whole-chain kernel for an energy kind: `chainTrace.<kind>` (a whole chain that
 * also returns kept-step statistics and positions, see `ChainTraceKernelInputs` / `ChainTraceKernelOutput`).
 * Samplers use it for runs with `diagnostics` or an `x` trajectory when the active backend registered one.
 */
export function chainTraceKernelName<K extends string>(kind: K): ChainTraceKernelName<K> {
  return `${CHAIN_TRACE_PREFIX}${kind}` as ChainTraceKernelName<K>;
}

function assertName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new EbmError('INVALID_PARAM', 'A kernel name must be a non-empty string.', {
      argument: 'name',
      value: name,
      fix: "use a name such as 'langevinStep' or 'chain.doubleWell'.",
    });
  }
  return name;
}

/**
 * Declares a kernel name with its composite fallback. Throws `KERNEL_CONFLICT` if the name exists, unless
 * `override` is set (then the description and fallback are replaced and registered implementations kept).
 */
export function declareKernel<N extends KernelName>(
  name: N,
  declaration: KernelDeclaration<Inputs<N>, Output<N>>,
  { override = false }: { override?: boolean } = {},
): void {
  assertName(name);
  const reg = registry();
  const existing = reg.get(name);
  if (existing !== undefined && !override) {
    throw new EbmError('KERNEL_CONFLICT', `Kernel "${name}" is already declared.`, {
      argument: 'name',
      value: name,
      fix: 'pick another name, or pass { override: true } to replace the declaration.',
    });
  }
  if (declaration.fallback !== null && typeof declaration.fallback !== 'function') {
    throw new EbmError('INVALID_PARAM', 'A kernel fallback must be a function or null.', {
      argument: 'fallback',
      value: typeof declaration.fallback,
      fix: 'pass (inputs) => output, or null when no composite exists.',
    });
  }
  reg.set(name, {
    description: declaration.description,
    fallback: declaration.fallback as KernelImpl | null,
    impls: existing?.impls ?? new Map(),
  });
}

function entryFor(name: string, forRegistration: boolean): Entry {
  const reg = registry();
  let e = reg.get(name);
  const chainPrefix = name.startsWith(CHAIN_PREFIX)
    ? CHAIN_PREFIX
    : name.startsWith(CHAIN_TRACE_PREFIX)
      ? CHAIN_TRACE_PREFIX
      : undefined;
  if (e === undefined && chainPrefix !== undefined) {
    // Whole-chain kernels are declared on first use: they have no composite (the sampler's step loop is it).
    e = {
      description: `${chainPrefix === CHAIN_PREFIX ? 'whole chain' : 'traced whole chain'} for energies of kind "${name.slice(chainPrefix.length)}"`,
      fallback: null,
      impls: new Map(),
    };
    if (forRegistration) reg.set(name, e);
  }
  if (e === undefined) {
    throw new EbmError('KERNEL_NOT_FOUND', `No kernel named "${name}" is declared.`, {
      argument: 'name',
      value: name,
      fix: `declare it first with declareKernel('${name}', ...), or use one of: ${[...reg.keys()].join(', ')}.`,
    });
  }
  return e;
}

/**
 * Registers `impl` as the implementation of kernel `name` on tfjs backend `backend` (e.g. `'webgpu'`, `'wasm'`).
 * Throws `KERNEL_CONFLICT` when one is already registered, unless `override` is set.
 * @returns a function that removes this registration.
 */
export function registerKernelImpl<N extends KernelName>(
  name: N,
  backend: string,
  impl: KernelImpl<Inputs<N>, Output<N>>,
  { override = false }: { override?: boolean } = {},
): () => void {
  assertName(name);
  if (typeof backend !== 'string' || backend.length === 0) {
    throw new EbmError('INVALID_PARAM', 'backend must be a tfjs backend name.', {
      argument: 'backend',
      value: backend,
      fix: "pass a name such as 'cpu', 'wasm', 'webgl' or 'webgpu'.",
    });
  }
  if (typeof impl !== 'function') {
    throw new EbmError('INVALID_PARAM', 'impl must be a function.', {
      argument: 'impl',
      value: typeof impl,
      fix: 'pass (inputs) => output.',
    });
  }
  const e = entryFor(name, true);
  if (e.impls.has(backend) && !override) {
    throw new EbmError(
      'KERNEL_CONFLICT',
      `Kernel "${name}" already has an implementation for backend "${backend}".`,
      {
        argument: 'backend',
        value: backend,
        fix: 'pass { override: true } to replace it, or unregister the existing one first.',
      },
    );
  }
  const fn = impl as KernelImpl;
  e.impls.set(backend, fn);
  return () => {
    if (e.impls.get(backend) === fn) e.impls.delete(backend);
  };
}

/** Removes the implementation of `name` for `backend`; returns whether one was registered. */
export function unregisterKernelImpl(name: KernelName, backend: string): boolean {
  const e = registry().get(name);
  return e?.impls.delete(backend) ?? false;
}

/** The implementation registered for `name` on `backend` (default: the active backend), if any. */
export function getKernelImpl<N extends KernelName>(
  name: N,
  backend: string = tf.getBackend(),
): KernelImpl<Inputs<N>, Output<N>> | undefined {
  return registry().get(name)?.impls.get(backend) as KernelImpl<Inputs<N>, Output<N>> | undefined;
}

/** True when `name` can run on `backend`: a backend implementation or a composite fallback exists. */
export function hasKernel(name: KernelName, backend: string = tf.getBackend()): boolean {
  const e = registry().get(name);
  return e !== undefined && (e.impls.has(backend) || e.fallback !== null);
}

/** Which implementation {@link runKernel} would use: `'backend'`, `'fallback'`, or `'none'`. */
export function kernelSource(
  name: KernelName,
  backend: string = tf.getBackend(),
): 'backend' | 'fallback' | 'none' {
  const e = registry().get(name);
  if (e === undefined) return 'none';
  if (e.impls.has(backend)) return 'backend';
  return e.fallback !== null ? 'fallback' : 'none';
}

/**
 * Runs kernel `name`: the implementation registered for the active backend, else the composite fallback.
 * Throws `KERNEL_NOT_FOUND` for an undeclared name and `NOT_IMPLEMENTED` when neither exists.
 */
export function runKernel<N extends KernelName>(name: N, inputs: Inputs<N>): Output<N> {
  assertName(name);
  const e = entryFor(name, false);
  const impl = e.impls.get(tf.getBackend()) ?? e.fallback;
  if (impl === null) {
    throw new EbmError(
      'NOT_IMPLEMENTED',
      `Kernel "${name}" has no implementation for backend "${tf.getBackend()}".`,
      {
        argument: 'name',
        value: name,
        fix: 'check hasKernel(name) first, or register an implementation for this backend.',
      },
    );
  }
  return impl(inputs) as Output<N>;
}

/** Every declared kernel with the backends that implement it. */
export function listKernels(): KernelInfo[] {
  return [...registry().entries()].map(([name, e]) => ({
    name,
    description: e.description,
    hasFallback: e.fallback !== null,
    backends: [...e.impls.keys()],
  }));
}

// ---------------------------------------------------------------------------------------------------------
// Core kernels and their composite fallbacks.

/** Composite `langevinStep`: `x − h·grad + σ√(2h)·noise`. */
export function langevinStepComposite({
  x,
  grad,
  noise,
  stepSize,
  noiseScale,
}: LangevinStepInputs): tf.Tensor2D {
  return tf.tidy(() => {
    const drift = tf.sub(x, tf.mul(grad, stepSize));
    const amp = noiseScale * Math.sqrt(2 * stepSize);
    return (amp === 0 ? drift : tf.add(drift, tf.mul(noise, amp))) as tf.Tensor2D;
  });
}

/** `a · c`, skipping the multiply when c is the number 1. */
function times(a: tf.Tensor, c: number | tf.Tensor): tf.Tensor {
  return typeof c === 'number' && c === 1 ? a : tf.mul(a, c);
}

/** Composite `momentumKick`: `p − c·∇E` (c a number or a `[B, 1]` tensor). */
export function momentumKickComposite({ p, grad, stepSize }: MomentumKickInputs): tf.Tensor2D {
  return tf.tidy(() => tf.sub(p, times(grad, stepSize)) as tf.Tensor2D);
}

/** Composite `positionDrift`: `q + c·M⁻¹p` (the M⁻¹ multiply is skipped for unit mass). */
export function positionDriftComposite({ q, p, stepSize, invMass }: PositionDriftInputs): tf.Tensor2D {
  return tf.tidy(() => tf.add(q, times(times(p, invMass), stepSize)) as tf.Tensor2D);
}

/** Composite `gradientDescentStep`: `x − η·∇E`. */
export function gradientDescentStepComposite({ x, grad, stepSize }: GradientDescentStepInputs): tf.Tensor2D {
  return tf.tidy(() => tf.sub(x, tf.mul(grad, stepSize)) as tf.Tensor2D);
}

/** Composite `nesterovStep`: `v' = μ·v − η·∇E`, `x' = x + v'`. */
export function nesterovStepComposite({
  x,
  v,
  grad,
  stepSize,
  momentum,
}: NesterovStepInputs): NesterovStepOutput {
  const vNew = tf.tidy(() => tf.sub(tf.mul(v, momentum), tf.mul(grad, stepSize)) as tf.Tensor2D);
  return { x: tf.add(x, vNew) as tf.Tensor2D, v: vNew };
}

/**
 * Composite `leapfrogStep`: half kick with the given force (`momentumKick`), drift (`positionDrift`), new
 * force from the callback, half kick — so a backend that implements the two data kernels also speeds up
 * this deprecated kernel. If the callback throws, every intermediate tensor is released.
 * @deprecated Use the `momentumKick` and `positionDrift` kernels and compute ∇E between them.
 */
export function leapfrogStepComposite({
  q,
  p,
  grad,
  stepSize,
  invMass,
  gradient,
}: LeapfrogStepInputs): LeapfrogStepOutput {
  const eps = stepSize;
  const half = typeof eps === 'number' ? eps / 2 : tf.div(eps, 2);
  let pHalf: tf.Tensor2D | undefined;
  let qNew: tf.Tensor2D | undefined;
  try {
    pHalf = runKernel('momentumKick', { p, grad, stepSize: half });
    qNew = runKernel('positionDrift', { q, p: pHalf, stepSize: eps, invMass });
    const gNew = gradient(qNew);
    let pNew: tf.Tensor2D;
    try {
      pNew = runKernel('momentumKick', { p: pHalf, grad: gNew, stepSize: half });
    } catch (e) {
      gNew.dispose();
      throw e;
    }
    const out = { q: qNew, p: pNew, grad: gNew };
    qNew = undefined;
    return out;
  } finally {
    pHalf?.dispose();
    qNew?.dispose();
    if (typeof half !== 'number') half.dispose();
  }
}

/** Composite `metropolisAccept`: accept where `log u < log α` (u uniform per chain from `key`). */
export function metropolisAcceptComposite({
  logAcceptRatio,
  current,
  proposal,
  key,
}: MetropolisAcceptInputs): MetropolisAcceptOutput {
  if (current.length !== proposal.length) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      'metropolisAccept needs as many proposal tensors as current tensors.',
      {
        argument: 'proposal',
        value: [current.length, proposal.length],
        fix: 'pass matching lists, e.g. current [x, e] and proposal [xNew, eNew].',
      },
    );
  }
  const n = logAcceptRatio.shape[0];
  return tf.tidy(() => {
    const u = uniformTensor(key, [n]);
    const finite = tf.logicalNot(tf.logicalOr(tf.isNaN(logAcceptRatio), tf.isInf(logAcceptRatio)));
    const safeRatio = tf.where(finite, logAcceptRatio, tf.fill([n], -Infinity));
    const acceptMask = tf.less(tf.log(u), safeRatio);
    const selected = current.map((c, i) => {
      const prop = proposal[i]!;
      const mask =
        c.rank === 1 ? acceptMask : tf.reshape(acceptMask, [n, ...new Array<number>(c.rank - 1).fill(1)]);
      return tf.where(tf.broadcastTo(mask, c.shape), prop, c);
    });
    return { selected, accepted: tf.cast(acceptMask, 'float32') as tf.Tensor1D };
  });
}

/** Declares core's kernels; idempotent. Called when this module loads. */
function declareCoreKernels(): void {
  const reg = registry();
  const decls: [string, KernelDeclaration][] = [
    [
      'randomNormal',
      {
        description: 'standard-normal tensor of a shape from a Philox key (counter layout of @ebm/core rng)',
        fallback: ((i: RandomInputs) => normalTensor(i.key, i.shape)) as KernelImpl,
      },
    ],
    [
      'randomUniform',
      {
        description: 'uniform (0,1) tensor of a shape from a Philox key',
        fallback: ((i: RandomInputs) => uniformTensor(i.key, i.shape)) as KernelImpl,
      },
    ],
    ['langevinStep', { description: 'x − h·∇E + σ·√(2h)·ξ', fallback: langevinStepComposite as KernelImpl }],
    [
      'momentumKick',
      { description: 'p − c·∇E (leapfrog momentum kick)', fallback: momentumKickComposite as KernelImpl },
    ],
    [
      'positionDrift',
      { description: 'q + c·M⁻¹p (leapfrog position drift)', fallback: positionDriftComposite as KernelImpl },
    ],
    [
      'gradientDescentStep',
      { description: 'x − η·∇E', fallback: gradientDescentStepComposite as KernelImpl },
    ],
    [
      'nesterovStep',
      { description: "v' = μ·v − η·∇E(x + μ·v), x' = x + v'", fallback: nesterovStepComposite as KernelImpl },
    ],
    [
      'leapfrogStep',
      {
        description:
          'deprecated: one leapfrog step with a gradient callback (use momentumKick + positionDrift)',
        fallback: leapfrogStepComposite as KernelImpl,
      },
    ],
    [
      'metropolisAccept',
      {
        description: 'per-chain Metropolis–Hastings accept/select with non-finite ratios rejected',
        fallback: metropolisAcceptComposite as KernelImpl,
      },
    ],
  ];
  decls.push([
    'train.mlpContrastiveAdam',
    {
      description:
        'one Adam step on the contrastive-divergence loss of an MLP energy (parameter gradient by per-row back-propagation); no composite: fit() falls back to autograd',
      fallback: null,
    },
  ]);
  decls.push([
    'train.mlpGradientRegression',
    {
      description:
        'loss Σ c‖∇ₓV + u‖² of an MLP energy and its parameter gradient (forward-over-reverse per row); no composite: the loss falls back to autograd',
      fallback: null,
    },
  ]);
  decls.push([
    'train.mlpGradientRegressionAdam',
    {
      description:
        'one Adam step on the loss Σ c‖∇ₓV + u‖² of an MLP energy (Energy Matching flow phase); no composite: fit() falls back to autograd',
      fallback: null,
    },
  ]);
  for (const [name, d] of decls) {
    const existing = reg.get(name);
    reg.set(name, { description: d.description, fallback: d.fallback, impls: existing?.impls ?? new Map() });
  }
}
declareCoreKernels();

/**
 * Standard-normal tensor of `shape` for `key`, through the `randomNormal` kernel (fast on backends with a
 * registered implementation; the host Philox stream otherwise).
 */
export function randomNormal(key: RngKey, shape: readonly number[]): tf.Tensor {
  return runKernel('randomNormal', { key, shape });
}

/** Uniform (0,1) tensor of `shape` for `key`, through the `randomUniform` kernel. */
export function randomUniform(key: RngKey, shape: readonly number[]): tf.Tensor {
  return runKernel('randomUniform', { key, shape });
}
