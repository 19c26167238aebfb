/**
 * The energy kinds of `@ebm/models` with their kernel-hint params, declared in `@ebm/core`'s `EnergyKinds`
 * (declaration merging), so `kernelHint` of each analytic energy and the inputs of a backend's
 * `chain.<kind>` kernel are typed end to end: `ChainKernelInputs<'doubleWell'>['params']` is
 * {@link DoubleWellParams}. A backend plugin gets these types with a type-only import of `@ebm/models`.
 *
 * The names and values here are a contract with the backend kernels (e.g. `@ebm/cuda`'s WGSL reads
 * `barrierHeight` and `b` of `doubleWell`, `k` of `harmonic`): change them only together.
 * @module
 */

import type { MLPKernelParams } from '@ebm/core';

/** `doubleWell`: E = h·Σᵢ(xᵢ² − b²)². */
export type DoubleWellParams = {
  /** Barrier height h > 0. */
  readonly barrierHeight: number;
  /** Well position b > 0 (minima at ±b). */
  readonly b: number;
};

/** `harmonic`: E = ½k·‖x‖². */
export type HarmonicParams = {
  /** Spring constant k > 0. */
  readonly k: number;
};

/** `rosenbrock`: E = Σᵢ [(a − xᵢ)² + b·(xᵢ₊₁ − xᵢ²)²]. */
export type RosenbrockParams = { readonly a: number; readonly b: number };

/** `ackley`: the Ackley function with constants a, b, c. */
export type AckleyParams = { readonly a: number; readonly b: number; readonly c: number };

/** `rastrigin`: E = a·D + Σᵢ [xᵢ² − a·cos(2πxᵢ)]. */
export type RastriginParams = { readonly a: number };

/** `gaussian`: E = ½(x − μ)ᵀP(x − μ). */
export type GaussianParams = {
  /** Mean μ `[D]`. */
  readonly mean: readonly number[];
  /** Precision P = Σ⁻¹, `D` rows of `D`. */
  readonly precision: readonly (readonly number[])[];
};

/** `gaussianMixture`: E = −log Σₖ wₖ·N(x; μₖ, Σₖ). */
export type GaussianMixtureParams = {
  /** log wₖ `[K]`. */
  readonly logWeights: readonly number[];
  /** Means μₖ, `K` rows of `D`. */
  readonly means: readonly (readonly number[])[];
  /** Precisions Pₖ stacked: `K·D` rows of `D` (rows k·D … (k+1)·D − 1 are Pₖ). */
  readonly precisions: readonly (readonly number[])[];
  /** log det Σₖ `[K]`. */
  readonly logDets: readonly number[];
};

/** `funnel`: Neal's funnel with scale of v. */
export type FunnelParams = { readonly scale: number };

/** `banana`: the twisted Gaussian with curvature and scale. */
export type BananaParams = { readonly curvature: number; readonly scale: number };

/** `manyWell`: no params. */
export type ManyWellParams = Record<string, never>;

declare module '@ebm/core' {
  interface EnergyKinds {
    doubleWell: DoubleWellParams;
    harmonic: HarmonicParams;
    rosenbrock: RosenbrockParams;
    ackley: AckleyParams;
    rastrigin: RastriginParams;
    gaussian: GaussianParams;
    gaussianMixture: GaussianMixtureParams;
    funnel: FunnelParams;
    banana: BananaParams;
    manyWell: ManyWellParams;
    /**
     * `mlp`: `MLPEnergy`'s network (core's {@link MLPKernelParams}: sizes, activation, leakySlope and the live
     * weight variables `[K₀, b₀, …]`, read by the kernels each time they run).
     */
    mlp: MLPKernelParams;
  }
}
