/**
 * Energy Matching in 2-D (TorchEBM's `04-energy-matching/01-energy-matching-2d`, the paper's two-moons set-up,
 * here on two moons and eight gaussians): one scalar MLP energy V trained with EnergyMatchingLoss in two phases —
 * flow only (λ = 0: −∇V learns the OT flow from noise, Sinkhorn coupling ε = 0.01), then joint (λ = 2:
 * tempered-Langevin negatives with τ* = 0.8, ε_max = 0.15 shape V near the data into wells whose Boltzmann
 * density exp(−V/ε_max) is the data's). Samples come from Langevin on V from N(0, I) with the paper's
 * TemperatureScheduler sweep (`loss.sample`: Δ = 0.01, noise √ε(k): deterministic descent until τ*, then heating
 * to ε_max).
 *
 * Score: the sample-quality score of `lib/quality.ts` (multi-bandwidth MMD², 2000 samples vs 2000 held-out
 * points, beside uniform noise in the data's box — the baseline — and a second held-out set — the floor), after
 * each phase; after the joint phase (and at joint checkpoints) also after as many more steps at ε_max
 * (`afterJoint400Steps`, `mmd2Long`: twice the sampler's chain, 400 steps at Δ = 0.01, the second half a longer
 * equilibration at the final temperature), to tell a score limited by
 * training from one limited by sampling length. Figure `<dataset>-landscape`: the learned V (left; colour
 * ln(V − V_lo + δ) over the 1 %–99 % quantiles of the grid's V, so a narrow spike of V does not take the whole colour
 * scale and the valleys stay visible; `colorRange: 'auto'` of @ebm/viz), the Boltzmann density exp(−(V − V_min)/ε_max)
 * that the sampler targets at its final temperature (middle), and the samples over V (right) — the paper's 2-D figure.
 * Deviations from the paper's run (compute): 1200 flow + 100 joint steps at lr 1e-3 → 1e-4 (cosine) instead of
 * 20k + 2k at 1e-4; the same λ, τ*, ε_max, Δ, 200 Langevin steps, trimmed mean and clamp. Smoke mode trains
 * with 20-step negative chains; sampling always uses the paper's transport time (200 steps at Δ = 0.01; half reported too).
 *
 * `setup: 'paper'` (`--setup paper`) runs the paper's own 2-D code instead (`experiments/toy2d` of the authors'
 * repository): source p₀ = eight gaussians at radius 5 with covariance √0.1·I (torchcfm's `sample_8gaussians`),
 * target 3·moons(0.2) − 1 (`sample_moons`: torchdyn's moons, whose noise is one U[0, 0.2) shift of both coordinates —
 * thin arcs, not scikit-learn's Gaussian blur; {@link paperMoons}), exact-OT pairs, batch 128, Adam at a constant 1e-4 (ε̂ = 1e-8,
 * PyTorch's), 20 000 flow + 2000 joint steps, the authors' `PotentialModel(dim=2, w=256)` — 4 hidden layers of 256
 * (`train()` builds it with w = 256; ReLU after the first layer, SiLU after the others) with PyTorch's default `nn.Linear` initialisation (weights and biases
 * U(−1/√fan_in, 1/√fan_in), {@link torchLinearInit}; MLPEnergy's own is He-normal weights and zero biases, which
 * puts every first-layer bend through the origin) — flow weight w(t) only in the joint phase, cd = mean V(x⁺) − mean
 * V(x⁻) (no trim, no clamp), half the negative chains from p₀ (tempered), half from data (at ε_max); samples by
 * tempered Langevin from p₀. Deviations (audit of `experiments/toy2d/utils_2D.py` in `m1balcerak/EnergyMatching`,
 * `apps/examples/RECIPES.md` "Audit against the authors' code"): V(x⁺) and the data-started chains use the flow's data batch (the authors draw fresh moons for each);
 * exact-OT pairs are the plan's permutation (torchcfm draws B pairs from the plan with replacement); the tempered
 * schedule's step k sits at virtual time k/N (the authors' `gibbs_sampler`: (k + 1)/N); the figure's sampler sweeps
 * the schedule over its 200 steps (TorchEBM's; the authors' notebook heats at real time 0.8–1 and then stays at
 * ε_max — `mmd2Long` is closer to that); the score's held-out sets come from the same generator.
 *
 * Against the authors' own run (`packages/cuda/bench/em_reference.py`: their `train()` and samplers on the H200,
 * scored and drawn by `scripts/em-reference-figure.ts` exactly as here; RECIPES.md "The paper's moons, and the
 * authors' own run beside ours"): theirs MMD² 0.0032 (`mmd2Long` 0.0150), ours at the paper's lengths 0.0027
 * (0.0153), floor −0.0022, noise 0.0704; both landscapes have the same shape — a bowl, two deep wells at the moons'
 * inner tips, a valley along the lower moon. `--resume-dir` checkpoints each phase (a run longer than one sitting).
 */
