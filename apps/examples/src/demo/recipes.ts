/**
 * Training recipes per dataset and loss, found by measurement (`apps/examples/scripts/recipe-search.ts`) and
 * scored with the issue-17 score (`../lib/quality.ts`), plus the one pipeline that trains a recipe and scores
 * it: standardised data → MLP energy → loss → `fit` → Langevin chains from uniform noise over the data box →
 * samples back in generator coordinates → score.
 */
import {
  BaseScheduler,
  disposeSampleResult,
  type EnergyFunction,
  ExponentialDecayScheduler,
  type Loss,
  rngKey,
  type Sampler,
  type Schedulable,
} from '@ebm/core';
import { type DatasetName, makeDataset, permutation } from '@ebm/datasets';
import {
  ContrastiveDivergence,
  DenoisingScoreMatching,
  type FitResult,
  fit,
  GaussianMixtureNoise,
  GaussianNoise,
  NoiseContrastiveEstimation,
  PersistentContrastiveDivergence,
  SlicedScoreMatching,
  type StepMetrics,
} from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { type QualityScore, type ScoreReference, scoreReference, scoreSamples } from '../lib/quality.js';
import { NoisedDataLoss } from './noised-loss.js';

/** Losses a recipe can use. */
export const RECIPE_LOSSES = ['pcd', 'cd', 'dsm', 'ssm', 'nce'] as const;
export type RecipeLoss = (typeof RECIPE_LOSSES)[number];

/** A training recipe: model, loss, optimiser, negatives' sampler and the final sampling run. */
export interface Recipe {
  readonly loss: RecipeLoss;
  /** Hidden widths of the MLP energy (SiLU). */
  readonly widths: readonly number[];
  /** Spectral normalisation of the MLP's weights. */
  readonly spectralNorm?: boolean;
  /** Training updates, batch size, Adam learning rate (cosine-decayed to `lrFinal`·lr when set). */
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly lrFinal?: number;
  /** Energy L2 regularisation λ (contrastive losses and NCE). */
  readonly energyL2: number;
  /** Langevin step size h and noise scale σ of the negatives (CD/PCD) — in standardised coordinates. */
  readonly stepSize: number;
  readonly noiseScale: number;
  /** Sampler steps per update (CD/PCD). */
  readonly k: number;
  /** PCD replay buffer: capacity and re-initialisation probability. */
  readonly capacity?: number;
  readonly reinit?: number;
  /** DSM noise σ (standardised coordinates). */
  readonly sigma?: number;
  /**
   * SSM on noise-perturbed data: each batch is x + σξ with this σ (standardised coordinates; see
   * `NoisedDataLoss`). Without it, SSM on raw data builds spikes on the training points and its samples spread.
   */
  readonly ssmSigma?: number;
  /** NCE noise: a Gaussian of this std, or a mixture on `nceComponents` data points with this std. */
  readonly nceStd?: number;
  readonly nceComponents?: number;
  readonly nceRatio?: number;
  /** Final sampling run: Langevin steps, step size and noise scale (defaults: the training ones). */
  readonly sampleSteps: number;
  readonly sampleStepSize?: number;
  readonly sampleNoiseScale?: number;
  /**
   * Annealing of the final run: the noise scale decays geometrically from `sampleNoiseScale` to this value
   * over the run (temperature σ² from σ₀² to σ_f²), which concentrates samples in the learned wells.
   */
  readonly sampleNoiseFinal?: number;
  /** Gradient-norm clip (default 10). */
  readonly clipNorm?: number;
}

/** What {@link trainRecipe} returns. */
export interface RecipeRun {
  readonly energy: MLPEnergy;
  /** Metrics of every update, and the divergence guard's roll-backs. */
  readonly history: readonly StepMetrics[];
  readonly rollbacks: FitResult['rollbacks'];
  /** Samples in generator coordinates, `[n, 2]` row-major. */
  readonly samples: Float32Array;
  /** The uniform noise in the data box the final chains started from (generator coordinates). */
  readonly start: Float32Array;
  readonly score: QualityScore;
  readonly reference: ScoreReference;
  /** Standardisation: z = (x − mean)/std. */
  readonly mean: [number, number];
  readonly std: [number, number];
  /** CPU milliseconds (process.cpuUsage, user + system) of training and of the final sampling run. */
  readonly cpuMs: { readonly train: number; readonly sample: number };
  readonly wallMs: { readonly train: number; readonly sample: number };
}

