import { assertInteger, type EnergyFunction, type HMCChainSettings, type RngKey } from '@ebm/core';
import type * as tf from '@tensorflow/tfjs-core';
import { type MHInfo, type MHOptions, MHSampler, type MHState, massFromInverse } from './mh-base.js';
import { HMC_KEYS } from './option-keys.js';
import { hmcTransition, type TransitionResult } from './transitions.js';
import { parseOptions, type SamplerParams } from './util.js';

/** Options of {@link HamiltonianMonteCarlo}. */
export interface HMCOptions extends MHOptions {
  /** Leapfrog steps per MH step (default 10). */
  readonly nLeapfrogSteps?: number;
}

/**
 * Hamiltonian Monte Carlo (TorchEBM's `HamiltonianMonteCarlo`): momentum p ~ N(0, M) with scalar or
 * diagonal mass M, `nLeapfrogSteps` leapfrog steps of size ε through the `momentumKick` and `positionDrift`
 * data kernels with ∇E computed between them, reusing the force between steps (L gradient evaluations per MH
 * step instead of TorchEBM's 2L, since the state carries ∇E), then MH with α = min(1, exp(H(x,p) − H(x',p'))),
 * H = E + ½pᵀM⁻¹p. Non-finite proposals are rejected (no clamping). Step info `MHInfo`: `isAccepted`
 * (0/1 per chain) and `acceptanceRate` (min(1, α) per chain).
 *
 * @example
 * ```ts
 * const hmc = new HamiltonianMonteCarlo(energy, { stepSize: 0.1, nLeapfrogSteps: 10, mass: [1, 2] });
 * const r = hmc.sampleSync({ nSamples: 64, dim: 2, nSteps: 200, burnIn: 100 });
 * ```
 */
export class HamiltonianMonteCarlo extends MHSampler<MHInfo> {
  readonly nLeapfrogSteps: number;
  protected readonly method = 'hmc';

  constructor(energy: EnergyFunction, options?: HMCOptions) {
    const o = parseOptions('HamiltonianMonteCarlo', options, HMC_KEYS);
    super(energy, 'HamiltonianMonteCarlo', o, 1e-3);
    // At most 10⁵ leapfrog steps per transition: more is a typo (it would run for hours without allocating).
    this.nLeapfrogSteps = assertInteger('nLeapfrogSteps', o.nLeapfrogSteps ?? 10, 1, 100_000);
  }

  /** Same sampler with another step size and (optionally) inverse mass; an omitted `invMass` keeps this one's. */
  withParams(params: SamplerParams): HamiltonianMonteCarlo {
    return new HamiltonianMonteCarlo(this.energy, {
      stepSize: params.stepSize,
      mass: massFromInverse(params.invMass ?? this.invMass),
      nLeapfrogSteps: this.nLeapfrogSteps,
    });
  }

  protected transition(
    state: MHState,
    key: RngKey,
    stepSize: number,
    invMass: number | tf.Tensor,
  ): TransitionResult {
    return hmcTransition(this.energy, state, key, { stepSize, invMass, nLeapfrog: this.nLeapfrogSteps });
  }

  protected override chainSettings(): Pick<HMCChainSettings, 'nLeapfrogSteps'> {
    return { nLeapfrogSteps: this.nLeapfrogSteps };
  }
}