import { join } from 'node:path';
import { CosineScheduler, foldIn, rngKey, uniformArray } from '@ebm/core';
import { type DatasetName, eightGaussians, makeDataset, twoMoons } from '@ebm/datasets';
import { EnergyMatchingLoss, fit, type StepMetrics } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import {
  combineFigures,
  computeEnergyGrid,
  type EnergyGrid,
  type Figure,
  plotEnergyLandscape,
  plotSamples,
} from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { roundScore, SCORE_POINTS, scoreReference, scoreSamples } from '../lib/quality.js';
import {
  columns,
  context,
  type ExampleContext,
  type ExampleOptions,
  finish,
  mainGuard,
  round,
} from './_shared.js';

/** Plot window per dataset (generator coordinates): the data plus a margin that shows the bowl around it. */
const WINDOW: Record<string, { x: [number, number]; y: [number, number] }> = {
  twoMoons: { x: [-2, 3], y: [-2, 2.5] },
  eightGaussians: { x: [-3.5, 3.5], y: [-3.5, 3.5] },
};
/** Plot window of the paper's set-up: the moons (3·moons − 1) and the source ring at radius 5. */
const PAPER_WINDOW = { x: [-6.5, 6.5] as [number, number], y: [-6.5, 6.5] as [number, number] };

/**
 * The paper's target: 3·moons(0.2) − 1, rows shuffled (torchcfm's `sample_moons`), generator coordinates. torchcfm
 * takes the moons from torchdyn's `generate_moons`, whose noise is one U[0, 0.2) shift added to both coordinates
 * (`noiseKind: 'uniformShift'`), not scikit-learn's N(0, 0.2²) per coordinate: two thin arcs of radius 3 smeared by
 * up to 0.6 along (1, 1).
 */
export function paperMoons(n: number, seed: number): Float32Array {
  const d = twoMoons({ nSamples: n, noise: 0.2, noiseKind: 'uniformShift', shuffle: true, seed });
  return Float32Array.from(d.data, (v) => 3 * v - 1);
}

/** The paper's source: eight gaussians at radius 5, covariance √0.1·I (torchcfm's `sample_8gaussians`). */
export function paperSource(n: number, seed: number): Float32Array {
  return Float32Array.from(eightGaussians({ nSamples: n, scale: 5, std: 0.1 ** 0.25, seed }).data);
}

