/**
 * The curriculum: every example's name, tier, title and one-line summary, in reading order, with a loader.
 * Each example lives in `src/examples/<name>.ts` and exports `run({ smoke, outDir, seed })`.
 */
import type { ExampleOptions } from './_shared.js';

/** One entry of the curriculum. */
export interface ExampleEntry {
  readonly name: string;
  readonly tier: 'foundations' | 'sampling' | 'training' | 'practice';
  readonly title: string;
  readonly summary: string;
  readonly load: () => Promise<{
    run: (o: ExampleOptions) => Promise<Record<string, unknown> & { files: string[] }>;
  }>;
}

/** Every example, in reading order. */
export const EXAMPLES: readonly ExampleEntry[] = [
  {
    name: 'energy-landscapes',
    tier: 'foundations',
    title: 'Energy landscapes',
    summary:
      'Gaussian, double well, Rosenbrock and a mixture on a grid: E range, mean force, gradient check.',
    load: () => import('./energy-landscapes.js'),
  },
  {
    name: 'custom-energy',
    tier: 'foundations',
    title: 'Custom energies',
    summary:
      'A ring energy from a tfjs function (autograd gradient) and an MLP energy; Langevin on the ring.',
    load: () => import('./custom-energy.js'),
  },
  {
    name: 'dataset-gallery',
    tier: 'foundations',
    title: 'Dataset gallery',
    summary: 'Every 2-D dataset at N = 2048, seed 0: shape, mean, std, extent.',
    load: () => import('./dataset-gallery.js'),
  },
  {
    name: 'scheduler-anatomy',
    tier: 'foundations',
    title: 'Scheduler anatomy',
    summary: 'Linear, cosine and exponential schedules; Langevin with a cosine step 0.05 → 0.005.',
    load: () => import('./scheduler-anatomy.js'),
  },
  {
    name: 'interpolant-anatomy',
    tier: 'foundations',
    title: 'Interpolant anatomy',
    summary: 'α(t), σ(t) and the drift variance of the linear, cosine and variance-preserving paths.',
    load: () => import('./interpolant-anatomy.js'),
  },
  {
    name: 'langevin-101',
    tier: 'sampling',
    title: 'Langevin dynamics 101',
    summary:
      'Correlated Gaussian (ρ = 0.8), h = 0.02, 2000 chains: the covariance, and ULA’s predicted bias.',
    load: () => import('./langevin-101.js'),
  },
  {
    name: 'hmc-101',
    tier: 'sampling',
    title: 'HMC 101',
    summary: 'Gaussian with ρ = 0.95, ε = 0.1, L ∈ {2, 10, 50}: acceptance and recovered covariance.',
    load: () => import('./hmc-101.js'),
  },
  {
    name: 'parallel-chains',
    tier: 'sampling',
    title: 'Parallel chains',
    summary: '10,000 Langevin chains on the double well: basin occupancy near 50/50.',
    load: () => import('./parallel-chains.js'),
  },
  {
    name: 'integrator-comparison',
    tier: 'sampling',
    title: 'Integrator comparison',
    summary: 'Euler–Maruyama vs Heun: order 1 vs 2 on the gradient flow, and their stationary variances.',
    load: () => import('./integrator-comparison.js'),
  },
  {
    name: 'mala-vs-ula',
    tier: 'sampling',
    title: 'MALA vs ULA',
    summary: 'The same large step on N(0, I): ULA’s variance is 1/(1 − h/2), MALA’s is exactly 1.',
    load: () => import('./mala-vs-ula.js'),
  },
  {
    name: 'nuts',
    tier: 'sampling',
    title: 'NUTS',
    summary: 'The No-U-Turn sampler on ρ = 0.95: tree depth, covariance, ESS per gradient vs HMC.',
    load: () => import('./nuts.js'),
  },
  {
    name: 'replica-exchange',
    tier: 'sampling',
    title: 'Replica exchange',
    summary: 'Parallel tempering recovers 0.3/0.7 mixture weights that plain HMC never finds.',
    load: () => import('./replica-exchange.js'),
  },
  {
    name: 'diagnostics',
    tier: 'sampling',
    title: 'Diagnostics (R̂, ESS)',
    summary: 'Split-R̂ and bulk/tail ESS of good, stuck and slow chains.',
    load: () => import('./diagnostics.js'),
  },
  {
    name: 'flow-sampler-ode',
    tier: 'sampling',
    title: 'FlowSampler ODE 101 and integrators',
    summary:
      'Closed-form velocity N(0, I) → N(μ, Σ); Euler, Heun, RK4 and Dormand–Prince: error against NFE.',
    load: () => import('./flow-sampler-ode.js'),
  },
  {
    name: 'rmhmc-funnel',
    tier: 'sampling',
    title: 'Riemannian HMC on the funnel',
    summary: "RMHMC with the funnel's Fisher metric reaches the neck that HMC misses: v-marginal vs truth.",
    load: () => import('./rmhmc-funnel.js'),
  },
  {
    name: 'cd-two-moons',
    tier: 'training',
    title: 'CD-k on two moons',
    summary:
      'The measured two-moons CD-10 recipe (Langevin negatives from the data, h = 3e-3, λ = 0.1): the issue-17 score.',
    load: () => import('./cd-two-moons.js'),
  },
  {
    name: 'persistent-cd',
    tier: 'training',
    title: 'Persistent CD',
    summary:
      'The measured two-moons PCD recipe, the demo’s default (replay buffer, PCD-5, h = 3e-3, λ = 0.1): E(neg) − E(data) and the issue-17 score.',
    load: () => import('./persistent-cd.js'),
  },
  {
    name: 'denoising-score-matching',
    tier: 'training',
    title: 'Denoising score matching',
    summary:
      'The measured two-moons DSM recipe (σ = 0.15, correct sign, 4000 updates), then Langevin sampling: the issue-17 score.',
    load: () => import('./denoising-score-matching.js'),
  },
  {
    name: 'torchebm-recipe',
    tier: 'training',
    title: 'TorchEBM’s documented recipe, and why it diverges',
    summary:
      'CD-10, Langevin h = 0.1, noise 1, λ = 0.001 on raw two moons: loss → −1/(2λ), samples thrown off, every number finite; fit’s runaway guard fires on the energy gap.',
    load: () => import('./torchebm-recipe.js'),
  },
  {
    name: 'flow-matching-2d',
    tier: 'training',
    title: 'Flow matching in 2-D',
    summary:
      'A time-conditioned MLP trained by flow matching on eight gaussians and two moons; MMD² vs floor and noise.',
    load: () => import('./flow-matching-2d.js'),
  },
  {
    name: 'coupling-comparison',
    tier: 'training',
    title: 'Coupling comparison',
    summary:
      'Independent, greedy, Sinkhorn, exact OT (Hungarian, auction) and unbalanced couplings on noise → two moons: cost and time.',
    load: () => import('./coupling-comparison.js'),
  },
  {
    name: 'equilibrium-matching-2d',
    tier: 'training',
    title: 'Equilibrium matching in 2-D',
    summary:
      'A time-invariant EqM field on two moons and eight gaussians, sampled by gradient descent stopped on a validation set; MMD² vs descent time.',
    load: () => import('./equilibrium-matching-2d.js'),
  },
  {
    name: 'energy-matching-2d',
    tier: 'training',
    title: 'Energy matching in 2-D',
    summary:
      "The paper's set-up on two moons and eight gaussians: OT flow phase, then tempered-Langevin contrastive phase; one scalar energy, its landscape and samples.",
    load: () => import('./energy-matching-2d.js'),
  },
  {
    name: 'choosing-a-backend',
    tier: 'practice',
    title: 'Choosing a backend',
    summary: 'The same Langevin run on cpu, wasm and webgpu: wall time and agreement.',
    load: () => import('./choosing-a-backend.js'),
  },
];

/** Names of every example. */
export const EXAMPLE_NAMES: readonly string[] = EXAMPLES.map((e) => e.name);

/** The entry of `name`, or undefined. */
export function findExample(name: string): ExampleEntry | undefined {
  return EXAMPLES.find((e) => e.name === name);
}
