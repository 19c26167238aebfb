/**
 * The main job: train an MLP energy on a 2-D dataset, sample from it, plot it, and score it.
 *
 * 1. data: a seeded 2-D dataset (default two moons), standardised; a held-out set from another seed;
 * 2. model: an MLP energy 2 → 64 → 64 → 1 (SiLU);
 * 3. training: persistent contrastive divergence (replay buffer) with Langevin negatives, or CD, denoising /
 *    sliced score matching, or NCE, through `fit` from @ebm/losses with Adam;
 * 4. sampling: Langevin chains started from uniform noise over the data box;
 * 5. output: landscape, data-vs-samples and loss-curve figures (PNG + SVG) and `summary.json` with the
 *    settings, seed, wall time, final loss and the MMD of the samples and of the initial noise to held-out data.
 */

import {
  assertInteger,
  assertPositive,
  disposeSampleResult,
  EbmError,
  type Loss,
  medianDistance,
  mmdRbf,
  rngKey,
  type Sampler,
  uniformArray,
} from '@ebm/core';
import { DATASET_NAMES, type DatasetName, makeDataset, permutation } from '@ebm/datasets';
import {
  ContrastiveDivergence,
  DenoisingScoreMatching,
  fit,
  GaussianNoise,
  NoiseContrastiveEstimation,
  PersistentContrastiveDivergence,
  SlicedScoreMatching,
  type StepMetrics,
} from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '@ebm/samplers';
import { plotEnergyLandscape, plotSampleComparison, plotTrainingCurves } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, selectBackend } from '../lib/backend.js';
import { writeFigure, writeJson } from '../lib/output.js';

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
  /** Chains and steps of the final sampling run. */
  readonly nChains?: number;
  readonly sampleSteps?: number;
  readonly seed?: number;
  readonly backend?: BackendName;
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
  readonly settings: Required<Omit<DemoOptions, 'onStep' | 'onPhase' | 'smoke'>> & {
    smoke: boolean;
    standardised: true;
  };
  readonly backend: string;
  readonly wallTimeMs: number;
  readonly trainTimeMs: number;
  readonly finalLoss: number;
  /** Mean loss over the last 10% of steps (less noisy than the last step). */
  readonly finalLossMean: number;
  /** Unbiased RBF MMD² (median-heuristic bandwidth) to held-out data: model samples, and the initial noise. */
  readonly mmd: { readonly samples: number; readonly initialNoise: number; readonly bandwidth: number };
  /** Mean learned energy on held-out data and on the noise box (lower on data means the model learned). */
  readonly meanEnergy: { readonly data: number; readonly noise: number };
  readonly files: string[];
}

function standardise(data: Float32Array, mean: [number, number], std: [number, number]): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i += 2) {
    out[i] = (data[i]! - mean[0]) / std[0];
    out[i + 1] = (data[i + 1]! - mean[1]) / std[1];
  }
  return out;
}

function moments(data: Float32Array): { mean: [number, number]; std: [number, number] } {
  const n = data.length / 2;
  const m: [number, number] = [0, 0];
  for (let i = 0; i < data.length; i += 2) {
    m[0] += data[i]! / n;
    m[1] += data[i + 1]! / n;
  }
  const v: [number, number] = [0, 0];
  for (let i = 0; i < data.length; i += 2) {
    v[0] += (data[i]! - m[0]) ** 2 / n;
    v[1] += (data[i + 1]! - m[1]) ** 2 / n;
  }
  return { mean: m, std: [Math.sqrt(v[0]) || 1, Math.sqrt(v[1]) || 1] };
}

function subsample(a: Float32Array, n: number): Float32Array {
  return a.length / 2 <= n ? a : a.slice(0, 2 * n);
}