/** Lengths and key settings of a run (the command line's `--flow-steps` etc. of `pnpm example`). */
export interface EnergyMatchingRunOptions extends ExampleOptions {
  /** `'library'` (default: N(0, I) → the library's datasets) or `'paper'` (the paper's own 2-D run; see the module docs). */
  readonly setup?: 'library' | 'paper';
  /** Datasets to train on (default both; `--dataset twoMoons`; the paper's set-up: two moons only). */
  readonly datasets?: readonly DatasetName[];
  /** Flow-only steps (default 1200; smoke 200; the paper 20 000). */
  readonly flowSteps?: number;
  /** Joint steps (default 100; smoke 8; the paper 2000). */
  readonly jointSteps?: number;
  /** Learning rate of the flow phase (default 1e-3; the paper 1e-4). */
  readonly flowLr?: number;
  /** Start of the joint phase's cosine learning rate (default 1e-3; the paper 1e-4); it decays to `jointLrEnd`. */
  readonly jointLr?: number;
  /**
   * End of the joint phase's cosine learning rate (default a tenth of `jointLr`; the paper's set-up: `jointLr`, a
   * constant rate). E.g. 5e-5 after a `jointLr` of 1e-4.
   */
  readonly jointLrEnd?: number;
  /** Langevin steps of each negative batch (default 200; smoke 20). */
  readonly nLangevin?: number;
  /** Langevin step Δ of the negative chains (default 0.01, the paper's; e.g. 0.04 with a quarter of the steps). */
  readonly langevinDt?: number;
  /**
   * Flow coupling (default 'sinkhorn', ε = 0.01). Every backend: `fit` solves host couplings (exact OT, Sinkhorn's
   * host plan) before the gradient tape with an asynchronous read, the same pairing as on cpu.
   */
  readonly coupling?: 'sinkhorn' | 'exactOt' | 'independent';
  /** Batch size (default 256; smoke 128; the paper's set-up 128). */
  readonly batchSize?: number;
  /** Batch size of the joint phase (default `batchSize`): more negatives per contrastive step. */
  readonly jointBatchSize?: number;
  /** Steps between checkpoints (sample, score, figure, `summary.json`); default: only at the end of each phase. */
  readonly checkpointEvery?: number;
  /** Joint steps between checkpoints (default `checkpointEvery`). */
  readonly jointCheckpointEvery?: number;
  /** Steps between progress lines (default: 20 lines per phase). */
  readonly logEvery?: number;
  /** Width of the hidden layers (default 128; the paper's set-up: 256, four layers). */
  readonly width?: number;
  /**
   * Initialisation of V (default `'he'`, MLPEnergy's; the paper's set-up: `'torch'`, PyTorch's `nn.Linear` default,
   * see {@link torchLinearInit}).
   */
  readonly init?: 'he' | 'torch';
  /**
   * Node only: a folder for training checkpoints (`--resume-dir`). Each phase's `fit` writes V's weights, Adam's
   * state and the loss's state there (`<dir>/<dataset>-flow`, `<dir>/<dataset>-joint`) every `resumeEvery` steps
   * and at its end; a run started again with the same folder resumes each phase from its newest checkpoint (a
   * finished phase is restored, not rerun). E.g. the paper's 20 000 flow steps across two device calls.
   */
  readonly resumeDir?: string;
  /** Steps between training checkpoints with `resumeDir` (default 500). */
  readonly resumeEvery?: number;
}

/**
 * PyTorch's default `nn.Linear` initialisation (kaiming-uniform with a = √5, which the authors' `PotentialModel`
 * keeps): every weight and bias of layer l drawn from U(−1/√fan_in, 1/√fan_in), fan_in the layer's input width, in
 * place of MLPEnergy's N(0, 2/fan_in) weights and zero biases. Draws from core's Philox stream (`foldIn(key, i)`
 * per variable), so a seed gives the same network on every backend.
 */
export function torchLinearInit(V: MLPEnergy, seed: number): void {
  const key = rngKey(seed);
  const vars = V.trainableVariables;
  for (let i = 0; i + 1 < vars.length; i += 2) {
    const w = vars[i]!;
    const b = vars[i + 1]!;
    const bound = 1 / Math.sqrt(w.shape[0]!);
    for (const [j, v] of [w, b].entries()) {
      const values = tf.tensor(uniformArray(foldIn(key, i + j), v.shape, -bound, bound), v.shape, 'float32');
      v.assign(values);
      values.dispose();
    }
  }
}

