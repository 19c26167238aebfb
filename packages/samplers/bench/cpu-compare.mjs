// The CPU side of the comparison with TorchEBM (../shared/gpu/compare/, sections `cpu` and `wasm` of
// gpu-compare.mjs), with core's fused CPU path added. Same timing rule and the same RESULT rows as
// gpu-compare.mjs: wall clock around the run (x0 ~ N(0, 1) drawn inside it) plus the read-back of the samples,
// medians after a warm-up. Rows go to $OUT/ebm.jsonl when OUT is set, else to stdout as `RESULT {json}`.
//
//   node cpu-compare.mjs SECTION [--small] [--reps N] [--workers 1,2,16]
//   SECTION: cpu   — DoubleWell 4096×32×100 LangevinDynamics on tfjs-cpu: fused (sample(), calling thread) and
//                    composite (kernels unregistered)
//            wasm  — the same on tfjs-wasm (composite; EBM_WASM_THREADS=n for wasm threads)
//            fused — DoubleWell 4096×32×100 through runChainParallel with each worker count of --workers
//                    (default 1,2,16), plus the ratio to 1 worker (scaling); --chains N for another batch
//            mlp   — MLP 32→128→128→1 SiLU seed 7, 4096×32×100 Langevin: fused chain.mlp with each worker count,
//                    and composite tfjs-wasm
//
// Bundle from an installed, built clone (the worker and the wasm Philox are inline strings/bytes, so one file
// suffices):  bash ../shared/gpu/compare/bundle.sh packages/samplers/bench/cpu-compare.mjs .gpu-kit/cpu.mjs
import { appendFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chainKernelName,
  foldIn,
  randomNormal,
  registerCpuKernels,
  rngKey,
  runChainParallel,
  terminateChainWorkers,
  unregisterKernelImpl,
  useBackend,
} from '@ebm/core';
import { DoubleWell, MLPEnergy } from '@ebm/models';
import * as tfCpu from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { LangevinDynamics } from '../dist/index.js';

// Keep the cpu backend's module in a bundle (see gpu-compare.mjs).
if (tfCpu.version_cpu === undefined) throw new Error('tfjs-backend-cpu missing');

const args = process.argv.slice(2);
const section = args[0] ?? 'fused';
const small = args.includes('--small');
const opt = (f) => (args.indexOf(f) >= 0 ? args[args.indexOf(f) + 1] : undefined);
const reps = Number(opt('--reps') ?? 5);
const workerList = (opt('--workers') ?? '1,2,16').split(',').map(Number);
const [B0, D, N] = small ? [256, 32, 10] : [4096, 32, 100];
// --chains N: another chain count (e.g. a larger one for the worker-scaling measurement).
const B = opt('--chains') ? Number(opt('--chains')) : B0;
const H = 0.01;

function emit(row) {
  const line = JSON.stringify(row);
  if (process.env.OUT) appendFileSync(`${process.env.OUT}/ebm.jsonl`, `${line}\n`);
  else console.log(`RESULT ${line}`);
  const num =
    row.medianMs !== undefined
      ? ` med ${row.medianMs.toFixed(2)} ms [${row.minMs.toFixed(1)}..${row.maxMs.toFixed(1)}] n=${row.n}`
      : '';
  console.log(
    `S ebm ${row.section} ${row.chains}x${row.dim}x${row.steps} | ${row.path}${num}${row.extra ? ` ${JSON.stringify(row.extra)}` : ''}`,
  );
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Times `run(seed)` → tensor of samples: one warm-up, then `n` timed runs (each includes `await x.data()`). */
async function measure(label, meta, run, { n = reps, warm = 1, extra } = {}) {
  for (let w = 0; w < warm; w++) {
    const x = await run(1000 + w);
    await x.data();
    x.dispose();
  }
  const ms = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    const x = await run(k + 1);
    await x.data();
    ms.push(performance.now() - t0);
    x.dispose();
  }
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
    cpu: `${os.cpus()[0]?.model} x${os.cpus().length}`,
    extra,
  };
  emit(row);
  return row;
}

const dw = new DoubleWell({ barrierHeight: 2, b: 1 });
const meta = { section, energy: 'DoubleWell(h=2,b=1)', chains: B, dim: D, steps: N, stepSize: H };

async function sampleRun(sampler) {
  return async (seed) => (await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed })).samples;
}

