#!/usr/bin/env node
/**
 * The CPU path (issue 12): core's fused CPU kernels and chain worker pool against a hand-written typed-array
 * loop and against composed tfjs ops on tfjs-cpu and tfjs-wasm, all in one run (ratios within the run).
 *
 * Sections (default: all):
 * - loop: DoubleWell 4096×32×100 Langevin — the fused `chain.doubleWell` kernel vs a hand-written Float32Array
 *   loop with the same Philox stream and inverse-CDF normals (target: within 1.5×); plus, for reference, the
 *   anchor's loop with xorshift + Box–Muller normals (a different, cheaper RNG).
 * - doubleWell: DoubleWell 4096×32×100 `LangevinDynamics` — fused with 1 and 2 workers (`runChainParallel`),
 *   fused in the calling thread (`sample()` on cpu), composite tfjs-cpu, composite tfjs-wasm.
 * - mlp: MLP 32→128→128→1 (SiLU) Langevin 4096×32 — fused `chain.mlp` (calling thread, 2 workers), `sample()` with
 *   `MLPEnergy.kernelHint` (the sampler picks chain.mlp) vs the same `sample()` with the hint hidden (composite
 *   autograd step loop) on tfjs-cpu and tfjs-wasm; 10 steps per run (100 with --full), reported per step.
 *
 * Timing: wall clock around the run plus the read-back of the samples (`await x.data()`), x0 drawn outside;
 * median of the repetitions; CPU time of this process too (wall clock on a shared machine includes waiting).
 * Results: bench-results/cpu-<timestamp>.json and bench-results/cpu-latest.json.
 *
 * Usage: node bench/cpu.mjs [--only loop|doubleWell|mlp] [--full] [--reps N] [--workers 1,2]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chainKernelName,
  foldIn,
  registerCpuKernels,
  rngKey,
  runChainParallel,
  runKernel,
  terminateChainWorkers,
  useBackend,
} from '@ebm/core';
import { DoubleWell, MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { LangevinDynamics } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (f) => {
  const i = args.indexOf(f);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = opt('--only');
const full = args.includes('--full');
const reps = Number(opt('--reps') ?? 3);
const workerCounts = (opt('--workers') ?? '1,2').split(',').map(Number);
const want = (s) => only === undefined || only === s;

const [B, D, N] = [4096, 32, 100];
const H = 0.01;
const results = {
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    availableParallelism: os.availableParallelism?.(),
    node: process.version,
    loadavg: os.loadavg(),
  },
  date: new Date().toISOString(),
  rows: [],
  ratios: {},
};

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Times `fn` (async ok) `n` times after `warm` warm-ups; returns the median wall and CPU ms. */
async function time(label, fn, { n = reps, warm = 1, steps = N, extra = {} } = {}) {
  for (let i = 0; i < warm; i++) await fn();
  const walls = [];
  const cpus = [];
  for (let i = 0; i < n; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    await fn();
    walls.push(performance.now() - t0);
    cpus.push(cpuMs() - c0);
  }
  const row = {
    label,
    medianMs: median(walls),
    cpuMs: median(cpus),
    walls,
    steps,
    msPerStep: median(walls) / steps,
    ...extra,
  };
  results.rows.push(row);
  console.log(
    `${label.padEnd(58)} ${row.medianMs.toFixed(0).padStart(7)} ms  (cpu ${row.cpuMs.toFixed(0)} ms, ${row.msPerStep.toFixed(2)} ms/step)`,
  );
  return row;
}

