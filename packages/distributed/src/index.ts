/**
 * `@ebm/distributed`: sampling runs and training sweeps beyond one process, on BullMQ + Redis. Chain batches
 * and training runs are plain-data jobs; workers (plain Node processes, `ebm-worker`) rebuild energies,
 * samplers and trainers from an application-provided registry, checkpoint as they go, and store results that
 * the client merges exactly (pooled moments, split-R̂, ESS) whatever the split.
 * @module
 */
export * from './backend.js';
export * from './chain-batch.js';
export * from './chain-offset.js';
export * from './client.js';
export * from './connection.js';
export * from './encode.js';
export * from './local.js';
export * from './registry.js';
export * from './specs.js';
export * from './summaries.js';
export * from './train.js';
export * from './validate.js';
export * from './worker.js';