/** runChainParallel with x0 ~ N(0, 1) drawn inside the timed call (as sample() does). */
function parallelRun(kind, params, workers, steps = N) {
  return async (seed) => {
    const x0 = randomNormal(foldIn(rngKey(seed), Number.MAX_SAFE_INTEGER), [B, D]);
    try {
      const r = await runChainParallel({
        kind,
        params,
        method: 'langevin',
        settings: { stepSize: H, noiseScale: 1 },
        x0,
        nSteps: steps,
        key: rngKey(seed),
        workers,
      });
      return r.x;
    } finally {
      x0.dispose();
    }
  };
}

async function sectionCpu() {
  await useBackend('cpu');
  const sampler = new LangevinDynamics(dw, { stepSize: H, noiseScale: 1 });
  await measure(
    'cpu LangevinDynamics (fused chain.doubleWell, calling thread)',
    meta,
    await sampleRun(sampler),
  );
  registerCpuKernels()(); // the fused kernels removed: the composite baseline
  await measure('cpu LangevinDynamics (composite)', meta, await sampleRun(sampler), { n: Math.min(reps, 3) });
  registerCpuKernels();
}

/** tfjs-backend-wasm, with its .wasm files from ./wasm/ next to a bundle (the GPU kit's layout) when present. */
async function loadWasm() {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'wasm');
  if (existsSync(dir)) wasm.setWasmPaths(`${dir}/`);
  return wasm;
}

async function sectionWasm() {
  const wasm = await loadWasm();
  const threads = process.env.EBM_WASM_THREADS ? Number(process.env.EBM_WASM_THREADS) : undefined;
  if (threads) wasm.setThreadsCount(threads);
  await useBackend('wasm');
  const sampler = new LangevinDynamics(dw, { stepSize: H, noiseScale: 1 });
  await measure(
    'wasm LangevinDynamics (fused chain.doubleWell, calling thread)',
    meta,
    await sampleRun(sampler),
  );
  unregisterKernelImpl(chainKernelName('doubleWell'), 'wasm');
  await measure('wasm LangevinDynamics (composite)', meta, await sampleRun(sampler), {
    n: Math.min(reps, 3),
  });
}

async function sectionFused() {
  await useBackend('cpu');
  let base;
  for (const w of workerList) {
    const row = await measure(
      `fused runChainParallel, ${w} worker(s)`,
      meta,
      parallelRun('doubleWell', dw.kernelHint.params, w),
      {
        extra: { workers: w, availableParallelism: os.availableParallelism?.() },
      },
    );
    if (base === undefined) base = { w, ms: row.medianMs };
    else {
      const speedup = (base.ms / row.medianMs) * base.w;
      emit({
        ...meta,
        side: 'ebm',
        path: `scaling ${base.w} → ${w} workers`,
        extra: { speedup, efficiency: speedup / w },
      });
    }
  }
}

async function sectionMlp() {
  await useBackend('cpu');
  const e = new MLPEnergy({ inputDim: 32, widths: [128, 128], activation: 'silu', seed: 7 });
  e.training = false;
  const weights = [];
  for (const v of e.namedVariables) weights.push(await v.variable.data());
  const params = { sizes: [32, 128, 128, 1], activation: 'silu', leakySlope: 0.2, weights };
  const m = { ...meta, energy: 'MLPEnergy 32-128-128-1 SiLU seed 7' };
  for (const w of workerList) {
    await measure(`fused chain.mlp, runChainParallel ${w} worker(s)`, m, parallelRun('mlp', params, w), {
      n: Math.min(reps, 3),
      extra: { workers: w },
    });
  }
  await loadWasm();
  await useBackend('wasm');
  const sampler = new LangevinDynamics(e, { stepSize: H, noiseScale: 1 });
  await measure('wasm LangevinDynamics MLP (composite, autograd)', m, await sampleRun(sampler), {
    n: Math.min(reps, 3),
  });
}

const t0 = performance.now();
try {
  if (section === 'cpu') await sectionCpu();
  else if (section === 'wasm') await sectionWasm();
  else if (section === 'fused') await sectionFused();
  else if (section === 'mlp') await sectionMlp();
  else throw new Error(`unknown section ${section}`);
} catch (e) {
  emit({ side: 'ebm', ...meta, path: 'error', error: String(e?.stack ?? e).slice(0, 2000) });
  process.exitCode = 1;
} finally {
  await terminateChainWorkers();
}
console.log(`[${section}] done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
