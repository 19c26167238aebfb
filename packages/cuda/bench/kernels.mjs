// pnpm bench (cuda): the fused WGSL kernels against the composite path, measured in the same run.
//  1. randomNormal [4096, 32]: core's host Philox + upload (the composite) vs the GPU Philox kernel, and
//     tf.randomNormal; on webgpu and on cpu.
//  2. one Langevin step on DoubleWell [4096, 32]: host noise + composite step vs GPU noise + fused step.
//  3. LangevinDynamics.sample on DoubleWell (h=2, b=1, step 0.01) [4096, 32] × 100 steps, the ANCHORS.md workload:
//     composite step loop, fused step loop, whole chain in one dispatch (webgpu), and the cpu composite.
// GPU timings include one read-back of the last result (queue order makes it wait for all work).
// Prints medians and ratios; writes bench-results/cuda-kernels.json. Run after `pnpm build`.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  chainKernelName,
  foldIn,
  langevinStepComposite,
  normalTensor,
  rngKey,
  runKernel,
  unregisterKernelImpl,
} from '@ebm/core';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { registerWebGpuKernels, setupWebGpu } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const [B, D] = [4096, 32];
const chainSteps = quick ? 20 : 100;
const reps = quick ? 3 : 5;

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Median ms per call of `fn` (returns a tensor), `inner` calls per timed block, read back once per block. */
async function time(fn, inner, r = reps) {
  for (let i = 0; i < 2; i++) {
    const t = fn(i);
    await t.data();
    t.dispose();
  }
  const ms = [];
  for (let k = 0; k < r; k++) {
    const t0 = performance.now();
    let last;
    for (let j = 0; j < inner; j++) {
      last?.dispose();
      last = fn(k * inner + j + 10);
    }
    await last.data();
    ms.push((performance.now() - t0) / inner);
    last.dispose();
  }
  return median(ms);
}

async function timeAsync(fn, r) {
  await fn(0);
  const ms = [];
  for (let k = 0; k < r; k++) {
    const t0 = performance.now();
    await fn(k + 1);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const energy = new DoubleWell();
const key = rngKey(1);
const shape = [B, D];
const unregisterAll = () => registerWebGpuKernels()();

async function suite(backend) {
  await tf.setBackend(backend);
  await tf.ready();
  registerWebGpuKernels();
  const out = { backend, rows: [] };
  const row = (name, ms, extra = {}) => out.rows.push({ name, ms, ...extra });

  // 1. random normals
  row('tf.randomNormal', await time(() => tf.randomNormal(shape), 5));
  row('randomNormal host Philox (composite)', await time((i) => normalTensor(foldIn(key, i), shape), 5));
  if (backend === 'webgpu') {
    row(
      'randomNormal GPU Philox (fused)',
      await time((i) => runKernel('randomNormal', { key: foldIn(key, i), shape }), 20),
    );
  }

  // 2. one Langevin step
  const x = normalTensor(key, shape);
  const step = (noise) => {
    const g = energy.gradient(x, { checkFinite: false });
    const fused = runKernel('langevinStep', { x, grad: g, noise, stepSize: 0.01, noiseScale: 1 });
    tf.dispose([g, noise]);
    return fused;
  };
  row(
    'Langevin step composite (host noise + composite step)',
    await time((i) => {
      const noise = normalTensor(foldIn(key, i), shape);
      const g = energy.gradient(x, { checkFinite: false });
      const y = langevinStepComposite({ x, grad: g, noise, stepSize: 0.01, noiseScale: 1 });
      tf.dispose([g, noise]);
      return y;
    }, 5),
  );
  if (backend === 'webgpu') {
    row(
      'Langevin step fused (GPU noise + fused step)',
      await time((i) => step(runKernel('randomNormal', { key: foldIn(key, i), shape })), 10),
    );
  }

  // 3. whole runs through the sampler
  const sampler = new LangevinDynamics(energy, { stepSize: 0.01 });
  const run = async (i) => {
    const { samples } = await sampler.sample({ x0: x, nSteps: chainSteps, seed: i });
    await samples.data();
    samples.dispose();
  };
  const r = backend === 'webgpu' ? reps : 2;
  if (backend === 'webgpu') {
    row(`sample ${chainSteps} steps: whole chain (chain.doubleWell)`, await timeAsync(run, r), {
      steps: chainSteps,
    });
    // fused step loop: every kernel except the whole chain
    unregisterKernelImpl(chainKernelName('doubleWell'), 'webgpu');
    row(`sample ${chainSteps} steps: fused step loop`, await timeAsync(run, r), { steps: chainSteps });
    unregisterAll();
    row(`sample ${chainSteps} steps: composite step loop`, await timeAsync(run, r), { steps: chainSteps });
    registerWebGpuKernels();
  } else {
    row(`sample ${chainSteps} steps: composite step loop`, await timeAsync(run, r), { steps: chainSteps });
  }
  x.dispose();
  return out;
}

const started = performance.now();
let gpuInfo = null;
let gpuError = null;
try {
  gpuInfo = await setupWebGpu();
} catch (e) {
  gpuError = String(e);
}
const results = [];
if (gpuInfo) results.push(await suite('webgpu'));
else console.warn(`[ebm] webgpu unavailable, cpu only: ${gpuError}`);
results.push(await suite('cpu'));

const find = (backend, prefix) =>
  results.find((s) => s.backend === backend)?.rows.find((r) => r.name.startsWith(prefix))?.ms;
const ratios = {};
const addRatio = (label, base, fast) => {
  if (base !== undefined && fast !== undefined) ratios[label] = base / fast;
};
addRatio(
  'randomNormal webgpu: host composite / GPU kernel',
  find('webgpu', 'randomNormal host'),
  find('webgpu', 'randomNormal GPU'),
);
addRatio(
  'Langevin step webgpu: composite / fused',
  find('webgpu', 'Langevin step composite'),
  find('webgpu', 'Langevin step fused'),
);
addRatio(
  'sample webgpu: composite loop / fused loop',
  find('webgpu', `sample ${chainSteps} steps: composite`),
  find('webgpu', `sample ${chainSteps} steps: fused`),
);
addRatio(
  'sample webgpu: composite loop / whole chain',
  find('webgpu', `sample ${chainSteps} steps: composite`),
  find('webgpu', `sample ${chainSteps} steps: whole`),
);
addRatio(
  'sample: cpu composite / webgpu whole chain',
  find('cpu', `sample ${chainSteps} steps: composite`),
  find('webgpu', `sample ${chainSteps} steps: whole`),
);

const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}`;
const adapter = gpuInfo ? `${gpuInfo.vendor}/${gpuInfo.architecture}` : 'none';
console.log(
  `@ebm/cuda kernels bench, [${B}, ${D}] float32, median of ${reps} (${machine}; adapter ${adapter})`,
);
for (const s of results) {
  console.log(`\n${s.backend}`);
  for (const r of s.rows) console.log(`  ${r.name.padEnd(58)} ${r.ms.toFixed(2).padStart(10)} ms`);
}
console.log('\nratios (higher = fused faster)');
for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(58)} ${v.toFixed(2).padStart(9)}x`);
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  'bench-results/cuda-kernels.json',
  `${JSON.stringify(
    { date: new Date().toISOString(), machine, adapter, shape: [B, D], chainSteps, reps, results, ratios },
    null,
    2,
  )}\n`,
);
console.log(
  `\nwrote bench-results/cuda-kernels.json in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
