/**
 * `pnpm bench`: PCD's replay buffer on WebGPU (lavapipe on CPU-only machines; skipped without an adapter) through
 * `@ebm/cuda`'s `replay.draw` / `replay.write` programs against core's composite tfjs ops (the kernels removed),
 * measured in the same run, rounds interleaved:
 * - buffer: one draw of B = 256 start points and one push of them into a buffer of 8192 × 2 (TorchEBM's PCD
 *   recipe), then a read of one value (the device work done), ms per draw + push;
 * - fit: a PCD-10 `fit()` step (2→128→128→1 SiLU MLP, batch 256, Langevin 0.1 / noise 1, Adam 1e-3, fused
 *   training step when registered), median of the intervals between `onStep` calls.
 * Prints medians and ratios (composite / kernels), writes bench-results/pcd-replay-webgpu.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { foldIn, normalArray, REPLAY_DRAW_KERNEL, REPLAY_WRITE_KERNEL, rngKey } from '@ebm/core';
import { withoutKernelImpls } from '@ebm/core/testing';
import { registerWebGpuKernels, setupWebGpu } from '@ebm/cuda';
import { MLPEnergy } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { fit, PersistentContrastiveDivergence, ReplayBuffer } from '../src/index.js';

const REPLAY = [REPLAY_DRAW_KERNEL, REPLAY_WRITE_KERNEL] as const;
let gpu = '';
try {
  await setupWebGpu();
  registerWebGpuKernels();
} catch (e) {
  gpu = String(e);
}

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

test.skipIf(gpu !== '')('PCD replay buffer bench (webgpu)', async () => {
  const B = 256;
  const D = 2;
  const steps = Number(process.env.EBM_BENCH_STEPS ?? 8);
  const rounds = Number(process.env.EBM_BENCH_REPS ?? 3);
  const data = tf.tensor2d(normalArray(rngKey(0), [3000, D]), [3000, D]);

  // Buffer alone.
  const buf = new ReplayBuffer({ capacity: 8192, reinitProbability: 0.05 });
  buf.fill(D, rngKey(1));
  let t = 0;
  const bufferOps = async (n: number) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const { start } = buf.draw(B, foldIn(rngKey(2), t++));
      buf.push(start);
      const probe = tf.slice(start, [0, 0], [1, 1]);
      await probe.data();
      tf.dispose([start, probe]);
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };

  // fit() PCD-10 steps.
  const energy = new MLPEnergy({ inputDim: D, widths: [128, 128], activation: 'silu', seed: 0 });
  const sampler = new LangevinDynamics(energy, { stepSize: 0.1, noiseScale: 1 });
  const loss = new PersistentContrastiveDivergence(energy, {
    sampler,
    k: 10,
    energyL2: 0.001,
    buffer: { capacity: 8192, reinitProbability: 0.05 },
  });
  const opt = tf.train.adam(1e-3);
  let fused = 0;
  const fitStep = async (n: number) => {
    const stamps: number[] = [];
    const r = await fit({
      loss,
      optimizer: opt,
      data,
      batchSize: B,
      steps: n + 1,
      seed: t++,
      checkpointEvery: n + 1,
      onStep: () => stamps.push(performance.now()),
    });
    fused = r.fusedSteps;
    return median(stamps.slice(1).map((s, k) => s - stamps[k]!));
  };

  await bufferOps(3);
  await withoutKernelImpls(REPLAY, 'webgpu', () => bufferOps(3));
  await fitStep(2);
  await withoutKernelImpls(REPLAY, 'webgpu', () => fitStep(2));
  const res = {
    buffer: { kernels: [] as number[], composite: [] as number[] },
    fit: { kernels: [] as number[], composite: [] as number[] },
  };
  for (let r = 0; r < rounds; r++) {
    res.buffer.kernels.push(await bufferOps(steps * 2));
    res.buffer.composite.push(await withoutKernelImpls(REPLAY, 'webgpu', () => bufferOps(steps * 2)));
    res.fit.kernels.push(await fitStep(steps));
    res.fit.composite.push(await withoutKernelImpls(REPLAY, 'webgpu', () => fitStep(steps)));
  }
  const rows = (['buffer', 'fit'] as const).map((what) => {
    const k = median(res[what].kernels);
    const c = median(res[what].composite);
    return { what, kernelsMs: k, compositeMs: c, ratio: c / k };
  });
  const adapter = (tf.backend() as unknown as { adapterInfo?: Record<string, unknown> }).adapterInfo ?? {};
  for (const r of rows) {
    console.log(
      `PCD replay ${r.what === 'buffer' ? 'draw + push (8192×2, B 256)' : `fit() PCD-10 step (fused steps ${fused})`}: kernels ${r.kernelsMs.toFixed(2)} ms, composite ${r.compositeMs.toFixed(2)} ms, composite / kernels ${r.ratio.toFixed(2)}`,
    );
  }
  buf.dispose();
  loss.dispose();
  opt.dispose();
  energy.dispose();
  data.dispose();
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pcd-replay-webgpu.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), adapter: adapter.description ?? adapter.vendor, rows, raw: res }, null, 2)}\n`,
  );
  console.log(`wrote ${file}`);
});
