import type { EnergyFunction, RngKey } from '@ebm/core';
import type * as tf from '@tensorflow/tfjs-core';
import { type MHInfo, type MHOptions, MHSampler, type MHState, massFromInverse } from './mh-base.js';
import { malaTransition, type TransitionResult } from './transitions.js';
import { parseOptions, type SamplerParams } from './util.js';

/** Options of {@link MALA}. */
export interface MALAOptions extends MHOptions {}

/**
 * Metropolis-adjusted Langevin algorithm: propose y = x − h·M⁻¹∇E(x) + √(2h)·M^{−1/2}ξ (a `langevinStep`
 * kernel call), accept with the MH ratio exp(−E(y) + E(x))·q(x|y)/q(y|x), q(y|x) = N(y; x − hM⁻¹∇E(x), 2hM⁻¹)
 * (`metropolisAccept` kernel; non-finite proposals are rejected). Targets exactly ∝ exp(−E).
 * Step info `MHInfo`: `isAccepted` (0/1 per chain) and `acceptanceRate` (min(1, α) per chain).
 * Default step size 0.01 and unit mass; `mass` is a diagonal preconditioner.
 *
 * @example
 * ```ts
 * const mala = new MALA(energy, { stepSize: 0.1 });
 * const r = await mala.sample({ nSamples: 32, dim: 2, nSteps: 1000, diagnostics: true });
 * // r.diagnostics.acceptanceRate: [nKept] chain mean of min(1, α) per kept step
 * // r.diagnostics.isAccepted: [nKept] fraction of chains that accepted per kept step
 * ```
 */
export class MALA extends MHSampler<MHInfo> {
  protected readonly method = 'mala';

  constructor(energy: EnergyFunction, options?: MALAOptions) {
    super(energy, 'MALA', parseOptions('MALA', options), 0.01);
  }

  /** Same sampler with another step size and (optionally) inverse mass; an omitted `invMass` keeps this one's. */
  withParams(params: SamplerParams): MALA {
    return new MALA(this.energy, {
      stepSize: params.stepSize,
      mass: massFromInverse(params.invMass ?? this.invMass),
    });
  }

  protected transition(
    state: MHState,
    key: RngKey,
    stepSize: number,
    invMass: number | tf.Tensor,
  ): TransitionResult {
    return malaTransition(this.energy, state, key, { stepSize, invMass });
  }
}
