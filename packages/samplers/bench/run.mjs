#!/usr/bin/env node
/**
 * Benchmark of @ebm/samplers on TorchEBM's grid (DoubleWell, chains × dim × steps):
 *   64×8×50, 256×32×100, 1024×128×200 (default), plus 4096×32×1000 with --large.
 * Samplers: LangevinDynamics (h = 0.01) and HMC (L = 10, ε = 0.01). Backends: cpu, and wasm when
 * @tensorflow/tfjs-backend-wasm is installed (--no-wasm to skip). For each case it prints wall time (whole
 * run incl. the final readback), samples/s (chains ÷ seconds, TorchEBM's definition), ms/step and tensors
 * allocated per step (tf.profile, fixed costs removed). The baseline is the composite-kernel path (core's
 * fallbacks); when a plugin registered backend kernels (--plugin <module> imports one), the registered path
 * is timed too. Results go to bench-results/<timestamp>.json and bench-results/latest.json.
 *
 * HMC at 1024×128×200 on cpu (about a minute) runs only with --full.
 *
 * Last, the `workers` option on cpu: the fused whole chain in the calling thread (`workers: 0`) against the same
 * run on 2 worker threads (`workers: 2`), same seed, with the speed-up ratio and a bit-identity check
 * (`workers` in the JSON; --no-workers skips it, --workers-only runs only it).
 *
 * Usage: pnpm bench [-- --full] [-- --large] [-- --only langevin|hmc] [-- --no-wasm] [-- --no-workers]
 *   [-- --workers-only] [-- --plugin @ebm/cuda]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BaseEnergy,
  chainKernelName,
  getKernelImpl,
  registerKernelImpl,
  unregisterKernelImpl,
  useBackend,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { HamiltonianMonteCarlo, LangevinDynamics } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const opt = (f) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};

/** DoubleWell E = h·Σ(x² − b²)², analytic gradient 4h·x(x² − b²) (TorchEBM's benchmark energy, h = 2, b = 1). */
class DoubleWell extends BaseEnergy {
  constructor(h = 2, b = 1) {
    super({ name: 'DoubleWell' });
    this.h = h;
    this.b = b;
    this.kernelHint = { kind: 'doubleWell', params: { barrierHeight: h, b } };
  }
  computeEnergy(x) {
    return tf.mul(this.h, tf.sum(tf.square(tf.sub(tf.square(x), this.b * this.b)), 1));
  }
  computeGradient(x) {
    return tf.mul(4 * this.h, tf.mul(x, tf.sub(tf.square(x), this.b * this.b)));
  }
}

const grid = [
  [64, 8, 50],
  [256, 32, 100],
  [1024, 128, 200],
];
if (flag('--large')) grid.push([4096, 32, 1000]);
/** HMC at 1024×128×200 takes about a minute on the cpu backend: only with --full (or --large). */
const skip = (backend, name, b, d) =>
  backend === 'cpu' && name.startsWith('HMC') && b * d >= 1024 * 128 && !flag('--full') && !flag('--large');
const only = opt('--only');
const samplers = [
  ['LangevinDynamics', (e) => new LangevinDynamics(e, { stepSize: 0.01 })],
  ['HMC(L=10)', (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.01, nLeapfrogSteps: 10 })],
].filter(([n]) => only === undefined || n.toLowerCase().startsWith(only.toLowerCase()));

const plugin = opt('--plugin');
if (plugin) await import(plugin);

const backends = ['cpu'];
if (!flag('--no-wasm')) {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    backends.push('wasm');
  } catch {
    console.log('(wasm backend not installed: skipping)');
  }
}

const KERNELS = [
  'randomNormal',
  'langevinStep',
  'momentumKick',
  'positionDrift',
  'leapfrogStep',
  'metropolisAccept',
  chainKernelName('doubleWell'),
];

/** Removes the active backend's registered kernels (so the composite fallbacks run); returns a restore fn. */
function forceComposite(backend) {
  const removed = [];
  for (const k of KERNELS) {
    const impl = getKernelImpl(k, backend);
    if (impl !== undefined) {
      unregisterKernelImpl(k, backend);
      removed.push([k, impl]);
    }
  }
  return () => {
    for (const [k, impl] of removed) registerKernelImpl(k, backend, impl, { override: true });
  };
}

function run(sampler, b, d, n, seed) {
  const r = sampler.sampleSync({ nSamples: b, dim: d, nSteps: n, seed });
  r.samples.dataSync();
  r.samples.dispose();
}

/** Tensors allocated by a run: difference of tfjs's global tensor ids (incremented on every allocation). */
function allocations(f) {
  const a = tf.scalar(0);
  f();
  const c = tf.scalar(0);
  const n = c.id - a.id - 1;
  tf.dispose([a, c]);
  return n;
}

/** Tensors allocated and kernels launched per step, with the fixed per-run costs removed (6 − 2 steps). */
async function perStep(sampler, b, d) {
  const allocs =
    (allocations(() => run(sampler, b, d, 6, 1)) - allocations(() => run(sampler, b, d, 2, 1))) / 4;
  const k2 = (await tf.profile(() => run(sampler, b, d, 2, 1))).kernels.length;
  const k6 = (await tf.profile(() => run(sampler, b, d, 6, 1))).kernels.length;
  return { tensorsPerStep: allocs, kernelsPerStep: (k6 - k2) / 4 };
}

