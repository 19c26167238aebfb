// @ebm side of the GPU comparison with TorchEBM (see README.md beside this file). Bundled with esbuild
// (`webgpu` kept external) and run on the device machine with the GPU kit's node.
//
//   node ebm.mjs SECTION [--small] [--reps N]
//   SECTION: info | prof (fixed-cost breakdown) | lgv:<i> (i = 0: 4096x32x1000, 1: 65536x32x200, 2: 1048576x32x50)
//            | kinds (every analytic energy, 4096x32x1000: whole chain, traced diagnostics / thinned trajectory)
//            | hmc | mala | nuts | mlp | cpu | wasm | dump-mlp (writes the MLP weights as JSON for the python side)
//            | train (CD-10 / PCD-10 training step, TorchEBM's two-moons recipe: median ms per optimizer step; PCD's
//              fit() rows with the replay buffer through the replay.draw / replay.write kernels and the composite)
//            | mlpcoop (the cooperative MLP Langevin program vs the one-thread-per-chain program, mlp workload)
//            | nanhunt (where the DoubleWell whole chain's non-finite chains come from; chain-sections.mjs)
//            | chainprof (a whole-chain sample() vs the bare kernel and each piece of its fixed cost; chain-sections.mjs)
//            | chainsweep (the separable whole-chain program's code variants: unroll, workgroup, hoisted Philox rounds,
//              branch-free normals; bare kernel and sample() per variant, interleaved rounds, bit-identity check;
//              sweep-sections.mjs)
//            | floor (raw Dawn round trips, no tfjs: the latency floor of a whole-chain sample(); floor-sections.mjs)
//            | mlpshape (the cooperative program's shape c x t forced through settings.mlpCoopShape vs the default:
//              bare chain.mlp + read-back at 256x2x10 with 2-128-128-1 and 4096x32x100 with 32-128-128-1)
//            | mlpsweep (every chain.mlp program variant x shape, settings.mlpVariant 'coop' / 'tile:<c>x<t>x<rc>x<ru>',
//              at 4096x32x100 32-128-128-1 SiLU seed 7, interleaved reps, maxAbsDiff vs default; mlp-sections.mjs)
//            | emflow (Energy Matching flow-only fit() step, 2-128-128-128-1 SiLU: fused train.mlpGradientRegression vs
//              autograd double backprop; tfjs kernels, dispatches and reads per step; flow-sections.mjs)
//            | trainfused (CD-10 / PCD-10 fit() steps: fused train.mlpContrastiveAdam vs autograd, per-step medians and
//              spread, dispatches and reads per step, and the fused step's phases: chain, gradient, Adam, read-back;
//              PCD also with the replay buffer's composite tfjs ops instead of the replay kernels)
// Copied from ../shared/gpu/compare/ (2026-11-29) and extended for @ebm/cuda issue 11; no shim is needed any
// more: setupWebGpu() imports @tensorflow/tfjs-backend-webgpu literally, so esbuild bundles it.
//
// Every timed run is wall clock around `await sampler.sample(...)` plus `await samples.data()` (the full
// read-back of the final samples). Prints one `RESULT {json}` line per measured path (and appends it to
// $OUT/ebm.jsonl when OUT is set).
import { appendFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chainKernelName,
  foldIn,
  getKernelImpl,
  MLP_CONTRASTIVE_ADAM_KERNEL,
  REPLAY_DRAW_KERNEL,
  REPLAY_WRITE_KERNEL,
  randomNormal,
  randomUniform,
  registerKernelImpl,
  rngKey,
  unregisterKernelImpl,
  useBackend,
} from '@ebm/core';
import {
  chainTraceKernelName,
  registerWebGpuKernels,
  setDefaultMlpVariant,
  setSeparableChainVariant,
  setupWebGpu,
} from '@ebm/cuda';
import * as M from '@ebm/models';
import { DoubleWell, MLPEnergy } from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA, NUTS } from '@ebm/samplers';
import * as tfCpu from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
// @ebm/cuda cannot depend on @ebm/losses or @ebm/datasets (they depend on it for their tests): their built dist,
// by path (esbuild bundles it the same way).
import { twoMoons } from '../../datasets/dist/index.js';
import { ContrastiveDivergence, fit, PersistentContrastiveDivergence } from '../../losses/dist/index.js';
import { sectionChainprof, sectionNanhunt } from './chain-sections.mjs';
import { sectionFloor } from './floor-sections.mjs';
import { sectionEmFlow } from './flow-sections.mjs';
import { sectionMlpSweep } from './mlp-sections.mjs';
import { sectionChainsweep } from './sweep-sections.mjs';
import { median, spread, timeCalls } from './timing.mjs';
import { twoMoonsTraining } from './train-setup.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// @ebm/core loads the cpu backend through createRequire (an optional peer), which a bundle cannot see: import it.
if (tfCpu.version_cpu === undefined) throw new Error('tfjs-backend-cpu missing');
const args = process.argv.slice(2);
const section = args[0] ?? 'info';
const small = args.includes('--small');
const repsArg = args.indexOf('--reps') >= 0 ? Number(args[args.indexOf('--reps') + 1]) : undefined;
const budgetArg = args.indexOf('--budget') >= 0 ? Number(args[args.indexOf('--budget') + 1]) : undefined;
// Program variants for every section (set from a sweep's best, e.g. by the device script): EBM_CHAIN_VARIANT='u2/w128',
// EBM_MLP_VARIANT='tile:16x64x8x4' (internal settings of @ebm/cuda; bit-identical / float-rounding-equal results).
if (process.env.EBM_CHAIN_VARIANT) setSeparableChainVariant(process.env.EBM_CHAIN_VARIANT);
if (process.env.EBM_MLP_VARIANT) setDefaultMlpVariant(process.env.EBM_MLP_VARIANT);

const SIZES = small
  ? [
      [64, 32, 20],
      [256, 32, 10],
      [1024, 32, 5],
    ]
  : [
      [4096, 32, 1000],
      [65536, 32, 200],
      [1048576, 32, 50],
    ];

/** Full row to $OUT/ebm.jsonl (or stdout without OUT); a one-line summary to stdout. */
function emit(row) {
  const line = JSON.stringify(row);
  if (process.env.OUT) appendFileSync(join(process.env.OUT, 'ebm.jsonl'), `${line}\n`);
  else console.log(`RESULT ${line}`);
  const st = row.stats;
  const size = row.chains ? `${row.chains}x${row.dim}x${row.stepsRun ?? row.steps}` : '';
  const err = row.error ? ` ERROR ${String(row.error).split('\n')[0].slice(0, 300)}` : '';
  const dawn = row.dawnErrors?.length ? ` DAWN ${row.dawnErrors[0].slice(0, 200)}` : '';
  const num =
    row.medianMs !== undefined && !st
      ? ` med ${row.medianMs.toFixed(3)} ms [${row.minMs.toFixed(2)}..${row.maxMs.toFixed(2)}] n=${row.n}`
      : row.medianMs !== undefined
        ? ` med ${row.medianMs.toFixed(2)} ms [${row.minMs.toFixed(1)}..${row.maxMs.toFixed(1)}] n=${row.n} E|x|=${st.eAbs.toFixed(4)} Ex2=${st.eSq.toFixed(4)} nf=${st.nonFinite} leak=${row.leak.tensors}`
        : '';
  const info =
    row.section === 'info'
      ? ` ${JSON.stringify({ info: row.info, adapterInfo: row.adapterInfo, limits: row.limits, cpu: row.cpu })}`
      : '';
  console.log(
    `S ebm ${row.section ?? ''} ${size} | ${row.path ?? ''}${num}${err}${dawn}${row.meanAcceptance !== undefined ? ` acc=${row.meanAcceptance}` : ''}${info}`,
  );
}

