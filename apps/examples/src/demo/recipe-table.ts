/**
 * The measured recipes: one per dataset × loss (`<dataset>/<loss>`), the defaults of `pnpm demo --dataset …
 * --loss …` and of the training examples. Each line's numbers come from `scripts/recipe-search.ts` (see the
 * note in `recipes.md`).
 */
import type { Recipe } from './recipes.js';

const pcdBase: Recipe = {
  loss: 'pcd',
  widths: [64, 64],
  steps: 600,
  batchSize: 128,
  learningRate: 2e-3,
  energyL2: 0.1,
  stepSize: 0.01,
  noiseScale: 1,
  k: 10,
  capacity: 8192,
  reinit: 0.05,
  sampleSteps: 300,
};

export const RECIPES = {
  'twoMoons/pcd': pcdBase,
  'eightGaussians/pcd': pcdBase,
  'checkerboard/pcd': pcdBase,
  'swissRoll/pcd': pcdBase,
} satisfies Record<string, Recipe>;
