/**
 * TorchEBM's documented recipe, run faithfully — and why it diverges.
 *
 * The recipe of TorchEBM's README and `examples/20-training/01-mcmc-losses/01-cd-k`: two moons in the
 * generator's coordinates (no standardisation), MLP 2 → 128 → 128 → 1 (SiLU), CD-10 with Langevin step
 * h = 0.1 and noise scale 1, energy regularisation λ = 0.001, Adam 1e-3, batch 256, 1000 updates.
 *
 * What happens (TorchEBM itself, run as written on an H200: `ANCHORS.md`): the loss
 * L = mean E(x⁺) − mean E(x⁻) + λ(mean E(x⁺)² + mean E(x⁻)²) falls to about −500 and stays there. −500 is −1/(2λ), the minimum of L when data and negatives are *perfectly separated*: with
 * E(x⁺) = a, E(x⁻) = b the loss a − b + λ(a² + b²) is smallest at a = −1/(2λ), b = +1/(2λ). The model has
 * stopped being a density and become a classifier of "data" vs "what 10 Langevin steps of size 0.1 produce".
 * Why the negatives never look like data: each step adds noise of standard deviation √(2h) ≈ 0.45 — wider
 * than the moons (noise 0.05) — and as soon as the energy is steep, the drift h·∇E overshoots the wells
 * (Langevin is unstable once h times the curvature exceeds 2), so the chains are thrown off the data, the
 * classifier gets easier, the slopes get steeper: a feedback loop that ends at the regulariser's bound.
 * Samples drawn afterwards from uniform noise with the same sampler fly far from the data. In @ebm (1000
 * updates, seed 0): loss −456, E(data) −481, E(neg) +406, MMD²_multi 2.49 against 0.071 for noise, 95 % of the
 * samples beyond radius 3 (the farthest at 89), and 0 roll-backs.
 *
 * Does the divergence guard catch it? Not the non-finite one: every number stays finite, the run diverges
 * *silently* in value space. `fit`'s **runaway guard** (on by default since issue 17) watches the energy gap
 * E(x⁻) − E(x⁺) instead: it fires when the smoothed gap exceeds ten times its running scale (and 100), rolls
 * back to the last calm checkpoint, retries with fresh keys and, as the recipe diverges again each time, stops
 * with `DIVERGED` after three roll-backs. Here it fires about 10 updates after the jump (the gap goes from ≈ 0.5
 * to ≈ 90 between updates 120 and 150), long before the loss reaches −1/(2λ). The example runs the recipe twice:
 * faithfully with the guard off (`runawayGuard: false`, TorchEBM's behaviour), and with the default guard.
 * What prevents the divergence is the recipe: a step size matched to the data's scale (standardised data,
 * h ≈ 0.001–0.01), a regulariser strong enough to bound the energies near the data's scale, and persistent
 * chains (see `persistent-cd`, and the measured recipes of `pnpm demo`). The example reports the score of
 * issue 17 (multi-bandwidth MMD² of 2000 samples vs held-out data, beside uniform noise) so the failure is a
 * number.
 *
 * Smoke size (tests): batch 32 and Adam 1e-2 (ten times the recipe's rate), so that the same runaway comes
 * within about 30 updates instead of about 140; 60 updates per run.
 */
import { disposeSampleResult, EbmError, rngKey } from '@ebm/core';
import { twoMoons } from '@ebm/datasets';
import { ContrastiveDivergence, fit, type RollbackEvent } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import { plotSampleComparison, plotTrainingCurves } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { scoreReference, scoreSamples } from '../lib/quality.js';
import { columns, context, type ExampleOptions, finish, mainGuard, round } from './_shared.js';

