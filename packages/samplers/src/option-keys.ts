import { optionKeys } from '@ebm/core';
import type { DualAveragingOptions, WindowAdaptationOptions } from './adaptation.js';
import type { GradientDescentOptions, NesterovOptions } from './gradient-descent.js';
import type { HMCOptions } from './hmc.js';
import type { LangevinOptions } from './langevin.js';
import type { MALAOptions } from './mala.js';
import type { NUTSOptions } from './nuts.js';
import type { ReplicaExchangeOptions } from './replica-exchange.js';
import type { WorkerSampleOptions } from './workers.js';

/**
 * The option names of every sampler, as runtime lists for `assertKnownOptions` (each checked complete against
 * its options type at compile time by core's `optionKeys`).
 * @module
 */

export const LANGEVIN_KEYS = optionKeys<LangevinOptions>({
  stepSize: true,
  noiseScale: true,
  clamp: true,
  integrator: true,
  mass: true,
});
export const MALA_KEYS = optionKeys<MALAOptions>({ stepSize: true, mass: true });
export const HMC_KEYS = optionKeys<HMCOptions>({ stepSize: true, mass: true, nLeapfrogSteps: true });
export const NUTS_KEYS = optionKeys<NUTSOptions>({
  stepSize: true,
  mass: true,
  maxTreeDepth: true,
  maxDeltaH: true,
});
export const GD_KEYS = optionKeys<GradientDescentOptions>({ stepSize: true });
export const NESTEROV_KEYS = optionKeys<NesterovOptions>({ stepSize: true, momentum: true });
export const REPLICA_KEYS = optionKeys<ReplicaExchangeOptions>({
  temperatures: true,
  kernel: true,
  stepSize: true,
  scaleStepSize: true,
  nLeapfrogSteps: true,
  mass: true,
});
export const WINDOW_ADAPTATION_KEYS = optionKeys<WindowAdaptationOptions>({
  targetAcceptance: true,
  gamma: true,
  t0: true,
  kappa: true,
  x0: true,
  nSamples: true,
  dim: true,
  nWarmup: true,
  adaptMass: true,
  seed: true,
});
export const DUAL_AVERAGING_KEYS = optionKeys<DualAveragingOptions>({
  targetAcceptance: true,
  gamma: true,
  t0: true,
  kappa: true,
});

/** Run options of Langevin, MALA and HMC besides core's `SampleOptions` (accepted by `sample()`/`sampleSync()`). */
export const SAMPLE_WORKER_KEYS = optionKeys<Pick<WorkerSampleOptions, 'workers'>>({ workers: true });
