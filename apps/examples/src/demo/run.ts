/**
 * The main job: train an MLP energy on a 2-D dataset, sample from it, plot it, and score it.
 *
 * Every setting defaults to the measured recipe of the dataset and loss (`recipe-table.ts`; PCD on two moons
 * by default), so `pnpm demo --dataset eightGaussians` picks that dataset's recipe:
 * 1. data: a seeded 2-D dataset, standardised with the training set's moments;
 * 2. model: an MLP energy 2 → 128 → 128 → 1 (SiLU);
 * 3. training: persistent contrastive divergence (replay buffer) with Langevin negatives, or CD, denoising /
 *    sliced score matching, or NCE, through `fit` from @ebm/losses with Adam (cosine-decayed);
 * 4. sampling: chains started from uniform noise over the held-out data's bounding box (annealed where the
 *    recipe says so);
 * 5. score (issue 17): multi-bandwidth MMD² of 2000 samples against 2000 held-out points in the generator's
 *    coordinates, beside uniform noise (baseline) and a second held-out set (floor); modes and 3σ share on
 *    eight gaussians, share in squares on the checkerboard;
 * 6. output: landscape (linear and log colour scale), data-vs-samples and loss-curve figures (PNG + SVG),
 *    `samples.csv` and `data.csv` (`x1,x2`, generator coordinates) and `summary.json` with the settings, seed,
 *    wall and CPU time, final loss and the score.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertInteger, assertPositive, chooseBackend, EbmError, type Sampler } from '@ebm/core';
import { DATASET_NAMES, type DatasetName } from '@ebm/datasets';
import type { StepMetrics } from '@ebm/losses';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '@ebm/samplers';
import { plotEnergyLandscape, plotSampleComparison, plotTrainingCurves } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, selectBackend } from '../lib/backend.js';
import { writeFigure, writeJson } from '../lib/output.js';
import { type QualityScore, roundScore } from '../lib/quality.js';
import { recipeFor } from './recipe-table.js';
import { prepareRecipe, type Recipe, releaseTraining, sampleAndScore, trainMore } from './recipes.js';

export const LOSSES = ['pcd', 'cd', 'dsm', 'ssm', 'nce'] as const;
export type LossName = (typeof LOSSES)[number];
export const SAMPLERS = ['langevin', 'mala', 'hmc'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Settings of a demo run (all have defaults). */
export interface DemoOptions {
  readonly dataset?: DatasetName;
  readonly loss?: LossName;
  readonly sampler?: SamplerName;
  /** Training updates. */
  readonly steps?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /** Sampler steps per contrastive loss evaluation. */
  readonly k?: number;
  /** Energy L2 regularisation λ of the contrastive losses. */
  readonly energyL2?: number;
  /** Langevin / MALA / HMC step size. */
  readonly stepSize?: number;
  /** Langevin noise scale σ (σ² is the sampling temperature; < 1 sharpens short-run samples). */
  readonly noiseScale?: number;
  /** Final noise scale of the annealed final run (default: the recipe's; equal to `noiseScale`: no annealing). */
  readonly sampleNoiseFinal?: number;
  /** Chains of the final sampling run = points of the score (default 2000; smoke 300). */
  readonly nChains?: number;
  readonly sampleSteps?: number;
  readonly seed?: number;
  /**
   * tfjs backend; `'auto'` (default) lets `chooseBackend` of @ebm/core measure cpu and wasm on the training
   * workload (an MLP's gradient on a batch) and take the faster, with the reason printed.
   */
  readonly backend?: BackendName | 'auto';
  /** Output folder (created). */
  readonly outDir?: string;
  /** Tiny sizes for tests: a few seconds. */
  readonly smoke?: boolean;
  /** Called after each training step. */
  readonly onStep?: (m: StepMetrics, total: number) => void;
  /** Called when a phase starts. */
  readonly onPhase?: (phase: 'setup' | 'train' | 'sample' | 'plot', detail: string) => void;
}

