/**
 * The sampler gallery's menu: the analytic targets (from `@ebm/models`) and the samplers (from
 * `@ebm/samplers`), each with a view box and a default step size. Shared by the page and by the Node test that
 * runs every pair for a few steps.
 */
import type { EnergyFunction, Sampler } from '@ebm/core';
import { Banana, DoubleWell, Funnel, Gaussian, GaussianMixture, Rosenbrock } from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA, NUTS, ReplicaExchange } from '@ebm/samplers';

export interface Target {
  readonly label: string;
  /** Square view box [lo, hi] on both axes. */
  readonly box: readonly [number, number];
  make(): EnergyFunction & { dispose(): void };
}

export const TARGETS = {
  gaussian: {
    label: 'Correlated Gaussian (ρ = 0.9)',
    box: [-3.5, 3.5],
    make: () =>
      new Gaussian({
        mean: [0, 0],
        covariance: [
          [1, 0.9],
          [0.9, 1],
        ],
      }),
  },
  doubleWell: {
    label: 'Double well (h = 2, b = 1)',
    box: [-2.2, 2.2],
    make: () => new DoubleWell({ barrierHeight: 2, b: 1, dim: 2 }),
  },
  mixture: {
    label: 'Mixture of four Gaussians',
    box: [-4, 4],
    make: () =>
      new GaussianMixture({
        means: [
          [-2, -2],
          [-2, 2],
          [2, -2],
          [2, 2],
        ],
        std: 0.5,
      }),
  },
  banana: {
    label: 'Banana',
    box: [-4, 4],
    make: () => new Banana({ dim: 2 }),
  },
  funnel: {
    label: "Neal's funnel",
    box: [-6, 6],
    make: () => new Funnel({ dim: 2 }),
  },
  rosenbrock: {
    label: 'Rosenbrock (a = 1, b = 5)',
    box: [-2.5, 3.5],
    make: () => new Rosenbrock({ a: 1, b: 5, dim: 2 }),
  },
} satisfies Record<string, Target>;

export type TargetName = keyof typeof TARGETS;

export interface SamplerSpec {
  readonly label: string;
  readonly defaultStep: number;
  make(energy: EnergyFunction, stepSize: number): Sampler;
}

export const SAMPLERS = {
  langevin: {
    label: 'Langevin (ULA)',
    defaultStep: 0.02,
    make: (e, h) => new LangevinDynamics(e, { stepSize: h, noiseScale: 1 }),
  },
  mala: { label: 'MALA', defaultStep: 0.1, make: (e, h) => new MALA(e, { stepSize: h }) },
  hmc: {
    label: 'HMC (L = 10)',
    defaultStep: 0.1,
    make: (e, h) => new HamiltonianMonteCarlo(e, { stepSize: h, nLeapfrogSteps: 10 }),
  },
  nuts: { label: 'NUTS', defaultStep: 0.2, make: (e, h) => new NUTS(e, { stepSize: h, maxTreeDepth: 6 }) },
  replica: {
    label: 'Replica exchange (HMC, 4 temperatures)',
    defaultStep: 0.1,
    make: (e, h) =>
      new ReplicaExchange(e, { temperatures: [1, 2, 4, 8], kernel: 'hmc', stepSize: h, nLeapfrogSteps: 5 }),
  },
} satisfies Record<string, SamplerSpec>;

export type SamplerName = keyof typeof SAMPLERS;
