/**
 * `@ebm/losses`: training objectives for energy-based models on TensorFlow.js — contrastive divergence
 * (CD-k, persistent CD with a replay buffer, parallel-tempering CD), score matching (exact, sliced, denoising),
 * noise-contrastive estimation — and a training loop with checkpoints, resume and a divergence guard.
 * Every loss implements core's `Loss` and works inside `optimizer.minimize(() => loss.compute(x).loss)`.
 * @module
 */
export * from './base.js';
export * from './checkpoint.js';
export * from './checkpoint-file.js';
export * from './contrastive.js';
export * from './ema.js';
export * from './energy-matching.js';
export * from './equilibrium-matching.js';
export * from './fit-divergence.js';
export * from './flow-matching.js';
export { type SeedLike, stopGradient, variablesOf, withoutTape } from './internal.js';
export * from './metrics.js';
export * from './nce.js';
export * from './prepared-call.js';
export * from './replay-buffer.js';
export { disposeAllButSamples } from './sampling.js';
export * from './score-matching.js';
export type { FlowLossWeight, TimeSampler, TimeSamplingOptions } from './time-weighting.js';
export * from './train.js';
