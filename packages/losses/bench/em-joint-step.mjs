// Energy matching, one joint training step (flow term + tempered-Langevin negatives + contrastive term + Adam):
// the tempered chains through the fused whole-chain kernel (chain.mlp with per-step noiseScales) against the
// composite autograd step loop (the MLP's kernel hint hidden), measured in the same run: tfjs kernels per joint
// step (tf.profile) and median ms per joint step (read back each step). The example's model and sizes
// (MLP 2 → 128 → 128 → 128 → 1, SiLU; batch 256; coupling independent, the one that runs on webgpu).
//   node packages/losses/bench/em-joint-step.mjs [--backend webgpu|wasm|cpu] [--n-langevin 200] [--batch 256]
//     [--reps 3] [--coop] [--json out.json]   (--coop: force the cooperative MLP program on a software adapter)
// Run after `pnpm build`; on lavapipe set XDG_RUNTIME_DIR=/tmp.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { rngKey } from '@ebm/core';
import { withoutKernelHint } from '@ebm/core/testing';
import { twoMoons } from '@ebm/datasets';
import { EnergyMatchingLoss } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const backend = arg('backend', 'webgpu');
const nLangevin = Number(arg('n-langevin', 200));
const batch = Number(arg('batch', 256));
const reps = Number(arg('reps', 3));
const widths = String(arg('widths', '128,128,128')).split(',').map(Number);

if (backend === 'webgpu') {
  const { registerWebGpuKernels, setupWebGpu } = await import('@ebm/cuda');
  await setupWebGpu();
  registerWebGpuKernels();
  if (process.argv.includes('--coop')) {
    // The cooperative MLP program (what hardware adapters run by default; software adapters such as lavapipe run
    // the one-thread-per-chain program unless settings.mlpCooperative forces it).
    const { chainKernelName, getKernelImpl, registerKernelImpl } = await import('@ebm/core');
    const name = chainKernelName('mlp');
    const impl = getKernelImpl(name, 'webgpu');
    registerKernelImpl(
      name,
      'webgpu',
      (i) => impl({ ...i, settings: { ...i.settings, mlpCooperative: 1 } }),
      {
        override: true,
      },
    );
  }
} else if (backend === 'wasm') {
  // @ebm/losses has no wasm backend dependency: the examples app's copy (the same tfjs-core in the store).
  const req = createRequire(new URL('../../../apps/examples/package.json', import.meta.url));
  await import(req.resolve('@tensorflow/tfjs-backend-wasm'));
  await tf.setBackend('wasm');
} else {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
}
await tf.ready();

const V = new MLPEnergy({ inputDim: 2, widths, seed: 0 });
const loss = new EnergyMatchingLoss(V, {
  coupling: 'independent',
  nLangevinSteps: nLangevin,
  langevinDt: 2 / nLangevin,
  warmupSteps: 0,
  seed: 0,
});
const data = twoMoons({ nSamples: batch, seed: 1 }).toTensor();
const optimizer = tf.train.adam(1e-4);
const step = (i) => {
  let neg;
  const cost = optimizer.minimize(
    () => {
      const r = loss.compute(data, { key: rngKey(i), metrics: false });
      neg = r.negatives;
      return r.loss;
    },
    true,
    V.trainableVariables,
  );
  neg?.dispose();
  return cost;
};

async function measure(label) {
  const warm = step(0);
  await warm.data();
  warm.dispose();
  const prof = await tf.profile(async () => {
    const c = step(1);
    await c.data();
    c.dispose();
  });
  const kernels = prof.kernels.length;
  const ms = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const c = step(2 + r);
    await c.data();
    c.dispose();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const med = ms[Math.floor(ms.length / 2)];
  console.log(
    `${label}: ${kernels} kernels per joint step, ${med.toFixed(0)} ms per joint step (median of ${reps})`,
  );
  return { kernels, ms: med };
}

const fused = await measure('fused chain.mlp (noiseScales)');
const composite = await withoutKernelHint(V, () => measure('composite step loop'));
const out = {
  backend,
  adapter: backend === 'webgpu' ? 'see setupWebGpu' : os.cpus()[0]?.model,
  nLangevin,
  batch,
  widths,
  fused,
  composite,
  kernelRatio: composite.kernels / fused.kernels,
  speedup: composite.ms / fused.ms,
};
console.log(
  `ratio: ${out.kernelRatio.toFixed(1)}× fewer kernels, ${out.speedup.toFixed(2)}× faster (${backend}, ${os.cpus().length} cores)`,
);
const json = arg('json', undefined);
if (json) writeFileSync(json, JSON.stringify(out, null, 2));
data.dispose();
V.dispose();