/** What `summary.json` holds. */
export interface DemoSummary {
  readonly settings: Required<Omit<DemoOptions, 'onStep' | 'onPhase' | 'smoke' | 'sampleNoiseFinal'>> & {
    smoke: boolean;
    standardised: true;
    widths: readonly number[];
    sampleNoiseFinal: number | null;
    recipe: Recipe;
  };
  readonly backend: string;
  /** Why this backend: `chooseBackend`'s measurement, or "set with --backend". */
  readonly backendReason: string;
  readonly wallTimeMs: number;
  readonly trainTimeMs: number;
  /** CPU time of the process (user + system, `process.cpuUsage`): training, sampling, whole run. */
  readonly cpuTimeMs: { readonly train: number; readonly sample: number; readonly total: number };
  readonly finalLoss: number;
  /** Mean loss over the last 10% of steps (less noisy than the last step). */
  readonly finalLossMean: number;
  /** Roll-backs of the divergence guard. */
  readonly rollbacks: number;
  /**
   * Multi-bandwidth MMD² (issue 17) of the samples to held-out data, of the initial uniform noise (the
   * baseline) and of a second held-out set (the floor); `bandwidth` = the data's median pairwise distance.
   */
  readonly mmd: {
    readonly samples: number;
    readonly initialNoise: number;
    readonly floor: number;
    readonly bandwidth: number;
  };
  /** The whole score: MMD² with baseline and floor, modes (eight gaussians), squares (checkerboard), target. */
  readonly score: QualityScore;
  /** Mean learned energy on held-out data and on the noise box (lower on data means the model learned). */
  readonly meanEnergy: { readonly data: number; readonly noise: number };
  readonly files: string[];
}