/** Runs the example. */
export async function run(options: EnergyMatchingRunOptions = {}) {
  const ctx = context('energy-matching-2d', options);
  const paper = options.setup === 'paper';
  const flowSteps = options.flowSteps ?? (ctx.smoke ? 200 : paper ? 20_000 : 1200);
  const jointSteps = options.jointSteps ?? (ctx.smoke ? 8 : paper ? 2000 : 100);
  const flowLr = options.flowLr ?? (paper ? 1e-4 : 1e-3);
  const jointLr = options.jointLr ?? (paper ? 1e-4 : 1e-3);
  const jointLrEnd = options.jointLrEnd ?? (paper ? jointLr : jointLr / 10);
  const nLangevin = options.nLangevin ?? (ctx.smoke ? 20 : 200);
  const nScore = ctx.smoke ? 400 : SCORE_POINTS;
  const batchSize = options.batchSize ?? (ctx.smoke || paper ? 128 : 256);
  const jointBatchSize = options.jointBatchSize ?? batchSize;
  const checkpointEvery = options.checkpointEvery ?? 0;
  const resumeEvery = options.resumeEvery ?? 500;
  const jointCheckpointEvery = options.jointCheckpointEvery ?? checkpointEvery;
  const datasets = paper
    ? (['twoMoons'] as const)
    : (options.datasets ?? (['twoMoons', 'eightGaussians'] as const));
  const coupling = options.coupling ?? (paper ? 'exactOt' : 'sinkhorn');
  const langevinDt = options.langevinDt ?? 0.01;
  const init = options.init ?? (paper ? 'torch' : 'he');
  // the sampler keeps the paper's transport time (200 steps of Δ = 0.01) at any Δ
  const sampleSteps = Math.max(1, Math.round(2 / langevinDt));
  const settings = {
    setup: paper ? 'paper' : 'library',
    flowSteps,
    jointSteps,
    flowLr,
    jointLr,
    jointLrEnd,
    nLangevinSteps: nLangevin,
    langevinDt,
    coupling,
    batchSize,
    jointBatchSize,
    width: options.width ?? (ctx.smoke ? 64 : paper ? 256 : 128),
    firstActivation: paper ? 'relu' : 'silu',
    init,
    nScore,
    backend: tf.getBackend(),
  };
  const results: Record<string, Record<string, unknown>> = {};
  const tStart = performance.now();
  const elapsed = () => round((performance.now() - tStart) / 1000, 1);
  for (const name of datasets) {
    const nTrain = paper ? 100_000 : 8192;
    const train = paper
      ? tf.tensor2d(paperMoons(nTrain, ctx.seed + 1), [nTrain, 2])
      : makeDataset(name, { nSamples: nTrain, seed: ctx.seed + 1 }).toTensor();
    const ref = scoreReference(name, ctx.seed, nScore, paper ? paperMoons : undefined);
    const source = paper ? tf.tensor2d(paperSource(100_000, ctx.seed + 5), [100_000, 2]) : undefined;
    const width = options.width ?? (ctx.smoke ? 64 : paper ? 256 : 128);
    const widths = ctx.smoke ? [width, width] : Array.from({ length: paper ? 4 : 3 }, () => width);
    // the paper's PotentialModel: ReLU after the first layer, SiLU after the others
    const activation = paper ? widths.map((_, i): 'relu' | 'silu' => (i === 0 ? 'relu' : 'silu')) : 'silu';
    const V = new MLPEnergy({ inputDim: 2, widths, activation, seed: ctx.seed });
    if (init === 'torch') torchLinearInit(V, ctx.seed + 7);
    const loss = new EnergyMatchingLoss(V, {
      coupling,
      nLangevinSteps: nLangevin,
      langevinDt,
      warmupSteps: flowSteps,
      seed: ctx.seed,
      ...(source !== undefined
        ? { source, flowWeighting: 'joint', cdTrimFraction: 0, cdClamp: Number.MAX_VALUE }
        : {}),
    });
    // the paper's set-up: torch.optim.Adam's ε̂ = 1e-8 (tfjs' default is the backend's epsilon, 1e-7)
    const optimizer = paper ? tf.train.adam(flowLr, 0.9, 0.999, 1e-8) : tf.train.adam(flowLr);
    // the samplers' start: N(0, I), or the paper's source p₀
    const noise = paper
      ? loss.drawSource(rngKey(ctx.seed + 4), nScore, 2)
      : (tf.randomNormal([nScore, 2], 0, 1, 'float32', ctx.seed + 4) as tf.Tensor2D);
    // The paper's sampler: 200 tempered steps of Δ = 0.01 (transport in unit time, descent to τ*, then heat)
    const sample = async (nSteps = sampleSteps) => {
      const x = loss.sample(noise, rngKey(ctx.seed + 3), nSteps);
      const s = (await x.data()) as Float32Array;
      x.dispose();
      return s;
    };
    // Twice the sampler's chain: its samples (200 steps at Δ = 0.01), then as many more Langevin steps of Δ at the final temperature
    // ε_max (x − Δ∇V + √ε_max·√(2Δ)ξ, the sampler's last step continued), i.e. a longer equilibration at ε_max.
    const hot = new LangevinDynamics(V, { stepSize: langevinDt, noiseScale: Math.sqrt(loss.epsilonMax) });
    const equilibrate = async (s: Float32Array) => {
      const x0 = tf.tensor2d(s, [s.length / 2, 2]);
      try {
        const r = await hot.sample({ x0, nSteps: sampleSteps, seed: ctx.seed + 6 });
        const out = (await r.samples.data()) as Float32Array;
        r.samples.dispose();
        return out;
      } finally {
        x0.dispose();
      }
    };
    const progress: Record<string, unknown>[] = [];
    const record: Record<string, unknown> = { progress };
    results[name] = record;
    // A checkpoint: sample, score, draw the landscape and write summary.json (a run cut short still leaves numbers)
    let checkpointMs = 0;
    const checkpoint = async (phase: string, step: number, lossValue: number) => {
      const tc = performance.now();
      const samples = await sample();
      const score = roundScore(scoreSamples(ref, samples));
      // joint checkpoints also score as many more steps at ε_max (training-limited or sampling-limited?)
      const long =
        phase === 'joint' ? roundScore(scoreSamples(ref, await equilibrate(samples))).mmd.samples : undefined;
      const entry = {
        phase,
        step,
        loss: round(lossValue),
        mmd2: score.mmd.samples,
        ...(long !== undefined ? { mmd2Long: long } : {}),
        elapsedSeconds: elapsed(),
      };
      progress.push(entry);
      console.log(
        `[${name}] checkpoint ${phase} step ${step}: MMD² ${score.mmd.samples}${long !== undefined ? ` (twice the steps: ${long})` : ''} (floor ${score.mmd.floor}, noise ${score.mmd.baseline}) at ${entry.elapsedSeconds} s`,
      );
      await drawLandscape(ctx, name, V, loss.epsilonMax, samples, score.mmd, `${phase} ${step}`, paper);
      ctx.json(
        `${name}-samples.json`,
        Array.from(samples, (v) => round(v)),
      );
      ctx.json('summary.json', { ...settings, complete: false, results });
      checkpointMs += performance.now() - tc;
      return { samples, score };
    };
    const logEvery = (steps: number) => options.logEvery ?? Math.max(1, Math.round(steps / 20));
    const onStep = (phase: string, steps: number, offset: number) => async (m: StepMetrics) => {
      const step = m.step - offset + 1;
      if (step % logEvery(steps) === 0 || step === steps) {
        const cd = m.metrics?.cdGap;
        console.log(
          `[${name}] ${phase} ${step}/${steps} loss ${m.loss.toFixed(5)}${cd !== undefined ? ` cdGap ${cd.toFixed(4)}` : ''} ${elapsed()} s`,
        );
      }
      const every = phase === 'joint' ? jointCheckpointEvery : checkpointEvery;
      if (every > 0 && step % every === 0 && step < steps) await checkpoint(phase, step, m.loss);
    };
    // --resume-dir: each phase checkpoints to its own folder and resumes from it (a finished phase: 0 steps run)
    const resume = (phase: string) =>
      options.resumeDir === undefined
        ? {}
        : { checkpointDir: join(options.resumeDir, `${name}-${phase}`), checkpointEvery: resumeEvery };
    const t0 = performance.now();
    const flow = await fit({
      loss,
      optimizer,
      learningRate: flowLr,
      data: train,
      batchSize,
      steps: flowSteps,
      seed: ctx.seed,
      onStep: onStep('flow', flowSteps, 0),
      ...resume('flow'),
    });
    const flowRan = Math.max(1, flow.history.length);
    const flowMs = performance.now() - t0 - checkpointMs;
    checkpointMs = 0;
    const afterFlow = (await checkpoint('flow', flowSteps, flow.history.at(-1)?.loss ?? Number.NaN)).score;
    Object.assign(record, {
      afterFlow,
      msPerFlowStep: round(flowMs / flowRan, 1),
      flowStepsThisRun: flow.history.length,
      // steps taken by a fused training step (on webgpu with @ebm/cuda: gradient regression + Adam in a few dispatches)
      fusedFlowSteps: flow.fusedSteps,
    });
    checkpointMs = 0;
    const t1 = performance.now();
    const joint = await fit({
      loss,
      optimizer,
      learningRate: jointLrEnd === jointLr ? jointLr : new CosineScheduler(jointLr, jointLrEnd, jointSteps),
      data: train,
      batchSize: jointBatchSize,
      steps: jointSteps,
      seed: ctx.seed + 1,
      onStep: onStep('joint', jointSteps, 0),
      ...resume('joint'),
    });
    const jointRan = Math.max(1, joint.history.length);
    const jointMs = performance.now() - t1 - checkpointMs;
    const t2 = performance.now();
    const samples = await sample();
    const sampleMs = performance.now() - t2;
    const afterJoint = roundScore(scoreSamples(ref, samples));
    const afterJoint100 = roundScore(scoreSamples(ref, await sample(Math.round(sampleSteps / 2))));
    const afterJoint400 = roundScore(scoreSamples(ref, await equilibrate(samples)));
    console.log(
      `[${name}] after joint: MMD² ${afterJoint.mmd.samples} (half the steps: ${afterJoint100.mmd.samples}; twice, the last half at ε_max: ${afterJoint400.mmd.samples})`,
    );
    await drawLandscape(ctx, name, V, loss.epsilonMax, samples, afterJoint.mmd, undefined, paper);
    ctx.json(
      `${name}-samples.json`,
      Array.from(samples, (v) => round(v)),
    );
    Object.assign(record, {
      afterJoint,
      afterJoint100Steps: afterJoint100.mmd.samples,
      afterJoint400Steps: afterJoint400.mmd.samples,
      flowLoss: round(flow.history.at(-1)?.loss ?? Number.NaN),
      jointLoss: round(joint.history.at(-1)?.loss ?? Number.NaN),
      cdGap: round(joint.history.at(-1)?.metrics?.cdGap ?? Number.NaN),
      trainSeconds: round((flowMs + jointMs) / 1000, 1),
      msPerFlowStep: round(flowMs / flowRan, 1),
      msPerJointStep: round(jointMs / jointRan, 1),
      jointStepsThisRun: joint.history.length,
      sampleSeconds: round(sampleMs / 1000, 1),
    });
    tf.dispose([train, noise, ...(source ? [source] : [])]);
    V.dispose();
  }
  ctx.json('summary.json', { ...settings, complete: true, results });
  return finish(ctx, { ...settings, results });
}

