/**
 * Interpolants between noise and data (linear, cosine, variance-preserving) with their drift, diffusion forms
 * and the velocity ↔ score ↔ noise converters, shared by flow-matching losses and the flow sampler.
 * @module
 */

export * from './field.js';
export * from './interpolant.js';
