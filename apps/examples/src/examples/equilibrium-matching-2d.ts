/**
 * Equilibrium Matching in 2-D (TorchEBM's `03-equilibrium-matching/01-equilibrium-matching-2d`): a time-invariant
 * TimeConditionedMLP trained with EquilibriumMatchingLoss (exact minibatch-OT pairs, see `COUPLING`) — implicit
 * field (`energyType: 'none'`) and, at full size, an explicit energy g = x·f (`'dot'`) — on two moons and eight gaussians, sampled by gradient descent
 * x ← x − η∇E on `EqMEnergy` from N(0, I) noise.
 *
 * Score: the sample-quality score of `lib/quality.ts` (multi-bandwidth MMD², 2000 samples vs 2000 held-out
 * points, beside uniform noise in the data's box — the baseline — and a second held-out set — the floor).
 *
 * **Early stopping.** In 2-D noise and data overlap, so the optimal time-invariant field is not zero on the data:
 * a long descent keeps sliding samples along the data toward a few attractors and MMD² rises again. The descent
 * is stopped at a total time T = η·steps chosen on a *validation* set (fresh points of the training
 * distribution, never the held-out set that is scored): MMD² to the validation set is read along the descent and
 * the best T kept. `loss.samplingTime()` (the ideal field's transport time, 0.3 with the defaults) is reported
 * beside it. The repulsive `InteractionModel` wrapper (diverse sampling) is run to the same T.
 */
import { CosineScheduler, mmdMulti } from '@ebm/core';
import { type DatasetName, makeDataset } from '@ebm/datasets';
import { EquilibriumMatchingLoss, fit } from '@ebm/losses';
import { EqMEnergy, InteractionModel, TimeConditionedMLP } from '@ebm/models';
import { plotSampleComparison } from '@ebm/viz/node';
import * as tf from '@tensorflow/tfjs-core';
import { heldOut, roundScore, SCORE_POINTS, scoreReference, scoreSamples } from '../lib/quality.js';
import { columns, context, type ExampleOptions, finish, lineChart, mainGuard, round } from './_shared.js';

/** Gradient descent x ← x − η∇E(x) from x0, calling `at(k, x)` after the given step counts. */
async function descend(
  energy: { gradient(x: tf.Tensor2D): tf.Tensor2D },
  x0: tf.Tensor2D,
  eta: number,
  checkpoints: readonly number[],
  at: (k: number, x: tf.Tensor2D) => Promise<void>,
): Promise<tf.Tensor2D> {
  let x = tf.clone(x0) as tf.Tensor2D;
  const total = Math.max(...checkpoints);
  for (let k = 1; k <= total; k++) {
    const g = energy.gradient(x);
    const next = tf.tidy(() => tf.sub(x, tf.mul(eta, g))) as tf.Tensor2D;
    tf.dispose([g, x]);
    x = next;
    if (checkpoints.includes(k)) await at(k, x);
  }
  return x;
}

/**
 * c(t) threshold a (TorchEBM's default 0.8, tuned for images). Between a and 1 the ideal field is
 * λ/(1 − a)·(E[x₁ | x] − x), a denoiser averaged over noise levels up to (1 − a)·|x₀|; in 2-D that blur (≈ 0.2 at
 * 0.8) is the size of the gap between the moons, so the descent's attractors lie between them. a = 0.95 blurs 4×
 * less (two moons, 1500 steps, T = 0.3: MMD² 0.047 at a = 0.8, 0.021 at 0.95, 0.017 at 0.98; 0.98 makes the
 * field's stiffness λ/(1 − a) = 200 reach η's stability limit 2/η).
 */
const CT_THRESHOLD = 0.95;

/** Descent steps at which MMD² is read (η = 0.01: T = 0.05 … 1.5, every 0.01 around the ideal field's 0.26). */
const CHECKPOINTS = [5, 10, 15, 20, 22, 23, 24, 25, 26, 27, 28, 30, 33, 40, 50, 60, 80, 100, 150];

/**
 * Coupling of noise and data. Exact minibatch OT pairs each noise draw with a nearby data point, so training
 * paths hardly cross and the time-invariant field at a point has one direction instead of the average of paths
 * going to both moons (two moons, 2000 steps, seed 0: MMD² 0.0159 with the independent pairing of TorchEBM's
 * default, 0.0051 with exact OT).
 */
const COUPLING = 'exactOt';