/**
 * Figure `<dataset>-landscape`: the learned V (left), its Boltzmann density at the sampler's final temperature
 * (middle) and the samples over V (right). V's colour scale spans the 1 %–99 % quantiles of the grid (`colorRange:
 * 'auto'`): a learned V often has one narrow tall spike that would otherwise take the whole scale.
 */
async function drawLandscape(
  ctx: ExampleContext,
  name: string,
  V: MLPEnergy,
  epsilonMax: number,
  samples: Float32Array,
  mmd: { samples: number; floor: number; baseline: number },
  at?: string,
  paper = false,
): Promise<void> {
  const w = paper ? PAPER_WINDOW : WINDOW[name]!;
  const grid = await computeEnergyGrid(V, { xRange: w.x, yRange: w.y, resolution: ctx.smoke ? 40 : 120 });
  const title = `Energy matching, ${paper ? "the paper's set-up (8 gaussians → moons)" : name}${at !== undefined ? ` (after ${at})` : ''}`;
  await ctx.figure(`${name}-landscape`, await landscapeFigure(grid, epsilonMax, samples, mmd, title, name));
}

/**
 * The example's three panels from an energy grid: V (log colour over its 1 %–99 % quantiles), the Boltzmann density
 * exp(−(V − V_min)/ε_max) and the samples over V. Exported for `scripts/em-reference-figure.ts` (the authors' run,
 * drawn the same way).
 */