// ---------------------------------------------------------------------------------------------------------
// Hand-written loops (the baselines of the section "loop").

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const INV = 1 / 4294967296;
/** Acklam's Φ⁻¹ for p ≤ ½ (as core's normal-quantile.ts). */
function lowerQ(p) {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((-0.007784894002430293 * q - 0.3223964580411365) * q - 2.400758277161838) * q - 2.549732539343734) *
        q +
        4.374664141464968) *
        q +
        2.938163982698783) /
      ((((0.007784695709041462 * q + 0.3224671290700398) * q + 2.445134137142996) * q + 3.754408661907416) *
        q +
        1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((-39.69683028665376 * r + 220.9460984245205) * r - 275.9285104469687) * r + 138.357751867269) * r -
      30.66479806614716) *
      r +
      2.506628277459239) *
      q) /
    (((((-54.47609879822406 * r + 161.5858368580409) * r - 155.6989798598866) * r + 66.80131188771972) * r -
      13.28068155288572) *
      r +
      1)
  );
}
const toNormal = (u) => (u < 0x80000000 ? lowerQ((u + 0.5) * INV) : -lowerQ((0xffffffff - u + 0.5) * INV));

/** DoubleWell Langevin, Philox4x32-10 + inverse-CDF normals in core's flat layout: the same stream as the kernel. */
function handPhilox(x, keys, h, amp) {
  const n = x.length;
  const c4h = 8; // 4·barrierHeight (2)
  for (let t = 0; t < keys.length; t++) {
    const [k0i, k1i] = keys[t];
    for (let b = 0; b < n / 4; b++) {
      let c0 = b;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      let k0 = k0i;
      let k1 = k1i;
      for (let r = 0; r < 10; r++) {
        const lo0 = Math.imul(M0, c0) >>> 0;
        const hi0 = Math.round((M0 * c0 - lo0) * INV);
        const lo1 = Math.imul(M1, c2) >>> 0;
        const hi1 = Math.round((M1 * c2 - lo1) * INV);
        c0 = (hi1 ^ c1 ^ k0) >>> 0;
        c1 = lo1;
        c2 = (hi0 ^ c3 ^ k1) >>> 0;
        c3 = lo0;
        k0 = (k0 + W0) >>> 0;
        k1 = (k1 + W1) >>> 0;
      }
      const i = 4 * b;
      let v = x[i];
      x[i] = v - h * c4h * v * (v * v - 1) + amp * toNormal(c0);
      v = x[i + 1];
      x[i + 1] = v - h * c4h * v * (v * v - 1) + amp * toNormal(c1);
      v = x[i + 2];
      x[i + 2] = v - h * c4h * v * (v * v - 1) + amp * toNormal(c2);
      v = x[i + 3];
      x[i + 3] = v - h * c4h * v * (v * v - 1) + amp * toNormal(c3);
    }
  }
}

/** The anchor's loop: xorshift128+ state per run and Box–Muller normals (a different, cheaper RNG). */
function handXorshift(x, steps, h, amp, seed) {
  let s0 = seed | 1;
  let s1 = 0x9e3779b9;
  const next = () => {
    let a = s0;
    const b = s1;
    s0 = b;
    a ^= a << 23;
    a ^= a >>> 17;
    a ^= b ^ (b >>> 26);
    s1 = a;
    return ((s0 + s1) >>> 0) * INV + INV / 2;
  };
  const n = x.length;
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(next()));
      const th = 2 * Math.PI * next();
      let v = x[i];
      x[i] = v - h * 8 * v * (v * v - 1) + amp * r * Math.cos(th);
      v = x[i + 1];
      x[i + 1] = v - h * 8 * v * (v * v - 1) + amp * r * Math.sin(th);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

const dw = new DoubleWell({ barrierHeight: 2, b: 1 });
const amp = Math.sqrt(2 * H);
const key = rngKey(1);
const x0Data = Float32Array.from({ length: B * D }, (_, i) => Math.sin(i * 0.37) * 1.3);
const x0 = tf.tensor2d(x0Data, [B, D]);
const chainSettings = { stepSize: H, noiseScale: 1 };