function csv(points: Float32Array): string {
  const rows = ['x1,x2'];
  for (let i = 0; i < points.length; i += 2) rows.push(`${points[i]},${points[i + 1]}`);
  return `${rows.join('\n')}\n`;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs the demo and writes its outputs; returns the summary (also written to `summary.json`). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const t0 = performance.now();
  const c0 = cpuNow();
  const smoke = options.smoke ?? false;
  const dataset = options.dataset ?? 'twoMoons';
  if (!DATASET_NAMES.includes(dataset)) {
    throw new EbmError('INVALID_PARAM', `unknown dataset "${dataset}".`, {
      argument: 'dataset',
      value: dataset,
      fix: `use one of ${DATASET_NAMES.join(', ')}.`,
    });
  }
  const lossName = options.loss ?? 'pcd';
  const samplerName = options.sampler ?? 'langevin';
  if (!LOSSES.includes(lossName)) {
    throw new EbmError('INVALID_PARAM', `unknown loss "${lossName}".`, {
      argument: 'loss',
      value: lossName,
      fix: `use one of ${LOSSES.join(', ')}.`,
    });
  }
  if (!SAMPLERS.includes(samplerName)) {
    throw new EbmError('INVALID_PARAM', `unknown sampler "${samplerName}".`, {
      argument: 'sampler',
      value: samplerName,
      fix: `use one of ${SAMPLERS.join(', ')}.`,
    });
  }
  const base = recipeFor(dataset, lossName);
  const settings = {
    dataset,
    loss: lossName,
    sampler: samplerName,
    steps: assertInteger('steps', options.steps ?? (smoke ? 60 : base.steps), 1),
    batchSize: assertInteger('batchSize', options.batchSize ?? base.batchSize, 2),
    // smoke: at most 3e-3 (60 updates at the default's 1e-2 leave an over-sharp, unmixed model)
    learningRate: assertPositive(
      'learningRate',
      options.learningRate ?? (smoke ? Math.min(base.learningRate, 3e-3) : base.learningRate),
    ),
    k: assertInteger('k', options.k ?? (smoke ? Math.min(base.k, 5) : base.k), 1),
    energyL2: options.energyL2 ?? base.energyL2,
    stepSize: assertPositive('stepSize', options.stepSize ?? base.stepSize),
    noiseScale: assertPositive('noiseScale', options.noiseScale ?? base.noiseScale),
    sampleNoiseFinal: options.sampleNoiseFinal ?? base.sampleNoiseFinal ?? null,
    nChains: assertInteger('nChains', options.nChains ?? (smoke ? 300 : 2000), 2),
    sampleSteps: assertInteger('sampleSteps', options.sampleSteps ?? (smoke ? 150 : base.sampleSteps), 1),
    seed: assertInteger('seed', options.seed ?? 0, 0),
    backend: options.backend ?? 'auto',
    outDir: options.outDir ?? 'out',
    smoke,
    standardised: true as const,
    widths: base.widths,
  };
  const recipe: Recipe = {
    ...base,
    steps: settings.steps,
    batchSize: settings.batchSize,
    learningRate: settings.learningRate,
    k: settings.k,
    energyL2: settings.energyL2,
    stepSize: settings.stepSize,
    noiseScale: settings.noiseScale,
    sampleSteps: settings.sampleSteps,
    ...(settings.sampleNoiseFinal === null ? {} : { sampleNoiseFinal: settings.sampleNoiseFinal }),
  };
  if (settings.sampleNoiseFinal === null) delete (recipe as { sampleNoiseFinal?: number }).sampleNoiseFinal;
  const phase = options.onPhase ?? (() => {});
  let backend: string;
  let backendReason: string;
  if (settings.backend === 'auto') {
    // the demo trains an MLP: measure cpu and wasm on an MLP gradient over a training batch
    await import('@tensorflow/tfjs-backend-wasm');
    tf.enableProdMode();
    const choice = await chooseBackend({
      candidates: ['cpu', 'wasm'],
      workload: 'training',
      dim: 2,
      nChains: settings.batchSize,
    });
    backend = choice.backend;
    backendReason = `chosen by chooseBackend (@ebm/core): ${choice.reason}`;
  } else {
    backend = await selectBackend(settings.backend);
    backendReason = 'set with --backend';
  }
  phase('setup', `backend ${backend} — ${backendReason}`);

  // 1–2. data, model, sampler, loss (the held-out sets of the score come from other seeds)
  const makeSampler = (
    energy: tf.Tensor | object,
    s: { stepSize: number; noiseScale: number | object; clamp: [number, number] },
  ): Sampler => {
    const e = energy as ConstructorParameters<typeof LangevinDynamics>[0];
    if (samplerName === 'mala') return new MALA(e, { stepSize: s.stepSize });
    if (samplerName === 'hmc')
      return new HamiltonianMonteCarlo(e, { stepSize: s.stepSize, nLeapfrogSteps: 5 });
    return new LangevinDynamics(e, s as ConstructorParameters<typeof LangevinDynamics>[1]);
  };
  const p = prepareRecipe(dataset, recipe, {
    seed: settings.seed,
    nScore: settings.nChains,
    ...(samplerName === 'langevin' ? {} : { sampler: makeSampler }),
  });

  // 3. training
  phase('train', `${lossName} on ${dataset}, ${settings.steps} steps`);
  const tTrain = performance.now();
  let trainCpu: number;
  try {
    trainCpu = await trainMore(p, undefined, (m) => options.onStep?.(m, settings.steps));
  } finally {
    releaseTraining(p);
  }
  const trainTimeMs = performance.now() - tTrain;
  const { energy, reference: ref } = p;

  // 4–5. sampling from uniform noise over the data box, and the score
  phase('sample', `${settings.nChains} chains × ${settings.sampleSteps} steps`);
  const [run] = await sampleAndScore(p);
  const samples = run!.samples;
  const score = run!.score;
  const z = (x: Float32Array) => Float32Array.from(x, (v, i) => (v - p.mean[i % 2]!) / p.std[i % 2]!);
  const meanEnergy = tf.tidy(() => ({
    data: tf.mean(energy.energy(tf.tensor2d(z(ref.held), [ref.held.length / 2, 2]))),
    noise: tf.mean(energy.energy(tf.tensor2d(z(ref.noise), [ref.noise.length / 2, 2]))),
  }));
  const eData = (await meanEnergy.data.data())[0]!;
  const eNoise = (await meanEnergy.noise.data())[0]!;
  tf.dispose([meanEnergy.data, meanEnergy.noise]);
  const mmd = {
    samples: score.mmd.samples,
    initialNoise: score.mmd.baseline,
    floor: score.mmd.floor,
    bandwidth: score.medianDistance,
  };

  // 6. figures (generator coordinates; the landscape maps them to the model's standardised inputs), data, summary
  phase('plot', settings.outDir);
  const files: string[] = [];
  const pad = (lo: number, hi: number): [number, number] => [lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)];
  const xr = pad(ref.box.lo[0], ref.box.hi[0]);
  const yr = pad(ref.box.lo[1], ref.box.hi[1]);
  const toModel = {
    dim: 2,
    energy: (x: tf.Tensor2D) =>
      tf.tidy(() => energy.energy(tf.div(tf.sub(x, tf.tensor1d(p.mean)), tf.tensor1d(p.std)) as tf.Tensor2D)),
  } as unknown as Parameters<typeof plotEnergyLandscape>[0];
  for (const logScale of [false, true]) {
    files.push(
      ...(await writeFigure(
        settings.outDir,
        logScale ? 'landscape-log' : 'landscape',
        await plotEnergyLandscape(toModel, {
          xRange: xr,
          yRange: yr,
          resolution: smoke ? 40 : 120,
          logScale,
          title: `Learned energy (${lossName}, ${dataset}${logScale ? ', log colour scale' : ''})`,
        }),
      )),
    );
  }
  const toPoints = (a: Float32Array) => ({
    x: a.filter((_, i) => i % 2 === 0),
    y: a.filter((_, i) => i % 2 === 1),
  });
  const detail = score.modes
    ? `, ${score.modes.held}/8 modes, ${(100 * score.modes.withinShare).toFixed(0)} % within 3σ`
    : score.squares
      ? `, ${(100 * score.squares.samples).toFixed(0)} % in squares`
      : '';
  files.push(
    ...(await writeFigure(
      settings.outDir,
      'samples',
      await plotSampleComparison(toPoints(ref.held), toPoints(samples), {
        labels: ['held-out data', `${samplerName} samples`],
        xRange: xr,
        yRange: yr,
        title: `Data vs samples — MMD² ${mmd.samples.toFixed(4)} (noise ${mmd.initialNoise.toFixed(4)})${detail}`,
      }),
    )),
  );
  const history = p.history.map((m) => ({
    loss: m.loss,
    ...(m.energyPos !== undefined ? { 'E+': m.energyPos } : {}),
    ...(m.energyNeg !== undefined ? { 'E-': m.energyNeg } : {}),
    gradNorm: m.gradNorm,
  }));
  files.push(
    ...(await writeFigure(
      settings.outDir,
      'training',
      await plotTrainingCurves(history, { smoothing: 0.9, title: 'Training' }),
    )),
  );
  writeFileSync(join(settings.outDir, 'samples.csv'), csv(samples));
  writeFileSync(join(settings.outDir, 'data.csv'), csv(ref.held));
  files.push(join(settings.outDir, 'samples.csv'), join(settings.outDir, 'data.csv'));
  const tail = p.history.slice(-Math.max(1, Math.floor(p.history.length / 10)));
  const summary: DemoSummary = {
    settings: { ...settings, recipe },
    backend,
    backendReason,
    wallTimeMs: Math.round(performance.now() - t0),
    trainTimeMs: Math.round(trainTimeMs),
    cpuTimeMs: {
      train: Math.round(trainCpu),
      sample: Math.round(run!.cpuMs),
      total: Math.round(cpuNow() - c0),
    },
    finalLoss: p.history.at(-1)?.loss ?? Number.NaN,
    finalLossMean: tail.reduce((a, m) => a + m.loss, 0) / tail.length,
    rollbacks: p.rollbacks.length,
    mmd,
    score: roundScore(score),
    meanEnergy: { data: eData, noise: eNoise },
    files: [...files, join(settings.outDir, 'summary.json')],
  };
  writeJson(settings.outDir, 'summary.json', summary);
  energy.dispose();
  return summary;
}