export async function landscapeFigure(
  grid: EnergyGrid,
  epsilonMax: number,
  samples: Float32Array,
  mmd: { samples: number; floor: number; baseline: number },
  title: string,
  name = 'twoMoons',
): Promise<Figure> {
  const landscape = await plotEnergyLandscape(grid, {
    logScale: true,
    colorRange: 'auto',
    title: `Learned energy V (${name})`,
  });
  // p(x) ∝ exp(−V/ε_max), scaled to 1 at the grid's minimum of V
  let vMin = Infinity;
  for (const v of grid.values) if (v < vMin) vMin = v;
  const density = await plotEnergyLandscape(
    { ...grid, values: grid.values.map((v) => Math.exp(-(v - vMin) / epsilonMax)) },
    {
      contours: false,
      colorScheme: 'magma',
      colorLabel: `exp(−(V − V_min)/ε_max), ε_max = ${epsilonMax}`,
      title: `Boltzmann density of V at ε_max = ${epsilonMax}`,
    },
  );
  const overlay = await plotSamples(columns(samples), {
    energy: grid,
    logScale: true,
    colorRange: 'auto',
    contours: false,
    xRange: grid.xRange,
    yRange: grid.yRange,
    color: 'white',
    radius: 1.2,
    opacity: 0.6,
    title: `Tempered Langevin on V: MMD² ${mmd.samples.toFixed(4)} (floor ${mmd.floor.toFixed(4)}, noise ${mmd.baseline.toFixed(4)})`,
  });
  return combineFigures([landscape, density, overlay], { columns: 3, title });
}

mainGuard(import.meta.url, run);