/** Moments of final samples [B, D]: E|x|, E[x²] over finite entries; per-coordinate mean/var averaged. */
function stats(data, B, D) {
  let nonFinite = 0;
  let sAbs = 0;
  let sSq = 0;
  let n = 0;
  const cs = new Float64Array(D);
  const cq = new Float64Array(D);
  const cn = new Float64Array(D);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < D; j++) {
      const v = data[i * D + j];
      if (!Number.isFinite(v)) {
        nonFinite++;
        continue;
      }
      n++;
      sAbs += Math.abs(v);
      sSq += v * v;
      cs[j] += v;
      cq[j] += v * v;
      cn[j] += 1;
    }
  }
  let mean = 0;
  let vr = 0;
  for (let j = 0; j < D; j++) {
    const m = cs[j] / cn[j];
    mean += m / D;
    vr += (cq[j] / cn[j] - m * m) / D;
  }
  const eAbs = sAbs / n;
  const eSq = sSq / n;
  // Monte-Carlo standard errors over all finite entries (independent chains and coordinates).
  let vAbs = 0;
  let vSq = 0;
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (!Number.isFinite(v)) continue;
    vAbs += (Math.abs(v) - eAbs) ** 2;
    vSq += (v * v - eSq) ** 2;
  }
  return {
    nonFinite,
    eAbs,
    eSq,
    seAbs: Math.sqrt(vAbs / (n - 1) / n),
    seSq: Math.sqrt(vSq / (n - 1) / n),
    mean,
    var: vr,
  };
}

function mem() {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU };
}

/**
 * Times `run(seed)` (which returns the SampleResult promise): `warm` warm-up runs (warmOpts may shrink them),
 * then up to `reps` timed runs, stopping early once `budgetMs` is spent (at least `minReps`).
 */
async function measure(label, meta, run, { warm = 1, reps = 5, minReps = 1, budgetMs = Infinity, B, D }) {
  const before = mem();
  const errors = [];
  // EBM_WARM_MS: run the timed call back to back for that long first, so the GPU is at its sustained clocks (an idle
  // H200 starts a ~1 ms kernel at lower clocks; TorchEBM's Triton row runs right after its heavy eager rows).
  const warmMs = Number(process.env.EBM_WARM_MS ?? 0);
  for (let t0 = performance.now(), n = 0; warmMs > 0 && performance.now() - t0 < warmMs && n < 2000; n++) {
    const r = await run(3000 + n, false);
    await r.samples.data();
    r.samples.dispose();
  }
  for (let w = 0; w < warm; w++) {
    const r = await run(1000 + w, true);
    await r.samples.data();
    r.samples.dispose();
  }
  const ms = [];
  let last;
  const started = performance.now();
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    const r = await run(k + 1, false);
    const data = await r.samples.data();
    const t1 = performance.now();
    ms.push(t1 - t0);
    r.samples.dispose();
    last = data;
    if (k + 1 >= minReps && performance.now() - started > budgetMs) break;
  }
  const after = mem();
  const row = {
    side: 'ebm',
    ...meta,
    path: label,
    backend: tf.getBackend(),
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    n: ms.length,
    ms: ms.map((v) => Math.round(v * 100) / 100),
    stats: stats(last, B, D),
    leak: { tensors: after.numTensors - before.numTensors, bytes: after.numBytes - before.numBytes },
    errors,
  };
  emit(row);
  return row;
}

async function gpu() {
  const info = await setupWebGpu();
  registerWebGpuKernels();
  return info;
}

// Dawn reports WebGPU validation errors asynchronously; collect what it prints as uncaptured errors.
const dawnErrors = [];
function watchDevice() {
  const dev = tf.backend().device;
  if (dev && typeof dev.addEventListener === 'function') {
    dev.addEventListener('uncapturederror', (e) => {
      const msg = String(e?.error?.message ?? e);
      if (dawnErrors.length < 20) dawnErrors.push(msg.slice(0, 400));
      console.error(`[dawn uncapturederror] ${msg.slice(0, 400)}`);
    });
  }
}

const dw = () => new DoubleWell({ barrierHeight: 2, b: 1 });

async function sectionInfo() {
  const info = await gpu();
  const dev = tf.backend().device;
  const a = tf.backend().adapterInfo ?? {};
  const lim = dev?.limits ?? {};
  emit({
    side: 'ebm',
    section: 'info',
    info,
    adapterInfo: {
      vendor: a.vendor,
      architecture: a.architecture,
      description: a.description,
      device: a.device,
    },
    limits: {
      maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
    },
    node: process.version,
    tfjs: tf.version_core,
    cpu: `${os.cpus()[0]?.model} x${os.cpus().length}`,
  });
}

async function sectionLangevin(i) {
  await gpu();
  watchDevice();
  const [B, D, N] = SIZES[i];
  const meta = {
    section: 'langevin',
    energy: 'DoubleWell(h=2,b=1)',
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
  };
  const sampler = new LangevinDynamics(dw(), { stepSize: 0.01, noiseScale: 1 });
  const run = (seed, warm) =>
    sampler.sample({ nSamples: B, dim: D, nSteps: warm ? Math.min(N, 50) : N, seed });
  const reps = repsArg ?? 7;
  const big = B * D >= 1048576 * 32;
  const mid = B * D >= 65536 * 32;
  const guard = async (label, f) => {
    dawnErrors.length = 0;
    try {
      const row = await f();
      if (dawnErrors.length) emit({ side: 'ebm', ...meta, path: label, dawnErrors: [...dawnErrors] });
      return row;
    } catch (e) {
      emit({ side: 'ebm', ...meta, path: label, error: String(e?.stack ?? e).slice(0, 1500), dawnErrors });
    }
  };
  // 1. whole chain: chain.doubleWell registered, no trajectory/diagnostics requested.
  await guard('webgpu whole chain (chain.doubleWell)', () =>
    measure('webgpu whole chain (chain.doubleWell)', meta, run, { warm: 1, reps, B, D }),
  );
  // 2. per-step loop with the fused kernels: chain.doubleWell unregistered (randomNormal + langevinStep stay).
  unregisterKernelImpl(chainKernelName('doubleWell'), 'webgpu');
  await guard('webgpu per-step fused (chain kernel unregistered)', () =>
    measure('webgpu per-step fused (chain kernel unregistered)', meta, run, {
      warm: 1,
      reps: Math.min(reps, 5),
      minReps: 5,
      budgetMs: 60_000,
      B,
      D,
    }),
  );
  // 3. composite: every @ebm/cuda kernel unregistered (host Philox noise + tfjs ops).
  registerWebGpuKernels()();
  // The composite draws noise on the host (core's Philox, ~40-120 ns per normal) and uploads it every step, so
  // the large sizes run fewer steps (reported as stepsRun; scale by steps/stepsRun for the full run).
  const compSteps = big ? 2 : mid ? 20 : N;
  const compRun = (seed, warm) => sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 1 : compSteps, seed });
  await guard(`webgpu composite (kernels unregistered)${compSteps !== N ? ` ${compSteps} steps` : ''}`, () =>
    measure(
      `webgpu composite (kernels unregistered)${compSteps !== N ? ` ${compSteps} steps` : ''}`,
      { ...meta, stepsRun: compSteps },
      compRun,
      { warm: 1, reps: 5, minReps: 3, budgetMs: budgetArg ?? (big ? 20_000 : 45_000), B, D },
    ),
  );
  // 4. per-step loop forced by diagnostics (kernels registered again): a public-API way to leave the chain
  //    kernel, which also computes per-step mean/var/energy. Only at the first size (time).
  if (i === 0) {
    registerWebGpuKernels();
    const diagRun = (seed, warm) =>
      sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 50 : N, seed, diagnostics: true }).then((r) => {
        for (const t of Object.values(r.diagnostics ?? {})) t.dispose();
        return r;
      });
    await guard('webgpu per-step via diagnostics:true', () =>
      measure('webgpu per-step via diagnostics:true', meta, diagRun, {
        warm: 1,
        reps: 5,
        budgetMs: 40_000,
        B,
        D,
      }),
    );
  }
}