/** Runs the demo and writes its outputs; returns the summary (also written to `summary.json`). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const t0 = performance.now();
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
  const settings = {
    dataset,
    loss: lossName,
    sampler: samplerName,
    steps: assertInteger('steps', options.steps ?? (smoke ? 40 : 600), 1),
    batchSize: assertInteger('batchSize', options.batchSize ?? 128, 2),
    learningRate: assertPositive('learningRate', options.learningRate ?? 2e-3),
    k: assertInteger('k', options.k ?? 10, 1),
    energyL2: options.energyL2 ?? 0.1,
    stepSize: assertPositive('stepSize', options.stepSize ?? 0.01),
    noiseScale: assertPositive('noiseScale', options.noiseScale ?? 1),
    nChains: assertInteger('nChains', options.nChains ?? (smoke ? 200 : 1000), 2),
    sampleSteps: assertInteger('sampleSteps', options.sampleSteps ?? (smoke ? 100 : 300), 1),
    seed: assertInteger('seed', options.seed ?? 0, 0),
    backend: options.backend ?? 'cpu',
    outDir: options.outDir ?? 'out',
    smoke,
    standardised: true as const,
  };
  const phase = options.onPhase ?? (() => {});
  phase('setup', `backend ${settings.backend}`);
  const backend = await selectBackend(settings.backend);

  // 1. data (standardised with the training set's moments) and a held-out set from another seed
  const nTrain = smoke ? 1000 : 4000;
  const nHeld = smoke ? 300 : 1000;
  const train = makeDataset(dataset, { nSamples: nTrain, seed: settings.seed });
  const held = makeDataset(dataset, { nSamples: nHeld, seed: settings.seed + 1_000_003 });
  const mom = moments(train.data);
  const trainData = standardise(train.data, mom.mean, mom.std);
  // generators emit points grouped by component (e.g. the outer moon first): shuffle the held-out rows so that
  // any prefix used as the MMD reference covers the whole distribution
  const heldSorted = standardise(held.data, mom.mean, mom.std);
  const order = permutation(nHeld, rngKey(settings.seed + 13));
  const heldData = new Float32Array(heldSorted.length);
  order.forEach((src, dst) => {
    heldData[2 * dst] = heldSorted[2 * src]!;
    heldData[2 * dst + 1] = heldSorted[2 * src + 1]!;
  });
  const box = 3; // the data box for noise, chains and plots: [-3, 3]²

  // 2. model, sampler, loss
  const energy = new MLPEnergy({ inputDim: 2, widths: [64, 64], activation: 'silu', seed: settings.seed });
  const sampler: Sampler =
    samplerName === 'langevin'
      ? new LangevinDynamics(energy, {
          stepSize: settings.stepSize,
          noiseScale: settings.noiseScale,
          clamp: [-box - 1, box + 1],
        })
      : samplerName === 'mala'
        ? new MALA(energy, { stepSize: settings.stepSize })
        : new HamiltonianMonteCarlo(energy, { stepSize: settings.stepSize, nLeapfrogSteps: 5 });
  const buffer = { capacity: 10_000, reinitProbability: 0.05, init: 'uniform' as const, initScale: box };
  const loss: Loss & { dispose?: () => void } =
    lossName === 'pcd'
      ? new PersistentContrastiveDivergence(energy, {
          sampler,
          k: settings.k,
          energyL2: settings.energyL2,
          buffer,
          seed: settings.seed,
        })
      : lossName === 'cd'
        ? new ContrastiveDivergence(energy, {
            sampler,
            k: settings.k,
            energyL2: settings.energyL2,
            seed: settings.seed,
          })
        : lossName === 'dsm'
          ? new DenoisingScoreMatching(energy, { sigma: 0.1, seed: settings.seed })
          : lossName === 'ssm'
            ? new SlicedScoreMatching(energy, {
                nProjections: 1,
                projection: 'rademacher',
                seed: settings.seed,
              })
            : new NoiseContrastiveEstimation(energy, {
                noise: new GaussianNoise({ mean: [0, 0], std: 1.5 }),
                seed: settings.seed,
              });

  // 3. training
  phase('train', `${lossName} on ${dataset}, ${settings.steps} steps`);
  const data = tf.tensor2d(trainData, [nTrain, 2]);
  const optimizer = tf.train.adam(settings.learningRate);
  const tTrain = performance.now();
  const result = await fit({
    loss,
    optimizer,
    data,
    batchSize: settings.batchSize,
    steps: settings.steps,
    seed: settings.seed,
    clipNorm: 10,
    onStep: (m) => options.onStep?.(m, settings.steps),
  });
  const trainTimeMs = performance.now() - tTrain;
  data.dispose();
  loss.dispose?.();
  optimizer.dispose();

  // 4. sampling from noise over the box
  phase('sample', `${settings.nChains} chains × ${settings.sampleSteps} steps`);
  const noise = uniformArray(rngKey(settings.seed + 7), [settings.nChains, 2], -box, box);
  const x0 = tf.tensor2d(noise, [settings.nChains, 2]);
  const run = await sampler.sample({ x0, nSteps: settings.sampleSteps, seed: settings.seed + 11 });
  const samples = (await run.samples.data()) as Float32Array;
  x0.dispose();
  const eData = energy.energy(tf.tensor2d(heldData, [nHeld, 2]));
  const eNoise = energy.energy(tf.tensor2d(noise, [settings.nChains, 2]));
  const meanEnergy = { data: (await tf.mean(eData).data())[0]!, noise: (await tf.mean(eNoise).data())[0]! };
  tf.dispose([eData, eNoise]);

  const nMmd = Math.min(smoke ? 300 : 800, settings.nChains, nHeld);
  const ref = subsample(heldData, nMmd);
  const bandwidth = medianDistance(ref, subsample(samples, nMmd), 2);
  const mmd = {
    samples: mmdRbf(subsample(samples, nMmd), ref, 2, { bandwidth }),
    initialNoise: mmdRbf(subsample(noise, nMmd), ref, 2, { bandwidth }),
    bandwidth,
  };

  // 5. figures and summary
  phase('plot', settings.outDir);
  const files: string[] = [];
  const range: [number, number] = [-box, box];
  files.push(
    ...(await writeFigure(
      settings.outDir,
      'landscape',
      await plotEnergyLandscape(energy, {
        xRange: range,
        yRange: range,
        resolution: smoke ? 40 : 120,
        title: `Learned energy (${lossName}, ${dataset})`,
      }),
    )),
  );
  const toPoints = (a: Float32Array) => ({
    x: a.filter((_, i) => i % 2 === 0),
    y: a.filter((_, i) => i % 2 === 1),
  });
  files.push(
    ...(await writeFigure(
      settings.outDir,
      'samples',
      await plotSampleComparison(toPoints(heldData), toPoints(samples), {
        labels: ['held-out data', `${samplerName} samples`],
        xRange: range,
        yRange: range,
        title: `Data vs samples — MMD² ${mmd.samples.toFixed(4)} (noise ${mmd.initialNoise.toFixed(4)})`,
      }),
    )),
  );
  const history = result.history.map((m) => ({
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
  disposeSampleResult(run);
  const tail = result.history.slice(-Math.max(1, Math.floor(result.history.length / 10)));
  const summary: DemoSummary = {
    settings: { ...settings },
    backend,
    wallTimeMs: Math.round(performance.now() - t0),
    trainTimeMs: Math.round(trainTimeMs),
    finalLoss: result.history.at(-1)?.loss ?? Number.NaN,
    finalLossMean: tail.reduce((a, m) => a + m.loss, 0) / tail.length,
    mmd,
    meanEnergy,
    files: [...files, `${settings.outDir}/summary.json`],
  };
  writeJson(settings.outDir, 'summary.json', summary);
  energy.dispose();
  return summary;
}
