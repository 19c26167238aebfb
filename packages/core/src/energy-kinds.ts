import type * as tf from '@tensorflow/tfjs-core';
import type { RngKey } from './rng.js';

/**
 * # Energy kinds and whole-chain kernel inputs
 *
 * An analytic energy names its family in `kernelHint: { kind, params }` so that a backend can run a whole
 * chain of a sampler in one kernel, registered as `chain.<kind>` (see `chainKernelName`). The kinds and the
 * type of their `params` are declared here, by declaration merging, so the energy that writes the params and
 * the backend kernel that reads them agree at compile time:
 * ```ts
 * declare module '@ebm/core' {
 *   interface EnergyKinds {
 *     doubleWell: { barrierHeight: number; b: number };
 *   }
 * }
 * ```
 * `@ebm/models` augments {@link EnergyKinds} for every analytic energy with a kernel hint; a backend plugin
 * that imports those types (a type-only import of `@ebm/models`) then gets `ChainKernelInputs<'doubleWell'>`
 * with typed `params`. Declare params with object *type literals* (not interfaces) so they stay assignable
 * to {@link KernelParams}.
 *
 * The samplers' settings per method are typed the same way in {@link ChainMethodSettings}.
 * @module
 */

/**
 * One value of a kernel hint's params: a number, a name, a vector, a matrix or a list of names (plain data,
 * never a function), or — for a trained network, e.g. the `mlp` kind — a tensor or a list of tensors (its variables) or of flat arrays.
 * A hint that holds tensors holds the *live* variables, not copies: a fused kernel reads them when it runs (see
 * {@link MLPKernelParams}), so the hint is always up to date while the network trains.
 */
export type KernelParamValue =
  | number
  | string
  | readonly number[]
  | readonly string[]
  | readonly (readonly number[])[]
  | tf.Tensor
  | readonly (tf.Tensor | readonly number[] | Float32Array)[];

/** Params of a kernel hint of a kind not declared in {@link EnergyKinds}. */
export type KernelParams = Readonly<Record<string, KernelParamValue>>;

/** Hidden activations of an MLP with a fused kernel (`@ebm/models`' `MLPEnergy`). */
export type MLPKernelActivation = 'silu' | 'swish' | 'elu' | 'leakyRelu' | 'tanh' | 'relu';

/**
 * Params of the `mlp` kernel hint (declared in {@link EnergyKinds} by `@ebm/models`, whose `MLPEnergy.kernelHint`
 * returns it): the network h₀ = x, hₗ = φₗ(hₗ₋₁·Kₗ + bₗ) (l = 1..L−1), E(x) = h_{L−1}·K_L + b_L. The one format
 * every backend's `chain.mlp` reads (core's cpu/wasm kernels, `@ebm/cuda`'s WGSL programs).
 *
 * `activation` is one activation φ for every hidden layer (`'silu'`) or one per hidden layer
 * (`['relu', 'silu', 'silu']`, length `sizes.length − 2`); an array whose entries are all equal is the same
 * network as the single name.
 *
 * `weights` are `[K₀, b₀, K₁, b₁, …]`, `Kₗ` of shape `[fanIn, fanOut]` (`h = x @ K + b`), either as tensors —
 * the energy's **live variables**: kernels read them each time they run, so during training (an optimizer
 * updating the variables in place) the fused chain always uses the current weights — or as flat row-major
 * arrays (a frozen copy). The kernels never differentiate through them: samples of a fused chain are constants
 * for an enclosing gradient.
 */
export type MLPKernelParams = {
  /** Layer sizes `[D, w₁, …, w_{L−1}, 1]` (input dimension, hidden widths, scalar output). */
  readonly sizes: readonly number[];
  /** Hidden activation φ of every hidden layer, or one per hidden layer (φ₁, …, φ_{L−1}). */
  readonly activation: MLPKernelActivation | readonly MLPKernelActivation[];
  /** Negative slope of `'leakyRelu'` (ignored otherwise). */
  readonly leakySlope: number;
  /** `[K₀, b₀, K₁, b₁, …]`: live tensors (variables) or flat row-major arrays. */
  readonly weights: readonly (tf.Tensor | readonly number[] | Float32Array)[];
};

/**
 * Energy kinds with a fused-kernel hint, mapped to the type of their `params`. Empty in core; augmented by
 * `@ebm/models` (and by any package that defines energies with hints) through declaration merging.
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by declaration merging.
export interface EnergyKinds {}

/** A declared energy kind, or any other string (kinds of plugins that do not augment {@link EnergyKinds}). */
export type EnergyKind = keyof EnergyKinds | (string & {});