/**
 * The public API's traced paths at size 0 (DoubleWell 4096×32×1000): the whole chain, `diagnostics: true` and a
 * thinned trajectory of x (thin 10) — with `chainTrace.doubleWell` these stay on the GPU instead of the step loop.
 */
async function sectionDiag() {
  await gpu();
  watchDevice();
  const [B, D, N] = SIZES[0];
  const meta = {
    section: 'diag',
    energy: 'DoubleWell(h=2,b=1)',
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
  };
  const sampler = new LangevinDynamics(dw(), { stepSize: 0.01, noiseScale: 1 });
  const reps = repsArg ?? 7;
  // The traces are read back too (what a user does with them), then freed; the timed read is of the samples.
  const dispose = async (r) => {
    const ts = [...Object.values(r.diagnostics ?? {}), ...Object.values(r.trajectory ?? {})].filter(
      (t) => t?.data,
    );
    await Promise.all(ts.map((t) => t.data()));
    for (const t of ts) t.dispose();
    return r;
  };
  const rows = [
    ['webgpu whole chain (public API)', {}],
    ['webgpu diagnostics:true (public API)', { diagnostics: true }],
    ['webgpu trajectory thin 10 (public API)', { trajectory: true, thin: 10 }],
  ];
  for (const [label, extra] of rows) {
    const run = (seed, warm) =>
      sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 50 : N, seed, ...extra }).then(dispose);
    try {
      await measure(label, meta, run, { warm: 1, reps, budgetMs: 40_000, B, D });
    } catch (e) {
      emit({ side: 'ebm', ...meta, path: label, error: String(e?.stack ?? e).slice(0, 1500) });
    }
  }
}

async function sectionHmc() {
  await gpu();
  watchDevice();
  const [B, D, N] = small ? [256, 32, 10] : [4096, 32, 100];
  const meta = {
    section: 'hmc',
    energy: 'DoubleWell(h=2,b=1)',
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
    L: 10,
  };
  const sampler = new HamiltonianMonteCarlo(dw(), { stepSize: 0.01, nLeapfrogSteps: 10 });
  const run = (seed, warm) => sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 5 : N, seed });
  await measure('webgpu HMC sample (whole chain, chain.doubleWell method hmc)', meta, run, {
    warm: 1,
    reps: repsArg ?? 7,
    budgetMs: 60_000,
    B,
    D,
  });
  unregisterKernelImpl(chainKernelName('doubleWell'), 'webgpu');
  await measure('webgpu HMC step loop (chain kernel unregistered, fused noise)', meta, run, {
    warm: 1,
    reps: 3,
    budgetMs: 40_000,
    B,
    D,
  });
  registerWebGpuKernels()();
  await measure('webgpu HMC, composite (kernels unregistered)', meta, run, {
    warm: 1,
    reps: 3,
    budgetMs: 30_000,
    B,
    D,
  });
  // acceptance rate of one registered run, via diagnostics (not timed)
  registerWebGpuKernels();
  const x0 = randomNormal(rngKey(99), [B, D]);
  const tr = getKernelImpl(
    chainTraceKernelName('doubleWell'),
    'webgpu',
  )({
    method: 'hmc',
    x0,
    nSteps: N,
    key: rngKey(99),
    params: dw().kernelHint.params,
    settings: { stepSize: 0.01, invMass: 1, nLeapfrogSteps: 10 },
    diagnostics: true,
  });
  const acc = await tr.acceptanceRate.data();
  emit({
    side: 'ebm',
    ...meta,
    path: 'HMC acceptance (chainTrace run)',
    meanAcceptance: acc.reduce((a, b) => a + b, 0) / acc.length,
  });
  for (const v of Object.values(tr)) if (v instanceof tf.Tensor) v.dispose();
  x0.dispose();
}

function makeMlp() {
  return new MLPEnergy({ inputDim: 32, widths: [128, 128], activation: 'silu', seed: 7 });
}

async function sectionMlp() {
  await gpu();
  watchDevice();
  const [B, D, N] = small ? [256, 32, 10] : [4096, 32, 100];
  const energy = makeMlp();
  energy.training = false;
  const meta = {
    section: 'mlp',
    energy: 'MLPEnergy 32-128-128-1 SiLU seed 7',
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
  };
  const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1 });
  const run = (seed, warm) => sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 5 : N, seed });
  // The fused MLP program (chain.mlp), reached through sample() from MLPEnergy's own 'mlp' kernelHint; then the
  // autograd step loop without it.
  const fusedPath =
    energy.kernelHint?.kind === 'mlp'
      ? 'fused chain.mlp whole chain (MLPEnergy.kernelHint)'
      : 'NO kernelHint: step loop';
  await measure(`webgpu MLP Langevin, ${fusedPath}`, meta, run, {
    warm: 1,
    reps: repsArg ?? 7,
    budgetMs: 30_000,
    B,
    D,
  });
  Object.defineProperty(energy, 'kernelHint', { value: undefined, configurable: true });
  await measure('webgpu MLP Langevin, kernels registered (autograd)', meta, run, {
    warm: 1,
    reps: repsArg ?? 5,
    budgetMs: 60_000,
    B,
    D,
  });
  registerWebGpuKernels()();
  await measure('webgpu MLP Langevin, composite (kernels unregistered)', meta, run, {
    warm: 1,
    reps: repsArg ?? 5,
    budgetMs: 60_000,
    B,
    D,
  });
}

