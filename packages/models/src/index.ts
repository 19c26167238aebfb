/**
 * `@ebm/models`: analytic energies with analytic gradients and known ground truth (Gaussian, double well,
 * harmonic, Rosenbrock, Ackley, Rastrigin, Gaussian mixture, banana, Neal's funnel, ManyWell) and neural
 * energies built on tfjs-core variables.
 * @module
 */
export { AnalyticEnergy } from './analytic/base.js';
export {
  Banana,
  type BananaOptions,
  Funnel,
  type FunnelOptions,
  ManyWell,
  type ManyWellOptions,
} from './analytic/benchmarks.js';
export { Gaussian, type GaussianOptions, type MatrixLike, type VectorLike } from './analytic/gaussian.js';
export type {
  AckleyParams,
  BananaParams,
  DoubleWellParams,
  FunnelParams,
  GaussianMixtureParams,
  GaussianParams,
  HarmonicParams,
  ManyWellParams,
  RastriginParams,
  RosenbrockParams,
} from './analytic/kinds.js';
export { GaussianMixture, type GaussianMixtureOptions } from './analytic/mixture.js';
export {
  Ackley,
  type AckleyOptions,
  DoubleWell,
  type DoubleWellOptions,
  Harmonic,
  type HarmonicOptions,
  Rastrigin,
  type RastriginOptions,
  Rosenbrock,
  type RosenbrockOptions,
} from './analytic/simple.js';
export { activations } from './neural/activations.js';
export {
  ACTIVATIONS,
  type Activation,
  NeuralEnergy,
  type SpectralNormOptions,
} from './neural/base.js';
export { ConvEnergy, type ConvEnergyConfig, type ConvEnergyOptions } from './neural/conv.js';
export { energyFromFunction, type FunctionEnergyOptions } from './neural/function.js';
export { MLPEnergy, type MLPEnergyConfig, type MLPEnergyOptions } from './neural/mlp.js';
export { restoreEnergy } from './neural/restore.js';
export {
  artifactFromJSON,
  artifactToJSON,
  base64ToBytes,
  bytesToBase64,
  type WeightSpec,
  type WeightsArtifact,
  type WeightsJSON,
  type WeightsManifest,
} from './neural/serialize.js';
export {
  sinusoidalEmbedding,
  TimeConditionedMLP,
  type TimeConditionedMLPOptions,
} from './neural/time-conditioned-mlp.js';
export {
  assertLayoutSize,
  convLayout,
  mlpLayout,
  type ParameterLayout,
  validateArtifact,
} from './neural/validate.js';
export { EqMEnergy, type EqMEnergyOptions, type EqMEnergyType } from './wrappers/eqm-energy.js';
export { InteractionModel, type InteractionModelOptions } from './wrappers/interaction.js';