if (want('loop')) {
  console.log(`\n[loop] DoubleWell ${B}×${D}×${N} Langevin, one thread`);
  const keys = Array.from({ length: N }, (_, t) => foldIn(key, t));
  const hand = await time('hand-written loop, Philox + inverse-CDF normals', () =>
    handPhilox(x0Data.slice(), keys, H, amp),
  );
  const fused = await time('fused chain.doubleWell kernel (cpu backend)', async () => {
    const out = runKernel(chainKernelName('doubleWell'), {
      method: 'langevin',
      x0,
      nSteps: N,
      key,
      params: dw.kernelHint.params,
      settings: chainSettings,
    });
    await out.data();
    out.dispose();
  });
  const xs = await time('hand-written loop, xorshift + Box-Muller (anchor)', () =>
    handXorshift(x0Data.slice(), N, H, amp, 7),
  );
  results.ratios.fusedOverHandPhilox = fused.medianMs / hand.medianMs;
  results.ratios.fusedOverHandPhiloxCpu = fused.cpuMs / hand.cpuMs;
  results.ratios.fusedOverHandXorshift = fused.medianMs / xs.medianMs;
  console.log(
    `  fused / hand-written (same stream): ${results.ratios.fusedOverHandPhilox.toFixed(2)}× wall, ${results.ratios.fusedOverHandPhiloxCpu.toFixed(2)}× cpu (target ≤ 1.5×)`,
  );
}

if (want('doubleWell')) {
  console.log(`\n[doubleWell] LangevinDynamics, DoubleWell ${B}×${D}×${N}, h = ${H}`);
  const sampler = new LangevinDynamics(dw, { stepSize: H, noiseScale: 1 });
  const run = async (nSteps = N) => {
    const r = await sampler.sample({ x0, nSteps, seed: 1 });
    await r.samples.data();
    r.samples.dispose();
  };
  const rows = {};
  for (const w of workerCounts) {
    rows[`w${w}`] = await time(`fused, ${w} worker${w > 1 ? 's' : ''} (runChainParallel)`, async () => {
      const r = await runChainParallel({
        kind: 'doubleWell',
        params: dw.kernelHint.params,
        method: 'langevin',
        settings: chainSettings,
        x0,
        nSteps: N,
        key,
        workers: w,
      });
      await r.x.data();
      r.x.dispose();
    });
  }
  rows.inThread = await time('fused, calling thread (sample() on cpu)', () => run());
  const unregister = registerCpuKernels();
  unregister(); // composite baselines: the fused chain kernels removed
  rows.cpu = await time('composite tfjs-cpu (sample(), kernels unregistered)', () => run(), { n: 1 });
  await import('@tensorflow/tfjs-backend-wasm');
  await useBackend('wasm');
  rows.wasm = await time('composite tfjs-wasm (sample())', () => run(), { n: 2 });
  await useBackend('cpu');
  registerCpuKernels();
  for (const [k, r] of Object.entries(rows)) {
    if (k === 'cpu') continue;
    results.ratios[`doubleWell_cpuComposite_over_${k}`] = rows.cpu.medianMs / r.medianMs;
  }
  results.ratios.doubleWell_wasmComposite_over_w2 = rows.wasm.medianMs / (rows.w2 ?? rows.inThread).medianMs;
  console.log(
    `  speed-up vs composite tfjs-cpu: ${Object.entries(rows)
      .filter(([k]) => k !== 'cpu')
      .map(([k, r]) => `${k} ${(rows.cpu.medianMs / r.medianMs).toFixed(1)}×`)
      .join(', ')}`,
  );
}