async function sectionCpu(backend) {
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${join(here, 'wasm')}/`);
    const threads = process.env.EBM_WASM_THREADS ? Number(process.env.EBM_WASM_THREADS) : undefined;
    if (threads) wasm.setThreadsCount(threads);
  }
  await useBackend(backend);
  const [B, D, N] = small ? [256, 32, 10] : [4096, 32, 100];
  const meta = { section: 'cpu', energy: 'DoubleWell(h=2,b=1)', chains: B, dim: D, steps: N, stepSize: 0.01 };
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    meta.wasmThreads = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : undefined;
    meta.wasmFeatures = {
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    };
  }
  const sampler = new LangevinDynamics(dw(), { stepSize: 0.01, noiseScale: 1 });
  const run = (seed, warm) => sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 5 : N, seed });
  await measure(`${backend} LangevinDynamics (composite)`, meta, run, {
    warm: 1,
    reps: repsArg ?? 5,
    budgetMs: 60_000,
    B,
    D,
  });
}

function dumpMlp() {
  const e = makeMlp();
  const out = {};
  for (const { name, variable } of e.namedVariables) {
    out[name] = { shape: variable.shape, data: Array.from(variable.dataSync()) };
  }
  const file = args[1] ?? 'mlp_weights.json';
  writeFileSync(
    file,
    JSON.stringify({
      arch: e.config,
      layout: 'h = x @ kernel + bias (kernel [fanIn, fanOut])',
      weights: out,
    }),
  );
  console.log(`wrote ${file}`);
}

/** Times `f()` (awaited): `warm` warm-ups, then `reps` runs; one row with median/min/max. */
async function timeIt(section, label, meta, f, { warm = 2, reps = 15 } = {}) {
  const ms = await timeCalls(f, { warm, reps, arg: (k) => k + warm });
  emit({
    side: 'ebm',
    section,
    ...meta,
    path: label,
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    n: ms.length,
    ms: ms.map((v) => Math.round(v * 1000) / 1000),
  });
}

/** Where the whole chain's fixed cost goes: read-back, x0 draw, dispatch cost, per-step slope. */
async function sectionProf() {
  await gpu();
  watchDevice();
  const [B, D] = small ? [256, 32] : [4096, 32];
  const meta = { chains: B, dim: D, energy: 'DoubleWell(h=2,b=1)' };
  const params = dw().kernelHint.params;
  const chain = getKernelImpl(chainKernelName('doubleWell'), 'webgpu');
  const trace = getKernelImpl(chainTraceKernelName('doubleWell'), 'webgpu');
  const x0 = randomNormal(rngKey(1), [B, D]);
  await x0.data();
  const settings = { stepSize: 0.01, noiseScale: 1 };
  await timeIt('prof', 'tf.add [B,D] + data() (one dispatch + read-back)', meta, async () => {
    const y = tf.add(x0, 1);
    await y.data();
    y.dispose();
  });
  await timeIt('prof', 'randomNormal [B,D] + data()', meta, async (i) => {
    const y = randomNormal(rngKey(i), [B, D]);
    await y.data();
    y.dispose();
  });
  await timeIt('prof', '100 x tf.add chained, one data() (per-dispatch cost x100)', meta, async () => {
    let y = tf.add(x0, 1);
    for (let k = 0; k < 99; k++) {
      const z = tf.add(y, 1);
      y.dispose();
      y = z;
    }
    await y.data();
    y.dispose();
  });
  await timeIt(
    'prof',
    '100 x chain.doubleWell 1 step (fused step: keys + step = 2 dispatches), one data()',
    meta,
    async (i) => {
      let y = x0;
      for (let k = 0; k < 100; k++) {
        const z = chain({
          method: 'langevin',
          x0: y,
          nSteps: 1,
          key: rngKey(i),
          startStep: k,
          params,
          settings,
        });
        if (y !== x0) y.dispose();
        y = z;
      }
      await y.data();
      y.dispose();
    },
  );
  for (const n of small ? [1, 10, 100] : [1, 10, 100, 1000, 2000]) {
    await timeIt('prof', `chain.doubleWell ${n} steps + data()`, { ...meta, steps: n }, async (i) => {
      const y = chain({ method: 'langevin', x0, nSteps: n, key: rngKey(i), params, settings });
      await y.data();
      y.dispose();
    });
  }
  await timeIt(
    'prof',
    'chain.doubleWell 1000 steps, JS side only (no read-back)',
    { ...meta, steps: 1000 },
    async (i) => {
      const y = chain({
        method: 'langevin',
        x0,
        nSteps: small ? 100 : 1000,
        key: rngKey(i),
        params,
        settings,
      });
      y.dispose();
    },
  );
  for (const method of ['langevin', 'mala', 'hmc']) {
    const n = small ? 10 : method === 'hmc' ? 100 : 1000;
    const st = method === 'langevin' ? settings : { stepSize: 0.01, invMass: 1, nLeapfrogSteps: 10 };
    await timeIt(
      'prof',
      `chainTrace.doubleWell ${method} ${n} steps diagnostics + data() of x and series`,
      { ...meta, steps: n },
      async (i) => {
        const r = trace({ method, x0, nSteps: n, key: rngKey(i), params, settings: st, diagnostics: true });
        await Promise.all([r.x.data(), r.mean.data(), r.var.data(), r.energy.data()]);
        for (const v of Object.values(r)) if (v instanceof tf.Tensor) v.dispose();
      },
      { warm: 2, reps: 9 },
    );
  }
  const sampler = new LangevinDynamics(dw(), settings);
  for (const n of small ? [1, 100] : [1, 1000]) {
    await timeIt(
      'prof',
      `LangevinDynamics.sample ${n} steps + data() (public API)`,
      { ...meta, steps: n },
      async (i) => {
        const r = await sampler.sample({ nSamples: B, dim: D, nSteps: n, seed: i });
        await r.samples.data();
        r.samples.dispose();
      },
    );
  }
  x0.dispose();
}

/** A 32-D SPD covariance: AR(1) Toeplitz 0.5^|i−j| (same on the python side). */
function ar1(d, rho) {
  return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => rho ** Math.abs(i - j)));
}

/** The analytic energies of the comparison, 32-D (TorchEBM twins in tebm_bench.py's section_kinds). */
function kinds(D) {
  return {
    doubleWell: dw(),
    harmonic: new M.Harmonic({ k: 1 }),
    rastrigin: new M.Rastrigin({ a: 10 }),
    rosenbrock: new M.Rosenbrock({ a: 1, b: 1 }),
    ackley: new M.Ackley(),
    gaussian: new M.Gaussian({ mean: new Array(D).fill(0), covariance: ar1(D, 0.5) }),
    gaussianMixture: new M.GaussianMixture({
      means: Array.from({ length: 8 }, (_, k) => Array.from({ length: D }, (_, j) => (j === k ? 3 : 0))),
      std: 1,
    }),
    funnel: new M.Funnel({ dim: D, scale: 1 }),
    banana: new M.Banana({ dim: D }),
    manyWell: new M.ManyWell({ dim: D }),
  };
}

/** Every analytic energy: whole chain via sample(), and the traced kernel (diagnostics; thinned trajectory). */
async function sectionKinds() {
  await gpu();
  watchDevice();
  const [B, D, N] = small ? [256, 32, 20] : [4096, 32, 1000];
  const only = process.env.EBM_KINDS ? process.env.EBM_KINDS.split(',') : undefined;
  for (const [kind, energy] of Object.entries(kinds(D))) {
    if (only && !only.includes(kind)) continue;
    const meta = { section: 'kinds', kind, energy: energy.name, chains: B, dim: D, steps: N, stepSize: 0.01 };
    const sampler = new LangevinDynamics(energy, { stepSize: 0.01, noiseScale: 1 });
    const run = (seed) => sampler.sample({ nSamples: B, dim: D, nSteps: N, seed });
    try {
      await measure(`${kind}: LangevinDynamics.sample (whole chain)`, meta, run, {
        warm: 1,
        reps: repsArg ?? 7,
        B,
        D,
      });
      const trace = getKernelImpl(chainTraceKernelName(kind), 'webgpu');
      const params = energy.kernelHint.params;
      const settings = { stepSize: 0.01, noiseScale: 1 };
      const diagRun = async (seed) => {
        const key = rngKey(seed);
        const x0 = randomNormal(foldIn(key, Number.MAX_SAFE_INTEGER), [B, D]);
        const r = trace({ method: 'langevin', x0, nSteps: N, key, params, settings, diagnostics: true });
        x0.dispose();
        await Promise.all([r.mean.data(), r.var.data(), r.energy.data()]);
        for (const t of [r.mean, r.var, r.energy]) t.dispose();
        return { samples: r.x };
      };
      await measure(
        `${kind}: chainTrace diagnostics every step (kernel call; x0 drawn, series read back)`,
        meta,
        diagRun,
        { warm: 1, reps: repsArg ?? 7, B, D },
      );
      const thinRun = async (seed) => {
        const key = rngKey(seed);
        const x0 = randomNormal(foldIn(key, Number.MAX_SAFE_INTEGER), [B, D]);
        const r = trace({
          method: 'langevin',
          x0,
          nSteps: N,
          key,
          params,
          settings,
          diagnostics: true,
          trajectory: true,
          thin: 10,
        });
        x0.dispose();
        await Promise.all([r.mean.data(), r.energy.data()]);
        for (const t of [r.mean, r.var, r.energy, r.trajectory]) t.dispose();
        return { samples: r.x };
      };
      await measure(`${kind}: chainTrace thin=10 trajectory + diagnostics (kernel call)`, meta, thinRun, {
        warm: 1,
        reps: repsArg ?? 5,
        B,
        D,
      });
    } catch (e) {
      emit({ side: 'ebm', ...meta, path: kind, error: String(e?.stack ?? e).slice(0, 1500), dawnErrors });
    }
    energy.dispose?.();
  }
}

async function sectionMala() {
  await gpu();
  watchDevice();
  const [B, D, N] = small ? [256, 32, 20] : [4096, 32, 1000];
  const meta = {
    section: 'mala',
    energy: 'DoubleWell(h=2,b=1)',
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
  };
  const sampler = new MALA(dw(), { stepSize: 0.01 });
  const run = (seed, warm) => sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 20 : N, seed });
  await measure('webgpu MALA sample (whole chain)', meta, run, { warm: 1, reps: repsArg ?? 7, B, D });
  unregisterKernelImpl(chainKernelName('doubleWell'), 'webgpu');
  const n2 = small ? 5 : 100;
  const run2 = (seed, warm) => sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 5 : n2, seed });
  await measure(
    `webgpu MALA step loop (chain kernel unregistered) ${n2} steps`,
    { ...meta, stepsRun: n2 },
    run2,
    { warm: 1, reps: 3, budgetMs: 40_000, B, D },
  );
}

async function sectionNuts() {
  await gpu();
  watchDevice();
  const [B, D, N] = small ? [64, 32, 3] : [4096, 32, 20];
  const meta = {
    section: 'nuts',
    energy: 'DoubleWell(h=2,b=1)',
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
  };
  const sampler = new NUTS(dw(), { stepSize: 0.05, maxTreeDepth: 6 });
  const run = (seed, warm) => sampler.sample({ nSamples: B, dim: D, nSteps: warm ? 2 : N, seed });
  await measure('webgpu NUTS (step loop; maxTreeDepth 6, step 0.05)', { ...meta, stepSize: 0.05 }, run, {
    warm: 1,
    reps: 3,
    budgetMs: 40_000,
    B,
    D,
  });
}

/**
 * Wraps the registered `chain.mlp` webgpu kernel to count its calls (which path ran the negatives); returns
 * `{ calls(), restore() }`.
 */
function countChainMlp() {
  return countKernel(chainKernelName('mlp'));
}

/**
 * PCD's replay buffer: counts the calls of the webgpu `replay.draw` / `replay.write` kernels (one program each);
 * `composite: true` removes them for the run (core's composite tfjs ops: the buffer path before issue 11's
 * kernels). `path(steps)` says which ran.
 */
function replayPath({ composite = false } = {}) {
  const saved = [REPLAY_DRAW_KERNEL, REPLAY_WRITE_KERNEL].map((n) => [n, getKernelImpl(n, 'webgpu')]);
  if (composite) for (const [n] of saved) unregisterKernelImpl(n, 'webgpu');
  const draw = composite ? { calls: () => 0, restore: () => {} } : countKernel(REPLAY_DRAW_KERNEL);
  const write = composite ? { calls: () => 0, restore: () => {} } : countKernel(REPLAY_WRITE_KERNEL);
  let d0 = 0;
  let w0 = 0;
  return {
    mark() {
      d0 = draw.calls();
      w0 = write.calls();
    },
    path(steps) {
      const d = draw.calls() - d0;
      const w = write.calls() - w0;
      return composite || saved.some(([, impl]) => impl === undefined)
        ? 'replay buffer: composite tfjs ops (replay kernels removed)'
        : `replay buffer: replay.draw ${d} + replay.write ${w} kernel calls in ${steps} steps (one program each)`;
    },
    restore() {
      draw.restore();
      write.restore();
      for (const [n, impl] of saved)
        if (impl !== undefined) registerKernelImpl(n, 'webgpu', impl, { override: true });
    },
  };
}

/** Wraps the registered webgpu kernel `name` to count its calls; returns `{ calls(), restore() }`. */
function countKernel(name) {
  const impl = getKernelImpl(name, 'webgpu');
  let n = 0;
  if (impl === undefined) return { calls: () => 0, restore: () => {} };
  registerKernelImpl(
    name,
    'webgpu',
    (inputs) => {
      n++;
      return impl(inputs);
    },
    { override: true },
  );
  return {
    calls: () => n,
    restore: () => registerKernelImpl(name, 'webgpu', impl, { override: true }),
  };
}

/**
 * CD-10 and PCD-10 training steps with TorchEBM's documented recipe (examples/20-training/01-mcmc-losses:
 * 2→128→128→1 SiLU MLP, Langevin step 0.1, noise 1, k = 10, Adam 1e-3, batch 256, two moons n = 3000 noise
 * 0.05; TorchEBM's CD defaults: energy_reg_weight 0.001, PCD buffer 8192 with 5 % re-initialisation). One step =
 * draw a batch, loss (negatives without gradient), backward, Adam update; timed to the end of a read-back of the
 * loss (the GPU work of the step is done), median over steps. Negatives through the fused chain.mlp (MLPEnergy's
 * kernelHint) and, for comparison, through the autograd step loop (hint hidden); plus `fit()` (public API, which
 * also reads the metrics and checks them every step) as ms per step over a run.
 */
async function sectionTrain() {
  await gpu();
  watchDevice();
  const software = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|software/i.test(
    JSON.stringify(tf.backend().adapterInfo ?? {}),
  );
  const B = small ? 64 : 256;
  const steps = repsArg ?? (small ? 5 : 50);
  const moons = twoMoons({ nSamples: 3000, noise: 0.05, seed: 0 });
  const data = tf.tensor2d(Float32Array.from(moons.data), [3000, 2]);
  const adapter = tf.backend().adapterInfo ?? {};
  for (const persistent of [false, true]) {
    for (const fused of [true, false]) {
      const energy = new MLPEnergy({ inputDim: 2, widths: [128, 128], activation: 'silu', seed: 0 });
      const hint = energy.kernelHint;
      if (!fused) Object.defineProperty(energy, 'kernelHint', { value: undefined, configurable: true });
      const sampler = new LangevinDynamics(energy, { stepSize: 0.1, noiseScale: 1 });
      const common = { sampler, k: 10, energyL2: 0.001 };
      const loss = persistent
        ? new PersistentContrastiveDivergence(energy, {
            ...common,
            buffer: { capacity: 8192, reinitProbability: 0.05 },
          })
        : new ContrastiveDivergence(energy, common);
      const opt = tf.train.adam(1e-3);
      const vars = energy.trainableVariables;
      const meta = {
        section: 'train',
        loss: persistent ? 'PCD-10' : 'CD-10',
        energy: 'MLPEnergy 2-128-128-1 SiLU seed 0',
        batch: B,
        langevin: { stepSize: 0.1, noiseScale: 1, k: 10 },
        optimizer: 'adam 1e-3',
        energyL2: 0.001,
        data: 'twoMoons n=3000 noise=0.05',
        adapter: adapter.description ?? adapter.vendor,
      };
      const counter = countChainMlp();
      const replay = replayPath();
      const rng = rngKey(11);
      let t = 0;
      const step = async () => {
        const idx = tf.tidy(() =>
          tf.cast(tf.floor(tf.mul(randomUniform(foldIn(rngKey(12), t), [B]), 3000)), 'int32'),
        );
        const batch = tf.gather(data, idx);
        const value = opt.minimize(
          () => loss.compute(batch, { key: foldIn(rng, t++), metrics: false }).loss,
          true,
          vars,
        );
        await value.data();
        tf.dispose([idx, batch, value]);
      };
      const label = `${meta.loss} step, negatives via ${fused ? 'fused chain.mlp' : 'autograd step loop (kernelHint hidden)'}`;
      try {
        for (let w = 0; w < 3; w++) await step(); // warm-up: shaders, PCD buffer fill, Adam slots
        const before = mem();
        const c0 = counter.calls();
        replay.mark();
        const ms = [];
        for (let k = 0; k < steps; k++) {
          const t0 = performance.now();
          await step();
          ms.push(performance.now() - t0);
        }
        const chainCalls = counter.calls() - c0;
        const after = mem();
        emit({
          side: 'ebm',
          ...meta,
          path: label,
          pathRan:
            chainCalls >= steps
              ? `fused chain.mlp (${chainCalls} calls in ${steps} steps; ${
                  software
                    ? 'one-thread-per-chain program (software adapter)'
                    : 'cooperative program (hardware adapter)'
                })`
              : chainCalls > 0
                ? `mixed: chain.mlp in ${chainCalls} of ${steps} steps`
                : 'autograd step loop (chain.mlp not called)',
          ...(persistent ? { replayPath: replay.path(steps) } : {}),
          hint: hint?.kind,
          medianMs: median(ms),
          minMs: Math.min(...ms),
          maxMs: Math.max(...ms),
          n: ms.length,
          ms: ms.map((v) => Math.round(v * 100) / 100),
          leak: { tensors: after.numTensors - before.numTensors, bytes: after.numBytes - before.numBytes },
        });
        // fit(): the public training loop (batches drawn by fit, metrics read and checked every step). ms per step
        // = median of the intervals between fit's onStep calls (the run's start and final checkpoint excluded).
        // PCD: the replay buffer through the replay.draw / replay.write kernels, then through the composite tfjs
        // ops (the path before them), then the kernels again: the ratio of the same run.
        const fitSteps = small ? 4 : 30;
        const fitRun = async (composite) => {
          const rp = replayPath({ composite });
          const c1 = counter.calls();
          rp.mark();
          const stamps = [];
          const f0 = performance.now();
          try {
            const fitRes = await fit({
              loss,
              optimizer: opt,
              data,
              batchSize: B,
              steps: fitSteps,
              seed: 3,
              checkpointEvery: fitSteps,
              onStep: () => stamps.push(performance.now()),
            });
            const total = (performance.now() - f0) / fitSteps;
            const ivals = stamps.slice(1).map((t, k) => t - stamps[k]);
            return {
              ms: ivals.length ? median(ivals) : total,
              total,
              ivals,
              pathRan: `chain.mlp calls ${counter.calls() - c1} in ${fitSteps} steps; fused training steps ${fitRes.fusedSteps}${persistent ? `; ${rp.path(fitSteps)}` : ''}`,
            };
          } finally {
            rp.restore();
          }
        };
        const runs = persistent ? [false, true, false] : [false];
        const fitMs = { kernels: [], composite: [] };
        for (const composite of runs) {
          const r = await fitRun(composite);
          fitMs[composite ? 'composite' : 'kernels'].push(r.ms);
          emit({
            side: 'ebm',
            ...meta,
            path: `${meta.loss} fit() ms per step (${fitSteps} steps), negatives via ${fused ? 'fused chain.mlp' : 'autograd step loop'}${persistent ? `, replay buffer via ${composite ? 'composite tfjs ops' : 'replay kernels'}` : ''}`,
            pathRan: r.pathRan,
            medianMs: r.ms,
            minMs: Math.min(...r.ivals),
            maxMs: Math.max(...r.ivals),
            meanMsWithStartAndCheckpoint: r.total,
            n: r.ivals.length,
          });
        }
        if (persistent) {
          const kernels = Math.min(...fitMs.kernels);
          const composite = fitMs.composite[0];
          emit({
            side: 'ebm',
            ...meta,
            path: `${meta.loss} fit() step, negatives via ${fused ? 'fused chain.mlp' : 'autograd step loop'}: composite replay buffer / replay kernels (same run)`,
            speedup: composite / kernels,
            kernelsMedianMs: fitMs.kernels,
            compositeMedianMs: composite,
          });
          console.log(
            `S ebm train | ${meta.loss} fit() (${fused ? 'fused chain' : 'step loop'}): replay kernels ${fitMs.kernels.map((v) => v.toFixed(3)).join(' / ')} ms, composite buffer ${composite.toFixed(3)} ms per step (x${(composite / kernels).toFixed(2)})`,
          );
        }
      } catch (e) {
        emit({ side: 'ebm', ...meta, path: label, error: String(e?.stack ?? e).slice(0, 1500), dawnErrors });
      } finally {
        replay.restore();
        counter.restore();
        if (!fused) Object.defineProperty(energy, 'kernelHint', { value: hint, configurable: true });
        loss.dispose?.();
        opt.dispose();
        energy.dispose();
      }
    }
  }
  data.dispose();
}

/**
 * Counts the webgpu backend's program dispatches (by shader key) and host reads while `on` (patches the backend
 * instance). `skipUpdate` turns the fused step's Adam update programs into identities (the weights stay), for
 * the phase profile.
 */
function instrumentBackend() {
  const be = tf.backend();
  const runProgram = be.runWebGPUProgram.bind(be);
  const read = be.read.bind(be);
  const st = { on: false, dispatches: 0, reads: 0, byKey: {}, skipUpdate: false };
  be.runWebGPUProgram = (program, inputs, dtype, uniforms, output) => {
    if (st.skipUpdate && program.shaderKey === 'ebm_train_adam_update') {
      be.incRef(inputs[0].dataId);
      return { dataId: inputs[0].dataId, shape: inputs[0].shape, dtype: inputs[0].dtype };
    }
    if (st.on) {
      st.dispatches++;
      const k = String(program.shaderKey)
        .replace(/_\d+(_\d+)*$/, '')
        .slice(0, 60);
      st.byKey[k] = (st.byKey[k] ?? 0) + 1;
    }
    return runProgram(program, inputs, dtype, uniforms, output);
  };
  be.read = (dataId) => {
    if (st.on) st.reads++;
    return read(dataId);
  };
  return {
    st,
    reset() {
      st.dispatches = 0;
      st.reads = 0;
      st.byKey = {};
    },
    restore() {
      be.runWebGPUProgram = runProgram;
      be.read = read;
    },
  };
}

/**
 * The fused training step against the autograd step, through fit() (the public API): TorchEBM's recipe (as
 * sectionTrain: 2→128→128→1 SiLU, Langevin 0.1 / noise 1, k = 10, Adam 1e-3, batch 256, energyL2 0.001, PCD
 * buffer 8192 with 5 % re-initialisation), negatives through the fused chain.mlp in both. Per-step times are
 * the intervals between fit's onStep calls (each step: batch draw, negatives, gradient, Adam, the one metrics
 * read, the guard), after `warm` steps; one checkpoint at the end only (checkpointEvery = steps). Rows: fused
 * and autograd per loss (medians, p10/p90, min/max; dispatches and reads per step), and the fused step's phases
 * (medians over `reps` manual steps, each phase awaited): chain (loss.contrastiveSamples + read of the negatives),
 * gradient (the kernel with the Adam update programs skipped + metrics read − read-back), Adam (full kernel −
 * gradient run), read-back (one tiny dispatch on the finished metrics and its read).
 */
async function sectionTrainFused() {
  const { B, steps, warm, data, kernel, dataMeta } = await twoMoonsTraining(sectionContext(), {
    kernelName: MLP_CONTRASTIVE_ADAM_KERNEL,
    fullSteps: 60,
  });
  const inst = instrumentBackend();
  try {
    for (const persistent of [false, true]) {
      const meta = {
        section: 'trainfused',
        loss: persistent ? 'PCD-10' : 'CD-10',
        energy: 'MLPEnergy 2-128-128-1 SiLU seed 0',
        batch: B,
        langevin: { stepSize: 0.1, noiseScale: 1, k: 10 },
        optimizer: 'adam 1e-3',
        energyL2: 0.001,
        ...dataMeta,
      };
      const make = () => {
        const energy = new MLPEnergy({ inputDim: 2, widths: [128, 128], activation: 'silu', seed: 0 });
        const sampler = new LangevinDynamics(energy, { stepSize: 0.1, noiseScale: 1 });
        const common = { sampler, k: 10, energyL2: 0.001 };
        const loss = persistent
          ? new PersistentContrastiveDivergence(energy, {
              ...common,
              buffer: { capacity: 8192, reinitProbability: 0.05 },
            })
          : new ContrastiveDivergence(energy, common);
        const opt = tf.train.adam(1e-3);
        return {
          energy,
          loss,
          opt,
          dispose() {
            loss.dispose?.();
            opt.dispose();
            energy.dispose();
          },
        };
      };
      const medians = {};
      // PCD also runs the fused step with the replay buffer's composite tfjs ops (replay kernels removed): the
      // buffer path before the replay.draw / replay.write kernels, for the ratio in the same run.
      const configs = persistent
        ? [
            [true, false],
            [true, true],
            [false, false],
          ]
        : [
            [true, false],
            [false, false],
          ];
      for (const [fusedStep, compositeReplay] of configs) {
        const path = `${meta.loss} fit() step, ${fusedStep ? 'fused train.mlpContrastiveAdam (gradient + Adam on the device)' : 'autograd (tfjs gradient + tfjs Adam)'}${persistent ? `, replay buffer via ${compositeReplay ? 'composite tfjs ops' : 'replay kernels'}` : ''}`;
        const m = make();
        const rp = replayPath({ composite: compositeReplay });
        try {
          const stamps = [];
          let dispatches = 0;
          let reads = 0;
          let byKey = {};
          const before = mem();
          const res = await fit({
            loss: m.loss,
            optimizer: m.opt,
            data,
            batchSize: B,
            steps: warm + steps,
            seed: 3,
            fusedStep,
            checkpointEvery: warm + steps,
            onStep: (s) => {
              stamps.push(performance.now());
              if (s.step === warm - 1) {
                inst.reset();
                inst.st.on = true;
              }
              if (s.step === warm + steps - 2) {
                // counts over steps warm .. warm + steps − 2 (the last step also takes the final checkpoint).
                inst.st.on = false;
                dispatches = inst.st.dispatches / (steps - 1);
                reads = inst.st.reads / (steps - 1);
                byKey = Object.fromEntries(
                  Object.entries(inst.st.byKey).map(([k, v]) => [
                    k,
                    Math.round((v / (steps - 1)) * 100) / 100,
                  ]),
                );
              }
            },
          });
          inst.st.on = false;
          const ms = [];
          for (let k = warm; k < stamps.length - 1; k++) ms.push(stamps[k] - stamps[k - 1]);
          const after = mem();
          const last = res.history[res.history.length - 1];
          medians[fusedStep ? (compositeReplay ? 'fusedCompositeReplay' : 'fused') : 'autograd'] = median(ms);
          emit({
            side: 'ebm',
            ...meta,
            path,
            pathRan: `fusedSteps ${res.fusedSteps} of ${res.history.length}${persistent ? `; ${rp.path(res.history.length)}` : ''}`,
            ...spread(ms),
            dispatchesPerStep: dispatches,
            readsPerStep: reads,
            dispatchesByShader: byKey,
            lastMetrics: last && {
              loss: last.loss,
              energyPos: last.energyPos,
              energyNeg: last.energyNeg,
              gradNorm: last.gradNorm,
            },
            // Not a leak: the Adam slots (12 variables) created by the run, and PCD's replay buffer.
            tensorsAdded: {
              tensors: after.numTensors - before.numTensors,
              bytes: after.numBytes - before.numBytes,
            },
          });
        } catch (e) {
          inst.st.on = false;
          emit({ side: 'ebm', ...meta, path, error: String(e?.stack ?? e).slice(0, 1500), dawnErrors });
        } finally {
          rp.restore();
          m.dispose();
        }
      }
      if (medians.fused !== undefined && medians.fusedCompositeReplay !== undefined) {
        const row = {
          side: 'ebm',
          ...meta,
          path: `${meta.loss} fused fit() step: composite replay buffer / replay kernels (same run)`,
          speedup: medians.fusedCompositeReplay / medians.fused,
          fusedMedianMs: medians.fused,
          fusedCompositeReplayMedianMs: medians.fusedCompositeReplay,
        };
        emit(row);
        console.log(
          `S ebm trainfused | ${meta.loss} replay kernels ${medians.fused.toFixed(3)} ms vs composite buffer ${medians.fusedCompositeReplay.toFixed(3)} ms per fused step (x${row.speedup.toFixed(2)})`,
        );
      }
      if (medians.fused !== undefined && medians.autograd !== undefined) {
        const row = {
          side: 'ebm',
          ...meta,
          path: `${meta.loss} fit() step: autograd / fused (same run)`,
          speedup: medians.autograd / medians.fused,
          fusedMedianMs: medians.fused,
          autogradMedianMs: medians.autograd,
        };
        emit(row);
        console.log(`S ebm trainfused | ${meta.loss} speed-up autograd/fused ${row.speedup.toFixed(2)}x`);
      }
      // Phase profile of the fused step (manual steps, each phase awaited).
      if (kernel === undefined) continue;
      const m = make();
      try {
        const { loss, opt, energy } = m;
        const P = energy.trainableVariables.reduce((s, v) => s + v.size, 0);
        let moments = tf.zeros([2 * P]);
        let acc1 = Math.fround(0.9);
        let acc2 = Math.fround(0.999);
        const phases = { chain: [], gradient: [], adam: [], readback: [], full: [] };
        const batchAt = (t) =>
          tf.tidy(() =>
            tf.gather(
              data,
              tf.cast(tf.floor(tf.mul(randomUniform(foldIn(rngKey(12), t), [B]), 3000)), 'int32'),
            ),
          );
        const runKernel = (positives, negatives) =>
          kernel({
            params: energy.kernelHint.params,
            positives,
            negatives,
            energyL2: 0.001,
            adam: {
              learningRate: opt.learningRate,
              beta1: 0.9,
              beta2: 0.999,
              epsilon: opt.epsilon,
              biasCorrection1: Math.fround(1 - acc1),
              biasCorrection2: Math.fround(1 - acc2),
            },
            moments,
          });
        const reps = small ? 5 : 30;
        for (let t = 0; t < warm + reps; t++) {
          const batch = batchAt(t);
          let t0 = performance.now();
          const { positives, negatives } = loss.contrastiveSamples(batch, foldIn(rngKey(11), t));
          await negatives.data();
          const chain = performance.now() - t0;
          // Gradient only (update programs skipped), then read.
          inst.st.skipUpdate = true;
          t0 = performance.now();
          const g = runKernel(positives, negatives);
          await g.metrics.data();
          const gradRead = performance.now() - t0;
          inst.st.skipUpdate = false;
          tf.dispose([...g.weights, g.moments, g.metrics]);
          // Full kernel, then read; then a second read of the finished metrics (read-back alone).
          t0 = performance.now();
          const out = runKernel(positives, negatives);
          await out.metrics.data();
          const fullRead = performance.now() - t0;
          // Read-back latency: one tiny dispatch and its read (a second read of out.metrics would hit tfjs's cache).
          t0 = performance.now();
          const probe = tf.neg(out.metrics);
          await probe.data();
          const readback = performance.now() - t0;
          probe.dispose();
          energy.trainableVariables.forEach((v, k) => v.assign(out.weights[k]));
          tf.dispose([...out.weights, out.metrics, moments, positives, negatives, batch]);
          moments = out.moments;
          acc1 = Math.fround(acc1 * Math.fround(0.9));
          acc2 = Math.fround(acc2 * Math.fround(0.999));
          if (t >= warm) {
            phases.chain.push(chain);
            phases.readback.push(readback);
            phases.gradient.push(Math.max(0, gradRead - readback));
            phases.adam.push(Math.max(0, fullRead - gradRead));
            phases.full.push(chain + fullRead);
          }
        }
        moments.dispose();
        const row = {
          side: 'ebm',
          ...meta,
          path: `${meta.loss} fused step phases (medians over ${reps} manual steps; each phase awaited)`,
          chainMs: median(phases.chain),
          gradientMs: median(phases.gradient),
          adamMs: median(phases.adam),
          readbackMs: median(phases.readback),
          ...spread(phases.full),
          phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, spread(v)])),
        };
        emit(row);
        console.log(
          `S ebm trainfused | ${meta.loss} phases: chain ${row.chainMs.toFixed(3)} gradient ${row.gradientMs.toFixed(3)} adam ${row.adamMs.toFixed(3)} readback ${row.readbackMs.toFixed(3)} ms`,
        );
      } catch (e) {
        inst.st.skipUpdate = false;
        emit({
          side: 'ebm',
          ...meta,
          path: `${meta.loss} fused step phases`,
          error: String(e?.stack ?? e).slice(0, 1500),
          dawnErrors,
        });
      } finally {
        m.dispose();
      }
    }
  } finally {
    inst.restore();
    data.dispose();
  }
}

/**
 * The cooperative MLP Langevin program (a workgroup per C chains, `mlp-coop.ts`) against the one-thread-per-chain
 * program, on the mlp workload (32→128→128→1 SiLU, seed 7; 4096×32×100): chain.mlp called directly with
 * `settings.mlpCooperative` 1 / 0 (same keys: the two agree to float32 rounding, reported as maxAbsDiff).
 */
async function sectionMlpCoop() {
  await gpu();
  watchDevice();
  const [B, D, N] = small ? [256, 32, 10] : [4096, 32, 100];
  const energy = makeMlp();
  const chain = getKernelImpl(chainKernelName('mlp'), 'webgpu');
  const meta = {
    section: 'mlpcoop',
    energy: 'MLPEnergy 32-128-128-1 SiLU seed 7',
    chains: B,
    dim: D,
    steps: N,
    stepSize: 0.01,
  };
  const x0 = randomNormal(rngKey(5), [B, D]);
  const outs = {};
  for (const [mlpCooperative, label] of [
    [1, 'chain.mlp cooperative program (workgroup per C chains, mlp-coop.ts)'],
    [0, 'chain.mlp one thread per chain (default on software adapters)'],
  ]) {
    const run = async (seed) => {
      const samples = chain({
        method: 'langevin',
        x0,
        nSteps: N,
        key: rngKey(seed),
        params: energy.kernelHint.params,
        settings: { stepSize: 0.01, noiseScale: 1, mlpCooperative },
      });
      return { samples };
    };
    try {
      await measure(label, { ...meta, mlpCooperative }, run, { warm: 1, reps: repsArg ?? 9, B, D });
      const r = await run(1);
      outs[mlpCooperative] = await r.samples.data();
      r.samples.dispose();
    } catch (e) {
      emit({ side: 'ebm', ...meta, path: label, error: String(e?.stack ?? e).slice(0, 1500), dawnErrors });
    }
  }
  if (outs[0] && outs[1]) {
    let maxAbsDiff = 0;
    let nonFinite = 0;
    for (let i = 0; i < outs[0].length; i++) {
      const d = Math.abs(outs[0][i] - outs[1][i]);
      if (Number.isFinite(d)) maxAbsDiff = Math.max(maxAbsDiff, d);
      else nonFinite++;
    }
    emit({
      side: 'ebm',
      ...meta,
      path: 'cooperative vs one-thread-per-chain, same keys',
      maxAbsDiff,
      nonFinite,
    });
    console.log(`S ebm mlpcoop | same keys: maxAbsDiff ${maxAbsDiff} nonFinite ${nonFinite}`);
  }
  x0.dispose();
  energy.dispose();
}

/**
 * The cooperative MLP Langevin program's shape (`mlp-coop.ts`: c chains and t threads per workgroup), forced with
 * `settings.mlpCoopShape` ('<c>x<t>'), against the default heuristic (`coopShape`), timing the bare chain.mlp kernel
 * plus one read-back: (a) the fused CD-10 training chain, 256 chains, D = 2, 2→128→128→1 SiLU, 10 steps; (b) the
 * mlp workload, 4096 chains, D = 32, 32→128→128→1 SiLU, 100 steps. Shapes that do not fit (c · D not a multiple of
 * 4, workgroup memory) print an error row. Same keys: every shape must agree bit for bit (maxAbsDiff vs default).
 */
async function sectionMlpShape() {
  await gpu();
  watchDevice();
  const chain = getKernelImpl(chainKernelName('mlp'), 'webgpu');
  const cases = [
    [256, 2, 10],
    [4096, 32, 100],
  ];
  for (const [B, D, N] of small ? cases.slice(0, 1) : cases) {
    const energy = new MLPEnergy({ inputDim: D, widths: [128, 128], activation: 'silu', seed: 7 });
    const meta = {
      section: 'mlpshape',
      energy: `MLPEnergy ${D}-128-128-1 SiLU seed 7`,
      chains: B,
      dim: D,
      steps: N,
      stepSize: 0.01,
    };
    const x0 = randomNormal(rngKey(5), [B, D]);
    let ref;
    const shapes = ['default'];
    for (const c of [16, 8, 4, 2, 1]) for (const t of [64, 128, 256]) shapes.push(`${c}x${t}`);
    for (const shape of shapes) {
      const settings = { stepSize: 0.01, noiseScale: 1, mlpCooperative: 1 };
      if (shape !== 'default') settings.mlpCoopShape = shape;
      if (shape !== 'default' && (Number(shape.split('x')[0]) * D) % 4 !== 0) continue;
      const run = async (seed) => ({
        samples: chain({
          method: 'langevin',
          x0,
          nSteps: N,
          key: rngKey(seed),
          params: energy.kernelHint.params,
          settings,
        }),
      });
      const label = `chain.mlp cooperative shape ${shape}`;
      try {
        const row = await measure(label, { ...meta, shape }, run, { warm: 2, reps: repsArg ?? 15, B, D });
        const r = await run(1);
        const out = await r.samples.data();
        r.samples.dispose();
        if (ref === undefined) ref = out;
        let maxAbsDiff = 0;
        for (let i = 0; i < out.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(out[i] - ref[i]));
        console.log(
          `S ebm mlpshape B${B} D${D} ${shape}: median ${row.medianMs.toFixed(3)} ms (min ${row.minMs.toFixed(3)}, max ${row.maxMs.toFixed(3)}) maxAbsDiff vs default ${maxAbsDiff}`,
        );
        emit({ side: 'ebm', ...meta, shape, path: `${label}: same keys vs default`, maxAbsDiff });
      } catch (e) {
        emit({ side: 'ebm', ...meta, shape, path: label, error: String(e?.message ?? e).slice(0, 500) });
      }
    }
    x0.dispose();
    energy.dispose();
  }
}

/** Helpers for the sections in other files. */
function sectionContext() {
  return { emit, median, gpu, watchDevice, small, repsArg, dawnErrors };
}

const t0 = performance.now();
try {
  if (section === 'info') await sectionInfo();
  else if (section.startsWith('lgv:')) await sectionLangevin(Number(section.slice(4)));
  else if (section === 'hmc') await sectionHmc();
  else if (section === 'diag') await sectionDiag();
  else if (section === 'prof') await sectionProf();
  else if (section === 'kinds') await sectionKinds();
  else if (section === 'mala') await sectionMala();
  else if (section === 'nuts') await sectionNuts();
  else if (section === 'mlp') await sectionMlp();
  else if (section === 'train') await sectionTrain();
  else if (section === 'trainfused') await sectionTrainFused();
  else if (section === 'mlpcoop') await sectionMlpCoop();
  else if (section === 'mlpshape') await sectionMlpShape();
  else if (section === 'mlpsweep') await sectionMlpSweep(sectionContext());
  else if (section === 'cpu') await sectionCpu('cpu');
  else if (section === 'wasm') await sectionCpu('wasm');
  else if (section === 'dump-mlp') dumpMlp();
  else if (section === 'nanhunt') await sectionNanhunt(sectionContext());
  else if (section === 'chainprof') await sectionChainprof(sectionContext());
  else if (section === 'chainsweep') await sectionChainsweep(sectionContext());
  else if (section === 'emflow') await sectionEmFlow({ ...sectionContext(), instrumentBackend, spread, mem });
  else if (section === 'floor') await sectionFloor(sectionContext());
  else throw new Error(`unknown section ${section}`);
} catch (e) {
  emit({ side: 'ebm', section, error: String(e?.stack ?? e).slice(0, 2000) });
  process.exitCode = 1;
}
console.log(`[${section}] done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
