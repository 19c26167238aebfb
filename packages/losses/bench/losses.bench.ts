/**
 * `pnpm bench`: wall time of one training step (loss + gradient + Adam update) for CD-10 (Langevin negatives),
 * DSM and SSM on an MLP energy dim→128→128→1, at batch×dim 256×32 (and 1024×128 with EBM_BENCH_LARGE=1),
 * the sizes of TorchEBM's published benchmarks. Prints medians and writes bench-results/losses-<backend>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EnergyFunction, randomNormal, rngKey, type Sampler } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import {
  type BaseLoss,
  ContrastiveDivergence,
  DenoisingScoreMatching,
  SlicedScoreMatching,
  trainableVariables,
} from '../src/index.js';
import { Mala, MlpEnergy } from '../test/fixtures.js';

async function makeEnergy(dim: number): Promise<{ energy: EnergyFunction; source: string }> {
  try {
    const { MLPEnergy } = await import('@ebm/models');
    return {
      energy: new MLPEnergy({ inputDim: dim, widths: [128, 128], seed: 1 }),
      source: '@ebm/models MLPEnergy',
    };
  } catch {
    return { energy: new MlpEnergy(dim, 128, 1), source: 'test-local MlpEnergy' };
  }
}

async function makeSampler(energy: EnergyFunction): Promise<{ sampler: Sampler; source: string }> {
  try {
    const { LangevinDynamics } = await import('@ebm/samplers');
    return {
      sampler: new LangevinDynamics(energy, { stepSize: 1e-3 }),
      source: '@ebm/samplers LangevinDynamics',
    };
  } catch {
    return { sampler: new Mala(energy, 1e-3, false), source: 'test-local ULA' };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

test('losses bench', async () => {
  const sizes: [number, number][] = [[256, 32]];
  if (process.env.EBM_BENCH_LARGE === '1') sizes.push([1024, 128]);
  const reps = Number(process.env.EBM_BENCH_REPS ?? 7);
  const results: Record<string, unknown>[] = [];
  for (const [batch, dim] of sizes) {
    const { energy, source: energySource } = await makeEnergy(dim);
    const { sampler, source: samplerSource } = await makeSampler(energy);
    const losses: [string, BaseLoss][] = [
      ['CD-10', new ContrastiveDivergence(energy, { sampler, k: 10 })],
      ['DSM', new DenoisingScoreMatching(energy, { sigma: 0.1 })],
      ['SSM', new SlicedScoreMatching(energy, { nProjections: 1 })],
    ];
    const x = randomNormal(rngKey(0), [batch, dim]) as tf.Tensor2D;
    for (const [name, loss] of losses) {
      const opt = tf.train.adam(1e-4);
      const vars = trainableVariables(loss);
      const step = (i: number) => {
        const c = opt.minimize(() => loss.compute(x, { key: rngKey(i), metrics: false }).loss, true, vars);
        c?.dataSync();
        c?.dispose();
      };
      step(0); // warm-up
      const times: number[] = [];
      for (let i = 1; i <= reps; i++) {
        const t0 = performance.now();
        step(i);
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      const r = {
        loss: name,
        batch,
        dim,
        hidden: [128, 128],
        backend: tf.getBackend(),
        medianMs: ms,
        samplesPerSec: (batch * 1000) / ms,
        reps,
        energy: energySource,
        sampler: name === 'CD-10' ? samplerSource : undefined,
      };
      results.push(r);
      console.log(
        `${name.padEnd(6)} ${batch}×${dim}: median ${ms.toFixed(1)} ms/step (${r.samplesPerSec.toFixed(0)} samples/s, ${reps} reps)`,
      );
      opt.dispose();
    }
    x.dispose();
    (energy as { dispose?: () => void }).dispose?.();
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `losses-${tf.getBackend()}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
  console.log(`wrote ${file}`);
});