if (want('mlp')) {
  const steps = full ? 100 : 10;
  console.log(`\n[mlp] MLP 32→128→128→1 SiLU Langevin, ${B}×${D}×${steps}`);
  const mlp = new MLPEnergy({ inputDim: 32, widths: [128, 128], activation: 'silu', seed: 7 });
  mlp.training = false;
  // MLPEnergy's own kernel hint (core's MLPKernelParams over the live variables).
  const params = mlp.kernelHint.params;
  const rows = {};
  rows.fused = await time(
    'fused chain.mlp (cpu backend, calling thread)',
    async () => {
      const out = runKernel(chainKernelName('mlp'), {
        method: 'langevin',
        x0,
        nSteps: steps,
        key,
        params,
        settings: chainSettings,
      });
      await out.data();
      out.dispose();
    },
    { n: 1, warm: 0, steps },
  );
  rows.fused2 = await time(
    'fused chain.mlp, 2 workers (runChainParallel)',
    async () => {
      const r = await runChainParallel({
        kind: 'mlp',
        params,
        method: 'langevin',
        settings: chainSettings,
        x0,
        nSteps: steps,
        key,
        workers: 2,
      });
      await r.x.data();
      r.x.dispose();
    },
    { n: 1, warm: 0, steps },
  );
  const sampler = new LangevinDynamics(mlp, { stepSize: H, noiseScale: 1 });
  const run = async () => {
    const r = await sampler.sample({ x0, nSteps: steps, seed: 1 });
    await r.samples.data();
    r.samples.dispose();
  };
  // sample() with MLPEnergy.kernelHint: the sampler picks chain.mlp itself.
  rows.sampleFused = await time('sample() with kernelHint (fused chain.mlp, tfjs-cpu)', run, {
    n: 1,
    warm: 0,
    steps,
  });
  // The composite rows: the same energy with its hint hidden (the autograd step loop).
  const hint = mlp.kernelHint;
  Object.defineProperty(mlp, 'kernelHint', { value: undefined, configurable: true });
  rows.cpu = await time('composite tfjs-cpu (sample(), hint hidden: autograd)', run, {
    n: 1,
    warm: 0,
    steps,
  });
  await import('@tensorflow/tfjs-backend-wasm');
  await useBackend('wasm');
  rows.wasm = await time('composite tfjs-wasm (sample(), hint hidden: autograd)', run, {
    n: 1,
    warm: 1,
    steps,
  });
  Object.defineProperty(mlp, 'kernelHint', { value: hint, configurable: true });
  rows.wasmFused = await time('sample() with kernelHint on tfjs-wasm (chain.mlp, wasm SIMD)', run, {
    n: 1,
    warm: 1,
    steps,
  });
  await useBackend('cpu');
  results.ratios.mlp_sampleComposite_over_sampleFused = rows.cpu.medianMs / rows.sampleFused.medianMs;
  results.ratios.mlp_wasmComposite_over_wasmFused = rows.wasm.medianMs / rows.wasmFused.medianMs;
  console.log(
    `  sample(): hint hidden (composite) / with hint (fused) ${results.ratios.mlp_sampleComposite_over_sampleFused.toFixed(2)}× on tfjs-cpu, ${results.ratios.mlp_wasmComposite_over_wasmFused.toFixed(2)}× on tfjs-wasm`,
  );
  results.ratios.mlp_cpuComposite_over_fused = rows.cpu.medianMs / rows.fused.medianMs;
  results.ratios.mlp_wasm_over_fused = rows.wasm.medianMs / rows.fused.medianMs;
  results.ratios.mlp_wasm_over_fused2 = rows.wasm.medianMs / rows.fused2.medianMs;
  console.log(
    `  fused vs composite cpu ${results.ratios.mlp_cpuComposite_over_fused.toFixed(2)}×; wasm / fused ${results.ratios.mlp_wasm_over_fused.toFixed(2)} (< 1: wasm faster)`,
  );
}

await terminateChainWorkers();
const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', 'bench-results');
mkdirSync(dir, { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
writeFileSync(join(dir, `cpu-${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, 'cpu-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(
  `\nmachine: ${results.machine.cpu} ×${results.machine.cores}, node ${results.machine.node}, load ${results.machine.loadavg.map((l) => l.toFixed(1)).join(' ')}`,
);
console.log(`wrote bench-results/cpu-${stamp}.json`);