const energy = new DoubleWell();
const results = [];
const t0 = Date.now();
for (const backend of flag('--workers-only') ? [] : backends) {
  await useBackend(backend);
  const registered = KERNELS.filter((k) => getKernelImpl(k, backend) !== undefined);
  const paths = registered.length > 0 ? ['composite', 'registered'] : ['composite'];
  for (const [name, make] of samplers) {
    const sampler = make(energy);
    for (const [b, d, n] of grid) {
      if (skip(backend, name, b, d)) {
        console.log(`${backend.padEnd(5)} ${name.padEnd(17)} ${`${b}×${d}×${n}`} skipped (pass --full)`);
        continue;
      }
      for (const path of paths) {
        const restore = path === 'composite' ? forceComposite(backend) : () => {};
        try {
          run(sampler, b, d, 2, 0); // warm-up
          const start = performance.now();
          run(sampler, b, d, n, 42);
          const ms = performance.now() - start;
          const { tensorsPerStep, kernelsPerStep } = await perStep(sampler, b, d);
          const row = {
            backend,
            sampler: name,
            path,
            chains: b,
            dim: d,
            steps: n,
            ms: Math.round(ms * 10) / 10,
            msPerStep: Math.round((ms / n) * 1000) / 1000,
            samplesPerSec: Math.round((b / ms) * 1000 * 10) / 10,
            tensorsPerStep,
            kernelsPerStep,
            registeredKernels: path === 'registered' ? registered : [],
          };
          results.push(row);
          console.log(
            `${backend.padEnd(5)} ${name.padEnd(17)} ${path.padEnd(10)} ${`${b}×${d}×${n}`.padEnd(15)} ` +
              `${row.ms.toFixed(1).padStart(10)} ms ${row.msPerStep.toFixed(3).padStart(9)} ms/step ` +
              `${row.samplesPerSec.toFixed(1).padStart(10)} samples/s ${String(tensorsPerStep).padStart(5)} tensors/step ${String(kernelsPerStep).padStart(5)} kernels/step`,
          );
        } finally {
          restore();
        }
      }
    }
  }
}
// The workers option: the fused whole chain in the calling thread (workers: 0, the same numbers as the cpu
// chain.<kind> kernel) against the same run on 2 worker threads (runChainParallel), same seed, same process.
const workerRows = [];
if (!flag('--no-workers')) {
  await useBackend('cpu');
  const wGrid = [
    ['LangevinDynamics', (e) => new LangevinDynamics(e, { stepSize: 0.01 }), 4096, 32, 500],
    ['HMC(L=10)', (e) => new HamiltonianMonteCarlo(e, { stepSize: 0.01, nLeapfrogSteps: 10 }), 2048, 32, 100],
  ].filter(([n]) => only === undefined || n.toLowerCase().startsWith(only.toLowerCase()));
  const timed = async (sampler, b, d, n, workers) => {
    const start = performance.now();
    const r = await sampler.sample({ nSamples: b, dim: d, nSteps: n, seed: 42, workers });
    const data = await r.samples.data();
    r.samples.dispose();
    return { ms: performance.now() - start, data, workers: r.workers };
  };
  for (const [name, make, b, d, n] of wGrid) {
    const sampler = make(energy);
    await timed(sampler, b, d, 2, 2); // warm-up: starts the workers
    await timed(sampler, b, d, 2, 0);
    const inThread = await timed(sampler, b, d, n, 0);
    const two = await timed(sampler, b, d, n, 2);
    const identical = inThread.data.every((v, i) => Object.is(v, two.data[i]));
    const row = {
      backend: 'cpu',
      sampler: name,
      path: 'fused in-thread vs workers: 2',
      chains: b,
      dim: d,
      steps: n,
      inThreadMs: Math.round(inThread.ms * 10) / 10,
      workersMs: Math.round(two.ms * 10) / 10,
      workers: two.workers,
      speedup: Math.round((inThread.ms / two.ms) * 100) / 100,
      identical,
    };
    workerRows.push(row);
    console.log(
      `cpu   ${name.padEnd(17)} workers    ${`${b}×${d}×${n}`.padEnd(15)} in-thread ${row.inThreadMs.toFixed(1)} ms, ` +
        `workers: 2 ${row.workersMs.toFixed(1)} ms → ${row.speedup}× (bit-identical: ${identical})`,
    );
  }
  const { terminateChainWorkers } = await import('@ebm/core');
  await terminateChainWorkers();
}

const out = {
  date: new Date().toISOString(),
  node: process.version,
  tfjs: tf.version_core,
  energy: 'DoubleWell(h=2, b=1), analytic gradient',
  settings: { langevin: { stepSize: 0.01 }, hmc: { stepSize: 0.01, nLeapfrogSteps: 10 } },
  totalSeconds: (Date.now() - t0) / 1000,
  results,
  workers: workerRows,
};
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');
mkdirSync(dir, { recursive: true });
const stamp = out.date.replace(/[:.]/g, '-');
writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify(out, null, 2)}\n`);
writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote bench-results/${stamp}.json (${out.totalSeconds.toFixed(1)} s)`);