/** Options of {@link trainRecipe}. */
export interface TrainRecipeOptions {
  readonly seed?: number;
  /** Training points (default 4000). */
  readonly nTrain?: number;
  /** Points of the score (default 2000). */
  readonly nScore?: number;
  /** Overrides of the recipe (e.g. fewer steps in a smoke run). */
  readonly override?: Partial<Recipe>;
  readonly onStep?: (m: StepMetrics) => void;
  /** A precomputed score reference (held-out sets, box, baseline) for this dataset and seed. */
  readonly reference?: ScoreReference;
  /**
   * The sampler of the negatives and of the final run (default: Langevin with the recipe's step size and
   * noise scale, clamped to the data box plus a margin). `clamp` is that box (standardised coordinates).
   */
  readonly sampler?: (
    energy: MLPEnergy,
    settings: { stepSize: number; noiseScale: Schedulable; clamp: [number, number] },
  ) => Sampler;
}

function moments(data: Float32Array | Float64Array): { mean: [number, number]; std: [number, number] } {
  const n = data.length / 2;
  const m: [number, number] = [0, 0];
  for (let i = 0; i < data.length; i++) m[i % 2]! += data[i]! / n;
  const v: [number, number] = [0, 0];
  for (let i = 0; i < data.length; i++) v[i % 2]! += (data[i]! - m[i % 2]!) ** 2 / n;
  return { mean: m, std: [Math.sqrt(v[0]) || 1, Math.sqrt(v[1]) || 1] };
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Builds the loss of a recipe (the sampler is the negatives' Langevin sampler). */
export function buildLoss(
  recipe: Recipe,
  energy: EnergyFunction,
  sampler: Sampler,
  trainZ: Float32Array,
  clampAbs: number,
  seed: number,
): Loss & { dispose?: () => void } {
  switch (recipe.loss) {
    case 'pcd':
      return new PersistentContrastiveDivergence(energy, {
        sampler,
        k: recipe.k,
        energyL2: recipe.energyL2,
        buffer: {
          capacity: recipe.capacity ?? 8192,
          reinitProbability: recipe.reinit ?? 0.05,
          init: 'uniform',
          initScale: clampAbs,
        },
        seed,
      });
    case 'cd':
      return new ContrastiveDivergence(energy, { sampler, k: recipe.k, energyL2: recipe.energyL2, seed });
    case 'dsm':
      return new DenoisingScoreMatching(energy, {
        sigma: recipe.sigma ?? 0.1,
        energyL2: recipe.energyL2,
        seed,
      });
    case 'ssm': {
      const ssm = new SlicedScoreMatching(energy, {
        nProjections: 1,
        projection: 'rademacher',
        varianceReduction: true,
        energyL2: recipe.energyL2,
        seed,
      });
      return recipe.ssmSigma ? new NoisedDataLoss(ssm, recipe.ssmSigma, seed) : ssm;
    }
    case 'nce': {
      const std = recipe.nceStd ?? 1.5;
      const nc = recipe.nceComponents ?? 0;
      const noise =
        nc > 0
          ? new GaussianMixtureNoise({
              means: Array.from(permutation(trainZ.length / 2, rngKey(seed + 31)).slice(0, nc), (i) => [
                trainZ[2 * i]!,
                trainZ[2 * i + 1]!,
              ]),
              stds: std,
            })
          : new GaussianNoise({ mean: [0, 0], std });
      return new NoiseContrastiveEstimation(energy, {
        noise,
        noiseRatio: recipe.nceRatio ?? 1,
        energyL2: recipe.energyL2,
        seed,
      });
    }
  }
}

/** A recipe made ready to train: data, model, sampler, loss and optimiser (see {@link prepareRecipe}). */
export interface PreparedRecipe {
  readonly dataset: DatasetName;
  readonly recipe: Recipe;
  readonly seed: number;
  readonly energy: MLPEnergy;
  readonly loss: Loss & { dispose?: () => void };
  readonly optimizer: tf.Optimizer;
  readonly data: tf.Tensor2D;
  readonly reference: ScoreReference;
  readonly mean: [number, number];
  readonly std: [number, number];
  /** Chains are clamped to [−clampAbs, clampAbs] (standardised coordinates): the data box plus a margin. */
  readonly clampAbs: number;
  /** Builds a sampler on the energy (see {@link TrainRecipeOptions.sampler}). */
  readonly makeSampler: (settings: { stepSize: number; noiseScale: Schedulable }) => Sampler;
  /** Updates applied so far. */
  stepsDone: number;
  readonly history: StepMetrics[];
  readonly rollbacks: FitResult['rollbacks'];
}

/** Builds data (standardised with the training set's moments), the MLP energy, the loss and Adam. */
export function prepareRecipe(
  dataset: DatasetName,
  base: Recipe,
  options: TrainRecipeOptions = {},
): PreparedRecipe {
  const recipe: Recipe = { ...base, ...options.override };
  const seed = options.seed ?? 0;
  const nTrain = options.nTrain ?? 4000;
  const raw = makeDataset(dataset, { nSamples: nTrain, seed }).data;
  const { mean, std } = moments(raw);
  const trainZ = Float32Array.from(raw, (v, i) => (v - mean[i % 2]!) / std[i % 2]!);
  const reference = options.reference ?? scoreReference(dataset, seed, options.nScore);
  const boxZ = [...reference.box.lo, ...reference.box.hi].map((v, i) => (v - mean[i % 2]!) / std[i % 2]!);
  const clampAbs = Math.max(...boxZ.map(Math.abs)) + 0.5;
  const energy = new MLPEnergy({
    inputDim: 2,
    widths: recipe.widths,
    activation: 'silu',
    seed,
    ...(recipe.spectralNorm ? { spectralNorm: true } : {}),
  });
  const clamp: [number, number] = [-clampAbs, clampAbs];
  const makeSampler = (settings: { stepSize: number; noiseScale: Schedulable }) =>
    options.sampler
      ? options.sampler(energy, { ...settings, clamp })
      : new LangevinDynamics(energy, { ...settings, clamp });
  const sampler = makeSampler({ stepSize: recipe.stepSize, noiseScale: recipe.noiseScale });
  return {
    makeSampler,
    dataset,
    recipe,
    seed,
    energy,
    loss: buildLoss(recipe, energy, sampler, trainZ, clampAbs, seed),
    optimizer: tf.train.adam(recipe.learningRate),
    data: tf.tensor2d(trainZ, [nTrain, 2]),
    reference,
    mean,
    std,
    clampAbs,
    stepsDone: 0,
    history: [],
    rollbacks: [],
  };
}

/** Learning rate of a recipe at update t: constant, or cosine from lr to lrFinal·lr over `steps`. */
export function learningRateAt(recipe: Recipe, t: number): number {
  if (recipe.lrFinal === undefined) return recipe.learningRate;
  const c = 0.5 * (1 + Math.cos((Math.PI * Math.min(t, recipe.steps)) / recipe.steps));
  return recipe.learningRate * (recipe.lrFinal + (1 - recipe.lrFinal) * c);
}

/** {@link learningRateAt} as a scheduler for `fit`, shifted by the updates already done. */
class RecipeLearningRate extends BaseScheduler {
  readonly type = 'recipeCosine';
  constructor(
    private readonly recipe: Recipe,
    private readonly offset: number,
  ) {
    super();
  }
  valueAt(n: number): number {
    return learningRateAt(this.recipe, this.offset + n);
  }
  protected config(): Record<string, unknown> {
    return { recipe: this.recipe, offset: this.offset };
  }
}

/** Runs `n` more updates (default: up to `recipe.steps`); returns the CPU milliseconds spent. */
export async function trainMore(
  p: PreparedRecipe,
  n = p.recipe.steps - p.stepsDone,
  onStep?: (m: StepMetrics) => void,
): Promise<number> {
  if (n <= 0) return 0;
  const c0 = cpuNow();
  const offset = p.stepsDone;
  const r = await fit({
    loss: p.loss,
    optimizer: p.optimizer,
    data: p.data,
    batchSize: p.recipe.batchSize,
    steps: n,
    // a fresh run key per segment, so that a run in segments never repeats batches or sampler noise
    seed: p.seed + 7919 * offset,
    clipNorm: p.recipe.clipNorm ?? 10,
    ...(p.recipe.lrFinal !== undefined ? { learningRate: new RecipeLearningRate(p.recipe, offset) } : {}),
    onStep: (m) => {
      const shifted = { ...m, step: m.step + offset };
      p.history.push(shifted);
      onStep?.(shifted);
    },
  });
  p.stepsDone += r.step;
  (p.rollbacks as FitResult['rollbacks'][number][]).push(...r.rollbacks);
  return cpuNow() - c0;
}

/**
 * The final run's noise scale: constant σ₀, or annealed geometrically σ_t = σ₀·r^t from σ₀ to σ_f over n steps
 * (r = (σ_f/σ₀)^(1/(n−1))).
 */
export function noiseSchedule(start: number, final: number | undefined, n: number): Schedulable {
  if (final === undefined || final === start || n < 2) return start;
  return new ExponentialDecayScheduler(start, (final / start) ** (1 / (n - 1)), Math.min(start, final));
}

/** Options of {@link sampleAndScore}. */
export interface SampleScoreOptions {
  /** Langevin steps (default `recipe.sampleSteps`); with several, the chains are scored at each. */
  readonly steps?: readonly number[];
  readonly stepSize?: number;
  readonly noiseScale?: number;
  /** Final noise scale of a geometric annealing (default `recipe.sampleNoiseFinal`; `null`: no annealing). */
  readonly noiseFinal?: number | null;
  readonly seed?: number;
}

/** One scored sampling of a trained energy. */
export interface SampleScore {
  readonly steps: number;
  /** Samples in generator coordinates, and in the standardised coordinates the model sees. */
  readonly samples: Float32Array;
  readonly samplesStandardised: Float32Array;
  readonly score: QualityScore;
  readonly cpuMs: number;
}

/**
 * Langevin chains from the reference's uniform noise over the data box (standardised, clamped to the box plus
 * a margin), mapped back to generator coordinates and scored; with several `steps`, the same chains are scored
 * at each.
 */
export async function sampleAndScore(
  p: PreparedRecipe,
  options: SampleScoreOptions = {},
): Promise<SampleScore[]> {
  const c0 = cpuNow();
  const { mean, std } = p;
  const steps = [...(options.steps ?? [p.recipe.sampleSteps])].sort((a, b) => a - b);
  const training = p.energy.training;
  p.energy.training = false;
  const sampler = p.makeSampler({
    stepSize: options.stepSize ?? p.recipe.sampleStepSize ?? p.recipe.stepSize,
    noiseScale: noiseSchedule(
      options.noiseScale ?? p.recipe.sampleNoiseScale ?? p.recipe.noiseScale,
      options.noiseFinal === undefined ? p.recipe.sampleNoiseFinal : (options.noiseFinal ?? undefined),
      steps.at(-1)!,
    ),
  });
  const noise = p.reference.noise;
  let x = tf.tensor2d(
    Float32Array.from(noise, (v, i) => (v - mean[i % 2]!) / std[i % 2]!),
    [noise.length / 2, 2],
  );
  const out: SampleScore[] = [];
  let done = 0;
  try {
    for (const s of steps) {
      const r = await sampler.sample({ x0: x, nSteps: s - done, seed: (options.seed ?? p.seed + 11) + s });
      const next = tf.keep(tf.clone(r.samples));
      disposeSampleResult(r);
      x.dispose();
      x = next;
      done = s;
      const z = (await x.data()) as Float32Array;
      const samples = Float32Array.from(z, (v, i) => {
        const g = v * std[i % 2]! + mean[i % 2]!;
        return Number.isFinite(g) ? g : 1e6;
      });
      out.push({
        steps: s,
        samples,
        samplesStandardised: z,
        score: scoreSamples(p.reference, samples),
        cpuMs: cpuNow() - c0,
      });
    }
  } finally {
    x.dispose();
    p.energy.training = training;
  }
  return out;
}

/** Releases what {@link prepareRecipe} allocated except the energy. */
export function releaseTraining(p: PreparedRecipe): void {
  p.data.dispose();
  p.loss.dispose?.();
  p.optimizer.dispose();
}

/**
 * Trains a recipe on a dataset and scores it (no figures): the pipeline of the demo and of the recipe search.
 * The caller disposes `run.energy`.
 */
export async function trainRecipe(
  dataset: DatasetName,
  base: Recipe,
  options: TrainRecipeOptions = {},
): Promise<RecipeRun> {
  const p = prepareRecipe(dataset, base, options);
  const w0 = performance.now();
  let trainCpu: number;
  try {
    trainCpu = await trainMore(p, undefined, options.onStep);
  } finally {
    releaseTraining(p);
  }
  const trainWall = performance.now() - w0;
  const w1 = performance.now();
  const [s] = await sampleAndScore(p);
  return {
    energy: p.energy,
    history: p.history,
    rollbacks: p.rollbacks,
    samples: s!.samples,
    start: p.reference.noise,
    score: s!.score,
    reference: p.reference,
    mean: p.mean,
    std: p.std,
    cpuMs: { train: Math.round(trainCpu), sample: Math.round(s!.cpuMs) },
    wallMs: { train: Math.round(trainWall), sample: Math.round(performance.now() - w1) },
  };
}
