/**
 * `pnpm bench`: wall time per step of `fit()` (CD-10 with Langevin negatives, DSM; MLP energy dim→128→128→1,
 * batch×dim 256×32) against a bare loop measured in the same run (`optimizer.minimize` with metrics off and
 * one read of the loss): the ratio is fit's overhead (metrics, gradient norm, checkpoints). Prints medians and
 * ratios, writes bench-results/fit-<backend>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomNormal, rngKey } from '@ebm/core';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import {
  type BaseLoss,
  ContrastiveDivergence,
  DenoisingScoreMatching,
  fit,
  trainableVariables,
} from '../src/index.js';

test('fit bench', async () => {
  const batch = 256;
  const dim = 32;
  const steps = Number(process.env.EBM_BENCH_STEPS ?? 20);
  const rounds = Number(process.env.EBM_BENCH_REPS ?? 3);
  const energy = new MLPEnergy({ inputDim: dim, widths: [128, 128], seed: 1 });
  const sampler = new LangevinDynamics(energy, { stepSize: 1e-3 });
  const x = randomNormal(rngKey(0), [batch, dim]) as tf.Tensor2D;
  const losses: [string, BaseLoss][] = [
    ['CD-10', new ContrastiveDivergence(energy, { sampler, k: 10 })],
    ['DSM', new DenoisingScoreMatching(energy, { sigma: 0.1 })],
  ];
  const results: Record<string, unknown>[] = [];
  for (const [name, loss] of losses) {
    const vars = trainableVariables(loss);
    const bare = async () => {
      const opt = tf.train.adam(1e-5);
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) {
        const c = opt.minimize(() => loss.compute(x, { key: rngKey(i), metrics: false }).loss, true, vars);
        await c?.data();
        c?.dispose();
      }
      const ms = (performance.now() - t0) / steps;
      opt.dispose();
      return ms;
    };
    const viaFit = async () => {
      const opt = tf.train.adam(1e-5);
      const t0 = performance.now();
      await fit({ loss, optimizer: opt, data: x, steps, checkpointEvery: steps });
      const ms = (performance.now() - t0) / steps;
      opt.dispose();
      return ms;
    };
    await bare(); // warm-up
    const b: number[] = [];
    const f: number[] = [];
    for (let r = 0; r < rounds; r++) {
      b.push(await bare());
      f.push(await viaFit());
    }
    const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
    const r = { loss: name, batch, dim, backend: tf.getBackend(), bareMs: med(b), fitMs: med(f) };
    results.push({ ...r, ratio: r.fitMs / r.bareMs });
    console.log(
      `${name.padEnd(6)} ${batch}×${dim}: bare ${r.bareMs.toFixed(1)} ms/step, fit ${r.fitMs.toFixed(1)} ms/step, ratio ${(r.fitMs / r.bareMs).toFixed(3)}`,
    );
  }
  x.dispose();
  energy.dispose();
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `fit-${tf.getBackend()}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
  console.log(`wrote ${file}`);
});
