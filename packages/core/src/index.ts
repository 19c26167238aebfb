/**
 * `@ebm/core`: interfaces, base classes, kernel registry, schedulers, counter-based RNG, diagnostics and
 * errors for energy-based models on TensorFlow.js. Importing it registers tfjs-core's gradients and chained
 * ops and the cpu backend (see `@ebm/core/register`).
 * @module
 */
import './register.js';
// Types of the chained ops (x.add(y), ...) that register.js installs at run time.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';

export * from './backend.js';
export * from './couplings/index.js';
export * from './cpu/index.js';
export * from './diagnostics.js';
export * from './energy.js';
export type * from './energy-kinds.js';
export * from './errors.js';
export * from './finite-kernel.js';
export * from './host-read.js';
export * from './integrators/index.js';
export * from './interpolants/index.js';
export * from './kernels.js';
export * from './loop.js';
export type * from './loss.js';
export * from './options.js';
export * from './replay-kernels.js';
export * from './rng.js';
export * from './sample-quality.js';
export * from './sampler.js';
export * from './schedulers.js';
export { deserializeState, serializeState } from './state.js';
export * from './train-gradient-regression.js';
export * from './train-kernels.js';
export * from './validation.js';

import { registerCpuKernels } from './cpu/kernels.js';

// Core's fused CPU kernels for the cpu and wasm backends (see ./cpu/kernels.ts).
registerCpuKernels();
