import type * as tf from '@tensorflow/tfjs-core';
import type { ButcherTableau } from './tableaus.js';

/**
 * A time-dependent vector field f(x, t): positions `[B, D]` and times `[B]` (one per chain) → `[B, D]`.
 * The drift of an ODE ẋ = f(x, t) or of an SDE dx = f(x, t)dt + √(2D)dW. A drift may be called inside
 * `tf.tidy`; it must not dispose its inputs.
 */
export type Drift = (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D;

/** A time or step size: one number for every chain, or one per chain (`[B]`). */
export type TimeLike = number | tf.Tensor1D;

/** Options of one Runge–Kutta step. */
export interface RungeKuttaStepOptions {
  /** f(x, t) when already known (reused as the first stage; FSAL integrators return it as `kLast`). */
  readonly k0?: tf.Tensor2D;
  /** Fixed-point iterations of an implicit (DIRK) stage (default 8, TorchEBM's `solver_max_iter`). */
  readonly solverMaxIter?: number;
}

/** What one Runge–Kutta step returns (the caller owns every tensor). */
export interface RungeKuttaStepResult {
  /** x(t + h). */
  readonly x: tf.Tensor2D;
  /** Local error estimate h·Σ (bᵢ − b̂ᵢ)kᵢ (embedded pairs only). */
  readonly error?: tf.Tensor2D | undefined;
  /** f(x(t + h), t + h) for FSAL methods (reuse as the next `k0`). */
  readonly kLast?: tf.Tensor2D | undefined;
  /** Drift evaluations made. */
  readonly nfe: number;
}

/**
 * One step x(t) → x(t + h) of an ODE integrator. `h` may be negative (backward in time) or per chain.
 * A pure function: it does not mutate or dispose its inputs.
 */
export type RungeKuttaStepFn = (
  drift: Drift,
  x: tf.Tensor2D,
  t: TimeLike,
  h: TimeLike,
  options?: RungeKuttaStepOptions,
) => RungeKuttaStepResult;

/** An integrator of the Runge–Kutta family (ODEs; SDEs by adding noise at Euler order). */
export interface RungeKuttaIntegrator {
  readonly family: 'rungeKutta';
  /** Registry name, e.g. `'rk4'`, or `'custom'`. */
  readonly name: string;
  /** Order of the solution (undefined for a custom function). */
  readonly order: number | undefined;
  /** Has an embedded error estimate: can run with adaptive steps. */
  readonly adaptive: boolean;
  /** Drift evaluations per step (FSAL reuse counted: dopri5 → 6). */
  readonly nfePerStep: number;
  /** The tableau, for the built-in methods. */
  readonly tableau?: ButcherTableau | undefined;
  readonly step: RungeKuttaStepFn;
}

/** A Hamiltonian system for the symplectic integrators (positions x and momenta p, each `[B, D]`). */
export interface HamiltonianSystem {
  /**
   * Force −∂H/∂x. Separable systems (H = U(x) + ½pᵀM⁻¹p) depend on x only; generalised leapfrog passes p too.
   */
  readonly force: (x: tf.Tensor2D, p: tf.Tensor2D) => tf.Tensor2D;
  /**
   * Velocity ∂H/∂p. Default (separable systems): M⁻¹p with `invMass`.
   */
  readonly velocity?: (x: tf.Tensor2D, p: tf.Tensor2D) => tf.Tensor2D;
  /** Inverse mass M⁻¹: a number or a `[D]` tensor (default 1); used when `velocity` is absent. */
  readonly invMass?: number | tf.Tensor1D;
}

/** A phase-space point. */
export interface PhaseState {
  readonly x: tf.Tensor2D;
  readonly p: tf.Tensor2D;
}

/** Options of one symplectic step. */
export interface SymplecticStepOptions {
  /** Fixed-point iterations of the implicit half steps (generalised leapfrog; default 8). */
  readonly solverMaxIter?: number;
}

/** One symplectic step of size h (a pure function: inputs are not disposed). */
export type SymplecticStepFn = (
  state: PhaseState,
  system: HamiltonianSystem,
  h: number,
  options?: SymplecticStepOptions,
) => PhaseState & { readonly nfe: number };

/** An integrator of the symplectic family (Hamiltonian dynamics). */
export interface SymplecticIntegrator {
  readonly family: 'symplectic';
  readonly name: string;
  /** Order (2 for both leapfrogs). */
  readonly order: number | undefined;
  /** Needs a separable Hamiltonian (leapfrog) or handles non-separable ones (generalised leapfrog). */
  readonly separable: boolean;
  readonly step: SymplecticStepFn;
}

/** Any integrator of the family. */
export type Integrator = RungeKuttaIntegrator | SymplecticIntegrator;

/** The integrator families. */
export type IntegratorFamily = Integrator['family'];