/** The params type of kind `K`: its {@link EnergyKinds} entry, or {@link KernelParams} for undeclared kinds. */
export type EnergyKindParams<K extends string> = K extends keyof EnergyKinds
  ? Readonly<EnergyKinds[K]>
  : KernelParams;

/**
 * Names a fused kernel for an energy, so a backend can run a whole chain in one kernel (registry name
 * `chain.<kind>`, see `chainKernelName`). `params` are the plain numbers/arrays the kernel needs or, for a
 * network (the `mlp` kind), its live variables, which the kernel reads each time it runs.
 * `KernelHint<'doubleWell'>` is `{ kind: 'doubleWell'; params: EnergyKinds['doubleWell'] }`; the default
 * `KernelHint` accepts any kind.
 */
export type KernelHint<K extends string = string> = K extends string
  ? {
      /** Energy family, e.g. `'doubleWell'`, `'gaussian'`. */
      readonly kind: K;
      /** The family's parameters: plain data, or a network's live variables (see {@link MLPKernelParams}). */
      readonly params: EnergyKindParams<K>;
    }
  : never;

/** Settings of the Langevin whole-chain update `x ← x − h·∇E(x) + σ·√(2h)·ξ`. */
export type LangevinChainSettings = {
  /** Step size h > 0. */
  readonly stepSize: number;
  /** Noise scale σ ≥ 0. */
  readonly noiseScale: number;
};

/** Settings of the MALA whole-chain update (scalar mass only). */
export type MALAChainSettings = {
  /** Step size h > 0. */
  readonly stepSize: number;
  /** Scalar inverse mass 1/m > 0. */
  readonly invMass: number;
};

/** Settings of the HMC whole-chain update (scalar mass only). */
export type HMCChainSettings = {
  /** Leapfrog step size ε > 0. */
  readonly stepSize: number;
  /** Scalar inverse mass 1/m > 0. */
  readonly invMass: number;
  /** Leapfrog steps per MH step. */
  readonly nLeapfrogSteps: number;
};

/** Settings of the NUTS whole-chain update (scalar mass only). */
export type NUTSChainSettings = {
  /** Leapfrog step size ε > 0. */
  readonly stepSize: number;
  /** Scalar inverse mass 1/m > 0. */
  readonly invMass: number;
  /** Maximum tree depth. */
  readonly maxTreeDepth: number;
};

/**
 * Sampler methods that may run as a whole chain, mapped to their settings. Augment it (declaration merging)
 * for a plugin sampler's own method; use object type literals of numbers.
 */
export interface ChainMethodSettings {
  langevin: LangevinChainSettings;
  mala: MALAChainSettings;
  hmc: HMCChainSettings;
  nuts: NUTSChainSettings;
}

/** A sampler method name of {@link ChainMethodSettings}. */
export type ChainMethod = keyof ChainMethodSettings;

/**
 * Inputs of the whole-chain kernel `chain.<K>`: a union over methods, discriminated by `method`, so
 * `if (method === 'langevin')` narrows `settings` to {@link LangevinChainSettings}.
 */
export type ChainKernelInputs<K extends string = EnergyKind, M extends ChainMethod = ChainMethod> = {
  readonly [m in M]: {
    /** Which sampler's update the chain runs, e.g. `'langevin'`. */
    readonly method: m;
    /** Initial states `[B, D]`. */
    readonly x0: tf.Tensor2D;
    /** Number of steps to run. */
    readonly nSteps: number;
    /**
     * Key of the run (the sampler's run key, from `seed`). Together with {@link startStep} it fixes the stream:
     * see there.
     */
    readonly key: RngKey;
    /**
     * The step index of `x0` (a sampler passes `state.step`; default 0). The chain runs steps
     * t = startStep + 1 … startStep + nSteps, and step t (the one that makes the state with step index t) draws
     * from `foldIn(key, t − 1)` — for MALA/HMC split with `splitKey(·, 2)` into [proposal, accept] — exactly the
     * key the step loop (`sampleChain`) gives that step, `foldIn(runKey, state.step)`. So a whole chain from a
     * state at step s with the run key draws the same numbers as `nSteps` steps of the loop from that state.
     */
    readonly startStep?: number;
    /** The energy's `kernelHint.params`. */
    readonly params: EnergyKindParams<K>;
    /** The sampler's settings for `method`. */
    readonly settings: ChainMethodSettings[m];
    /**
     * Langevin only, optional: the noise scale of every step of the call, σ_t for t = 0 … nSteps − 1 (length
     * `nSteps`, each finite and ≥ 0), replacing `settings.noiseScale`: step t updates
     * x ← x − h·∇E(x) + σ_t·√(2h)·ξ_t (a tempered chain, e.g. `TemperatureScheduler` values at
     * startStep + t). Kernels that do not run per-step scales throw `NOT_IMPLEMENTED` (callers then use their
     * step loop); other methods ignore nothing: they reject it the same way.
     */
    readonly noiseScales?: Float32Array | undefined;
  };
}[M];

