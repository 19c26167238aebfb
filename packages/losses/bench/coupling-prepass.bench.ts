/**
 * `pnpm bench`: wall time per step of `fit()` with Equilibrium Matching (TimeConditionedMLP 2→128→128→2, batch
 * 256, 2-D) under three pairings, measured in the same run, interleaved: independent pairs (the baseline), exact OT
 * through the loss's asynchronous pre-pass (what `fit` does), and — on backends that read synchronously — exact
 * OT through the old sync path inside the tape (the pre-pass switched off). The ratios are the coupling's cost
 * and the pre-pass's overhead against the sync path. `EBM_BENCH_BACKEND=webgpu` runs it on WebGPU (lavapipe on a
 * CPU-only machine; there the sync path cannot run). Prints medians and ratios, writes
 * bench-results/coupling-prepass-<backend>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canReadSync } from '@ebm/core/internal';
import { twoMoons } from '@ebm/datasets';
import { TimeConditionedMLP } from '@ebm/models';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { EquilibriumMatchingLoss, fit } from '../src/index.js';

test('coupling pre-pass bench', async () => {
  if (process.env.EBM_BENCH_BACKEND === 'webgpu') {
    const { setupWebGpu } = await import('@ebm/cuda');
    await setupWebGpu();
  }
  const batch = Number(process.env.EBM_BENCH_BATCH ?? 256);
  const steps = Number(process.env.EBM_BENCH_STEPS ?? 10);
  const rounds = Number(process.env.EBM_BENCH_REPS ?? 3);
  const data = twoMoons({ nSamples: 4096, seed: 1 }).toTensor();
  const model = new TimeConditionedMLP({ dim: 2, widths: [128, 128], seed: 1 });
  const run = async (coupling: 'independent' | 'exactOt', prepass: boolean) => {
    const loss = new EquilibriumMatchingLoss(model, { coupling });
    if (!prepass) Object.defineProperty(loss, 'prepare', { value: undefined });
    const opt = tf.train.adam(1e-5);
    const t0 = performance.now();
    await fit({ loss, optimizer: opt, data, batchSize: batch, steps, checkpointEvery: steps, seed: 1 });
    const ms = (performance.now() - t0) / steps;
    opt.dispose();
    return ms;
  };
  const modes: [string, 'independent' | 'exactOt', boolean][] = [
    ['independent', 'independent', true],
    ['exactOt pre-pass', 'exactOt', true],
  ];
  if (canReadSync()) modes.push(['exactOt sync', 'exactOt', false]);
  for (const [, c, p] of modes) await run(c, p); // warm-up
  const times: Record<string, number[]> = Object.fromEntries(modes.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) for (const [name, c, p] of modes) times[name]!.push(await run(c, p));
  const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
  const base = med(times.independent!);
  const results = modes.map(([name]) => ({
    mode: name,
    msPerStep: med(times[name]!),
    ratio: med(times[name]!) / base,
  }));
  const backend = tf.getBackend();
  for (const r of results) {
    console.log(
      `${backend} batch ${batch}: ${r.mode.padEnd(17)} ${r.msPerStep.toFixed(1)} ms/step, ×${r.ratio.toFixed(2)} of independent`,
    );
  }
  const sync = results.find((r) => r.mode === 'exactOt sync');
  const pre = results.find((r) => r.mode === 'exactOt pre-pass')!;
  if (sync) console.log(`pre-pass / sync path: ×${(pre.msPerStep / sync.msPerStep).toFixed(3)}`);
  data.dispose();
  model.dispose();
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `coupling-prepass-${backend}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), batch, steps, results }, null, 2)}\n`,
  );
  console.log(`wrote ${file}`);
});
