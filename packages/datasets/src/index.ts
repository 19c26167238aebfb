/**
 * `@ebm/datasets`: seeded synthetic 2-D datasets for energy-based models — TorchEBM's eight generators
 * (gaussian mixture, eight gaussians, two moons, swiss roll, circle, checkerboard, pinwheel, grid) plus two
 * spirals and concentric rings, with a shuffled mini-batch iterator. Depends only on `@ebm/core`.
 * @module
 */
export { type BatchOptions, PointDataset, permutation, type Seed } from './dataset.js';
export * from './generators.js';