/** Runs the example. */
export async function run(options: ExampleOptions = {}) {
  const ctx = context('torchebm-recipe', options);
  const steps = ctx.smoke ? 60 : 1000;
  const batchSize = ctx.smoke ? 32 : 256;
  const learningRate = ctx.smoke ? 1e-2 : 1e-3;
  const lambda = 0.001;
  const train = twoMoons({ nSamples: 4096, seed: ctx.seed, shuffle: true }).data;
  const data = tf.tensor2d(Float32Array.from(train), [4096, 2]);

  // 2. the same recipe with fit's default runaway guard: it fires on the energy gap, rolls back, and stops
  const guarded = new MLPEnergy({ inputDim: 2, widths: [128, 128], activation: 'silu', seed: ctx.seed });
  const guardedLoss = new ContrastiveDivergence(guarded, {
    sampler: new LangevinDynamics(guarded, { stepSize: 0.1, noiseScale: 1 }),
    k: 10,
    energyL2: lambda,
    seed: ctx.seed,
  });
  const guardOptimizer = tf.train.adam(learningRate);
  const guardEvents: RollbackEvent[] = [];
  let guardError = '';
  let guardSteps = 0;
  try {
    const r = await fit({
      loss: guardedLoss,
      optimizer: guardOptimizer,
      data,
      batchSize,
      steps: ctx.smoke ? steps : 600,
      seed: ctx.seed,
      ...(ctx.smoke ? { maxRollbacks: 1, checkpointEvery: 10 } : {}),
      onRollback: (e) => {
        guardEvents.push(e);
      },
      onStep: (m) => {
        guardSteps = Math.max(guardSteps, m.step + 1);
      },
    });
    guardSteps = r.step;
  } catch (e) {
    if (!(e instanceof EbmError) || e.code !== 'DIVERGED') throw e;
    guardError = e.message;
  }
  guardOptimizer.dispose();
  guarded.dispose();

  // 1. TorchEBM's recipe as written, with the runaway guard off (TorchEBM has none)
  const energy = new MLPEnergy({ inputDim: 2, widths: [128, 128], activation: 'silu', seed: ctx.seed });
  const sampler = new LangevinDynamics(energy, { stepSize: 0.1, noiseScale: 1 });
  const loss = new ContrastiveDivergence(energy, { sampler, k: 10, energyL2: lambda, seed: ctx.seed });
  const optimizer = tf.train.adam(learningRate);
  const { history, rollbacks } = await fit({
    loss,
    optimizer,
    data,
    batchSize,
    steps,
    seed: ctx.seed,
    runawayGuard: false,
  });
  data.dispose();
  optimizer.dispose();

  // the issue-17 score: 2000 chains from uniform noise over the held-out data's box, the recipe's sampler
  const ref = scoreReference('twoMoons', ctx.seed, ctx.smoke ? 300 : 2000);
  const x0 = tf.tensor2d(ref.noise, [ref.noise.length / 2, 2]);
  const out = await sampler.sample({ x0, nSteps: ctx.smoke ? 50 : 500, seed: rngKey(ctx.seed + 11) });
  const samples = Float32Array.from((await out.samples.data()) as Float32Array, (v) =>
    Number.isFinite(v) ? v : 1e6,
  );
  x0.dispose();
  disposeSampleResult(out);
  const score = scoreSamples(ref, samples);
  let far = 0;
  let maxAbs = 0;
  for (let i = 0; i < samples.length; i += 2) {
    const r = Math.hypot(samples[i]!, samples[i + 1]!);
    maxAbs = Math.max(maxAbs, r);
    if (r > 3) far++;
  }
  const tail = history.slice(-Math.max(1, Math.floor(history.length / 10)));
  const mean = (f: (m: (typeof history)[number]) => number) =>
    tail.reduce((a, m) => a + f(m), 0) / tail.length;
  const lossEnd = mean((m) => m.loss);
  await ctx.figure(
    'training',
    await plotTrainingCurves(
      history.map((m) => ({ loss: m.loss, 'E+': m.energyPos ?? 0, 'E-': m.energyNeg ?? 0 })),
      {
        smoothing: 0.5,
        title: `TorchEBM recipe: loss → ${lossEnd.toFixed(0)} (−1/(2λ) = ${-1 / (2 * lambda)})`,
      },
    ),
  );
  const wide: [number, number] = [-4, 4];
  await ctx.figure(
    'samples',
    await plotSampleComparison(columns(ref.held), columns(samples), {
      labels: ['held-out data', 'Langevin h = 0.1 samples'],
      xRange: wide,
      yRange: wide,
      title: `TorchEBM recipe: MMD² ${score.mmd.samples.toFixed(3)} (noise ${score.mmd.baseline.toFixed(3)})`,
    }),
  );
  energy.dispose();
  return finish(ctx, {
    steps,
    lossEnd: round(lossEnd),
    /** The separated-classes optimum of the regularised CD loss. */
    separatedOptimum: -1 / (2 * lambda),
    energyPosEnd: round(mean((m) => m.energyPos ?? 0)),
    energyNegEnd: round(mean((m) => m.energyNeg ?? 0)),
    /** Roll-backs of the unguarded run (non-finite values only: none, every number stays finite). */
    unguardedRollbacks: rollbacks.length,
    /** The guarded run: roll-backs of the runaway guard, the update at which it first fired, its reason. */
    guardRollbacks: guardEvents.length,
    guardFiredAt: guardEvents[0]?.step ?? (guardError ? guardSteps : -1),
    guardReason: guardEvents[0]?.reason ?? (guardError ? 'energyGap' : ''),
    guardStopped: guardError.length > 0,
    guardError,
    mmdSamples: round(score.mmd.samples, 5),
    mmdNoise: round(score.mmd.baseline, 5),
    /** Share of samples farther than 3 from the origin (the data lie within about 1.5), and the farthest. */
    farShare: round(far / (samples.length / 2)),
    maxRadius: round(maxAbs),
  });
}

mainGuard(import.meta.url, run);