/** Runs the example. */
export async function run(
  options: ExampleOptions & {
    readonly datasets?: readonly DatasetName[];
    readonly energyTypes?: readonly ('none' | 'dot')[];
  } = {},
) {
  const ctx = context('equilibrium-matching-2d', options);
  const steps = ctx.smoke ? 400 : 2000;
  const nScore = ctx.smoke ? 400 : SCORE_POINTS;
  const eta = 0.01;
  const datasets = options.datasets ?? (['twoMoons', 'eightGaussians'] as const);
  const energyTypes = options.energyTypes ?? (['none'] as const);
  const results: Record<string, Record<string, unknown>> = {};
  for (const name of datasets) {
    const train = makeDataset(name, { nSamples: 8192, seed: ctx.seed + 1 }).toTensor();
    const ref = scoreReference(name, ctx.seed, nScore);
    const val = heldOut(name, nScore, 300_001 + ctx.seed);
    const noise = tf.randomNormal([nScore, 2], 0, 1, 'float32', ctx.seed + 4) as tf.Tensor2D;
    const curves: Record<string, number[]> = {};
    let chartSteps: number[] = [];
    for (const energyType of energyTypes) {
      const model = new TimeConditionedMLP({
        dim: 2,
        widths: ctx.smoke ? [64, 64] : [128, 128, 128],
        seed: ctx.seed,
      });
      const loss = new EquilibriumMatchingLoss(model, {
        energyType,
        ctThreshold: CT_THRESHOLD,
        coupling: COUPLING,
        seed: ctx.seed,
      });
      const t0 = performance.now();
      const res = await fit({
        loss,
        optimizer: tf.train.adam(3e-3),
        learningRate: new CosineScheduler(3e-3, 2e-4, steps),
        data: train,
        batchSize: ctx.smoke ? 128 : 256,
        steps,
        seed: ctx.seed,
      });
      const trainMs = performance.now() - t0;
      const energy = EqMEnergy.fromLoss(loss);
      const tIdeal = loss.samplingTime();
      const nIdeal = Math.round(tIdeal / eta);
      const cps = [...new Set([...CHECKPOINTS, nIdeal])].sort((a, b) => a - b);
      chartSteps = cps;
      // along the descent: MMD² to the validation set (chooses T) and to the held-out set (reported)
      const valCurve: number[] = [];
      const heldCurve: number[] = [];
      const samplesAt = new Map<number, Float32Array>();
      const t1 = performance.now();
      const last = await descend(energy, noise, eta, cps, async (k, x) => {
        const s = (await x.data()) as Float32Array;
        samplesAt.set(k, s);
        valCurve.push(round(mmdMulti(s, val, 2, { medianDistance: ref.medianDistance }), 5));
        heldCurve.push(round(scoreSamples(ref, s).mmd.samples, 5));
      });
      const sampleMs = performance.now() - t1;
      last.dispose();
      const best = cps[valCurve.indexOf(Math.min(...valCurve))]!;
      const chosen = samplesAt.get(best)!;
      const score = roundScore(scoreSamples(ref, chosen));
      // diverse sampling: a weak repulsion between chains during the same descent, stopped at the same T
      const repulsive = new InteractionModel(energy, { sigmaW: 1, strength: 0.1 / nScore });
      let repScore = Number.NaN;
      const rep = await descend(repulsive, noise, eta, [best], async (_k, x) => {
        repScore = round(scoreSamples(ref, (await x.data()) as Float32Array).mmd.samples, 5);
      });
      rep.dispose();
      await ctx.figure(
        `${name}-${energyType}-samples`,
        await plotSampleComparison(columns(ref.held), columns(chosen), {
          labels: ['held-out data', `EqM (${energyType}), T = ${round(best * eta, 3)}`],
          title: `${name}: EqM ${energyType}, MMD² ${score.mmd.samples.toFixed(4)} (floor ${score.mmd.floor.toFixed(4)}, noise ${score.mmd.baseline.toFixed(4)})`,
        }),
      );
      curves[`${energyType} (held-out)`] = heldCurve;
      curves[`${energyType} (validation)`] = valCurve;
      results[`${name}-${energyType}`] = {
        score,
        finalLoss: round(res.history.at(-1)!.loss),
        samplingTime: tIdeal,
        mmdAtSamplingTime: heldCurve[cps.indexOf(nIdeal)]!,
        stoppingTime: round(best * eta, 3),
        mmdRepulsive: repScore,
        descentTimes: cps.map((k) => round(k * eta, 3)),
        mmdAlongDescent: heldCurve,
        validationMmdAlongDescent: valCurve,
        trainSeconds: round(trainMs / 1000, 1),
        sampleSeconds: round(sampleMs / 1000, 1),
      };
      model.dispose();
    }
    await ctx.figure(
      `${name}-mmd-vs-descent-time`,
      await lineChart(
        chartSteps.map((k) => round(k * eta, 3)),
        curves,
        { title: `${name}: MMD² vs descent time T = η·steps` },
      ),
    );
    tf.dispose([train, noise]);
  }
  return finish(ctx, { steps, nScore, eta, results });
}

mainGuard(import.meta.url, run);