/**
 * Inputs of `chain.<K>` for a run that draws its own initial states (a sampler's `sample({ nSamples, dim })`):
 * {@link ChainKernelInputs} with `x0` replaced by `x0Normal` — x0 is N(0, I) of `x0Normal.shape`, exactly the
 * stream of `randomNormal(x0Normal.key, x0Normal.shape)` — and `startStep` 0. A kernel that can draws x0 in
 * its own first dispatch (one dispatch for the whole `sample()` call). Samplers pass these inputs only to a
 * kernel function that declares `drawsX0: true` (a property of the registered function); any other kernel gets
 * a drawn `x0` as before.
 */
export type ChainFromNormalInputs<K extends string = EnergyKind, M extends ChainMethod = ChainMethod> =
  ChainKernelInputs<K, M> extends infer T
    ? T extends unknown
      ? Omit<T, 'x0'> & {
          /** Key and shape `[B, D]` of the initial draw (see above). */
          readonly x0Normal: { readonly key: RngKey; readonly shape: readonly [number, number] };
        }
      : never
    : never;

/**
 * What the traced whole-chain kernel `chainTrace.<kind>` records besides running the chain (see
 * {@link ChainTraceKernelInputs}). Steps of the call are numbered i = 1 … nSteps; step i is *kept* when
 * i > burnIn and (i − burnIn) mod thin = 0, so ⌊(nSteps − burnIn) / thin⌋ steps are kept — the step loop's rule.
 */
export type ChainTraceRequest = {
  /** Steps at the start that are not kept (default 0). */
  readonly burnIn?: number;
  /** Keep every `thin`-th step after burn-in (default 1). */
  readonly thin?: number;
  /** Per kept step statistics over chains (default true): see {@link ChainTraceKernelOutput}. */
  readonly diagnostics?: boolean;
  /** The kept positions `[B, nKept, D]` (default false). */
  readonly trajectory?: boolean;
};

/** Inputs of the traced whole-chain kernel `chainTrace.<K>`: {@link ChainKernelInputs} and a {@link ChainTraceRequest}. */
export type ChainTraceKernelInputs<
  K extends string = EnergyKind,
  M extends ChainMethod = ChainMethod,
> = ChainKernelInputs<K, M> & ChainTraceRequest;

/**
 * Output of `chainTrace.<kind>` (every tensor new; the caller owns them). Statistics are over the B chains at each
 * kept step, in kept order.
 */
export interface ChainTraceKernelOutput {
  /** Final states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** Number of kept steps. */
  readonly nKept: number;
  /** Chain mean of x `[nKept, D]` (with `diagnostics`). */
  readonly mean?: tf.Tensor2D;
  /** Biased variance of x over chains, clipped to [1e-10, 1e10] `[nKept, D]` (with `diagnostics`). */
  readonly var?: tf.Tensor2D;
  /** Chain mean of E(x) `[nKept]` (with `diagnostics`). */
  readonly energy?: tf.Tensor1D;
  /**
   * MALA/HMC: the fraction of chains whose proposal was accepted (chain mean of the 0/1 decision) `[nKept]` —
   * what the samplers' step info calls `isAccepted`.
   */
  readonly acceptanceRate?: tf.Tensor1D;
  /** MALA/HMC: chain mean of min(1, α) (0 for non-finite proposals) `[nKept]` — the step info's `acceptanceRate`. */
  readonly acceptProb?: tf.Tensor1D;
  /** Kept positions `[B, nKept, D]` (with `trajectory`). */
  readonly trajectory?: tf.Tensor3D;
}

/** The registry name of the whole-chain kernel of kind `K`: `chain.${K}` (plain `string` for a non-literal kind). */
export type ChainKernelName<K extends string> = string extends K ? string : `chain.${K}`;

/** The registry name of the traced whole-chain kernel of kind `K`: `chainTrace.${K}`. */
export type ChainTraceKernelName<K extends string> = string extends K ? string : `chainTrace.${K}`;
