/**
 * `@ebm/samplers`: MCMC samplers for energy-based models on TensorFlow.js — Langevin dynamics (Euler–Maruyama,
 * Heun), MALA, HMC, NUTS, replica exchange, gradient descent and Nesterov — with dual-averaging step-size and
 * windowed diagonal mass-matrix adaptation. Every sampler implements `@ebm/core`'s `Sampler` contract and runs
 * its inner step through core's kernel registry.
 * @module
 */

export * from './adaptation.js';
export * from './flow.js';
export * from './gradient-descent.js';
export * from './hmc.js';
export * from './langevin.js';
export * from './mala.js';
export * from './mh-base.js';
export * from './nuts.js';
export * from './replica-exchange.js';
export { checkMetricShape, type FactoredMetric, factorMetric } from './riemannian-metric.js';
export * from './rmhmc.js';
export type { PointSet, TransitionResult, TransitionSettings } from './transitions.js';
export { hmcTransition, malaTransition } from './transitions.js';
export type { EmptyInfo, Mass, SamplerParams } from './util.js';
export type { FusedChainSpec, WorkerSampleOptions, WorkersOption } from './workers.js';
