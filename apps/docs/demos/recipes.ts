/**
 * The training playground's recipes: a standardised 2-D dataset (`@ebm/datasets`), an MLP energy
 * (`@ebm/models`), a loss (`@ebm/losses`: CD-k, persistent CD, denoising score matching) and Langevin
 * negatives (`@ebm/samplers`). Shared by the page and by the Node test that trains each recipe a few steps.
 */

import type { Loss } from '@ebm/core';
import { type DatasetName, makeDataset } from '@ebm/datasets';
import { ContrastiveDivergence, DenoisingScoreMatching, PersistentContrastiveDivergence } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';

/** Half-width of the view box (data are standardised). */
export const BOX = 3;

export const PLAYGROUND_DATASETS = {
  twoMoons: 'Two moons',
  eightGaussians: 'Eight Gaussians',
  swissRoll: 'Swiss roll',
  circle: 'Circle',
  pinwheel: 'Pinwheel',
  checkerboard: 'Checkerboard',
} satisfies Partial<Record<DatasetName, string>>;
export type PlaygroundDataset = keyof typeof PLAYGROUND_DATASETS;

export const LOSSES = {
  pcd: 'Persistent CD (replay buffer)',
  cd: 'Contrastive divergence (CD-k)',
  dsm: 'Denoising score matching (σ = 0.1)',
} as const;
export type LossName = keyof typeof LOSSES;

/** Standardised rows `[n, 2]` (zero mean, unit variance per axis) as a tensor. */
export function standardData(name: PlaygroundDataset, n: number, seed: number): tf.Tensor2D {
  const d = makeDataset(name, { nSamples: n, seed }).data;
  const m = [0, 0];
  const s = [0, 0];
  for (let i = 0; i < d.length; i++) m[i % 2]! += d[i]! / n;
  for (let i = 0; i < d.length; i++) s[i % 2]! += (d[i]! - m[i % 2]!) ** 2 / n;
  return tf.tensor2d(
    d.map((v, i) => (v - m[i % 2]!) / Math.sqrt(s[i % 2]!)),
    [n, 2],
  );
}

export interface Recipe {
  readonly energy: MLPEnergy;
  readonly loss: Loss & { dispose?(): void };
  /** Langevin sampler on the energy, also used to draw the samples shown on the page. */
  readonly sampler: LangevinDynamics;
}

/** Builds energy, sampler and loss; `k` Langevin steps per negative. */
export function makeRecipe(loss: LossName, k: number, seed: number): Recipe {
  const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], activation: 'silu', seed });
  const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1, clamp: [-BOX - 1, BOX + 1] });
  const l =
    loss === 'dsm'
      ? new DenoisingScoreMatching(energy, { sigma: 0.1, seed })
      : loss === 'cd'
        ? new ContrastiveDivergence(energy, { sampler, k, energyL2: 0.1, seed })
        : new PersistentContrastiveDivergence(energy, {
            sampler,
            k,
            energyL2: 0.1,
            buffer: { capacity: 4096, reinitProbability: 0.05, init: 'uniform', initScale: BOX },
            seed,
          });
  return { energy, loss: l, sampler };
}
