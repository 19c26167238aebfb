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
//            scale — worker scaling (issue 12), DoubleWell Langevin 4096×32×100 and 65536×32×100: runChainParallel
//                    (x0 drawn by the workers) with 1, 2, 4, 8, 16 workers and 'auto' (--workers to change), each
//                    with the pool's per-phase timings (medians over reps); x0 drawn on the calling thread and
//                    sample({ workers }) at the largest count; and the machine's own parallel capacity measured in
//                    the same run: the single-thread chain (runChainHost) in N worker threads at once, each on
//                    1/N of the chains, started together, no messages (the best any pool can do on this host).
//                    Rows: path "pool …", "capacity …", "summary …" (scaling X of linear; capacity Y). ~50 s on a
//                    16-core host; rows after --budget-s (default 75) are skipped; --small for a quick check.
//                    From the project root: bash ../shared/gpu/compare/bundle.sh packages/samplers/bench/cpu-compare.mjs
//                    .gpu-kit/cpu.mjs, then on the host: node .gpu-kit/cpu.mjs scale (OUT=dir for $OUT/ebm.jsonl).
//
// Bundle from an installed, built clone (the worker and the wasm Philox are inline strings/bytes, so one file
// suffices):  bash ../shared/gpu/compare/bundle.sh packages/samplers/bench/cpu-compare.mjs .gpu-kit/cpu.mjs
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  chainKernelName,
  foldIn,
  normalArray,
  randomNormal,
  registerCpuKernels,
  rngKey,
  runChainHost,
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
const workerList = (opt('--workers') ?? (section === 'scale' ? '1,2,4,8,16' : '1,2,16'))
  .split(',')
  .map(Number);
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

// ---- scale: the pool against the machine's own parallel capacity ----

const SCALE_SETTINGS = { stepSize: H, noiseScale: 1 };
const x0KeyOf = (seed) => foldIn(rngKey(seed), Number.MAX_SAFE_INTEGER);
const q = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
};
const r2 = (v) => (v === undefined ? undefined : Math.round(v * 100) / 100);

/** What this host offers: cores, CFS quota, physical cores (hyper-threads), load at start. */
function hostInfo() {
  const info = {
    availableParallelism: os.availableParallelism?.(),
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    loadavg: os.loadavg().map(r2),
    node: process.version,
  };
  const read = (f) => {
    try {
      return readFileSync(f, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  info.cgroupCpuMax = read('/sys/fs/cgroup/cpu.max') ?? read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const cpuinfo = read('/proc/cpuinfo');
  if (cpuinfo !== undefined) {
    const cores = new Set();
    let phys = '0';
    for (const line of cpuinfo.split('\n')) {
      const [k, v] = line.split(':').map((t) => t?.trim());
      if (k === 'physical id') phys = v;
      if (k === 'core id') cores.add(`${phys}/${v}`);
      if (k === 'flags' && info.avx512 === undefined) info.avx512 = / avx512f /.test(` ${v} `);
    }
    info.physicalCores = cores.size || undefined;
  }
  info.threadsPerCore = read('/sys/devices/system/cpu/cpu0/topology/thread_siblings_list');
  return info;
}

/** The pool: runChainParallel with x0 drawn by the workers (or on the calling thread), timings per rep. */
async function scalePool(b, workers, reps, { drawnHere = false, warm = true } = {}) {
  const ms = [];
  const phases = [];
  let used;
  for (let k = warm ? -1 : 0; k < reps; k++) {
    const seed = k + 2;
    const t0 = performance.now();
    const x0 = drawnHere ? randomNormal(x0KeyOf(seed), [b, D]) : { normal: x0KeyOf(seed), shape: [b, D] };
    const r = await runChainParallel({
      kind: 'doubleWell',
      params: dw.kernelHint.params,
      method: 'langevin',
      settings: SCALE_SETTINGS,
      x0,
      nSteps: N,
      key: rngKey(seed),
      workers,
    });
    await r.x.data();
    const wall = performance.now() - t0;
    r.x.dispose();
    if (drawnHere) x0.dispose();
    used = r.workers;
    if (k < 0) continue; // warm-up: starts the workers and their wasm modules
    ms.push(wall);
    phases.push(r.timings);
  }
  const med = (f) => r2(median(phases.map(f)));
  const max = (a) => (a.length ? Math.max(...a) : 0);
  const min = (a) => (a.length ? Math.min(...a) : 0);
  const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
  return {
    workers: used,
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    p25Ms: q(ms, 0.25),
    p75Ms: q(ms, 0.75),
    ms: ms.map(r2),
    n: ms.length,
    phasesMedianMs: {
      total: med((t) => t.totalMs),
      prepare: med((t) => t.prepareMs),
      spawn: med((t) => t.spawnMs),
      post: med((t) => t.postMs),
      wakeMax: med((t) => max(t.wakeMs)),
      wakeMean: med((t) => mean(t.wakeMs)),
      computeMax: med((t) => max(t.computeMs)),
      computeMin: med((t) => min(t.computeMs)),
      computeMean: med((t) => mean(t.computeMs)),
      replyMax: med((t) => max(t.replyMs)),
      assemble: med((t) => t.assembleMs),
      tilesMin: med((t) => min(t.tiles)),
      tilesMax: med((t) => max(t.tiles)),
      shared: phases[0]?.shared,
    },
  };
}

/**
 * The machine's parallel capacity: n worker threads (this file, started as workers), each with its own 1/n of the
 * b chains, run the single-thread chain `runChainHost` `reps` times; before each rep they meet at a barrier, then
 * run with no messages. Per rep: the last thread's end − the first thread's start.
 */
async function scaleCapacity(b, n, reps, warm = true) {
  const w0 = warm ? 1 : 0; // a warm-up rep first (JIT, wasm instantiation in the fresh threads)
  const bar = new Int32Array(new SharedArrayBuffer(4));
  const times = new Float64Array(new SharedArrayBuffer(8 * 2 * n * (reps + w0)));
  const file = fileURLToPath(import.meta.url);
  const ws = [];
  for (let w = 0; w < n; w++) {
    const r0 = Math.round((w * b) / n / 4) * 4;
    const r1 = w === n - 1 ? b : Math.round(((w + 1) * b) / n / 4) * 4;
    ws.push(
      new Promise((resolve, reject) => {
        const wk = new Worker(file, {
          workerData: {
            capacity: { w, n, r0, r1, D, N, reps: reps + w0, bar, times, params: dw.kernelHint.params },
          },
        });
        wk.on('message', resolve);
        wk.on('error', reject);
        wk.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`capacity worker exit ${c}`))));
      }),
    );
  }
  await Promise.all(ws);
  const ms = [];
  const fastest = [];
  const slowest = [];
  const skew = [];
  for (let k = w0; k < reps + w0; k++) {
    let start = Infinity;
    let lastStart = -Infinity;
    let end = -Infinity;
    const own = [];
    for (let w = 0; w < n; w++) {
      const [a, b] = [times[2 * (k * n + w)], times[2 * (k * n + w) + 1]];
      start = Math.min(start, a);
      lastStart = Math.max(lastStart, a);
      end = Math.max(end, b);
      own.push(b - a);
    }
    ms.push(end - start);
    fastest.push(Math.min(...own));
    slowest.push(Math.max(...own));
    skew.push(lastStart - start);
  }
  return {
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    ms: ms.map(r2),
    n: ms.length,
    // Medians over reps: the fastest and the slowest thread's own time, and the spread of the start times.
    extra: {
      threadFastestMs: r2(median(fastest)),
      threadSlowestMs: r2(median(slowest)),
      startSkewMs: r2(median(skew)),
    },
  };
}

/** A capacity worker (see scaleCapacity). */
function capacityWorker({ w, n, r0, r1, D: d, N: steps, reps, bar, times, params }) {
  const spec = {
    kind: 'doubleWell',
    params,
    method: 'langevin',
    settings: SCALE_SETTINGS,
    nSteps: steps,
    key: [0, 0],
  };
  const now = () => performance.timeOrigin + performance.now();
  for (let k = 0; k < reps; k++) {
    const seed = k + 2;
    // N(0, 1) rows for this thread (any numbers do: the work is the same), outside the timed region.
    const rows = normalArray(foldIn(x0KeyOf(seed), w), [r1 - r0, d]);
    const target = n * (k + 1);
    if (Atomics.add(bar, 0, 1) + 1 === target) Atomics.notify(bar, 0);
    else
      for (;;) {
        const cur = Atomics.load(bar, 0);
        if (cur >= target) break;
        Atomics.wait(bar, 0, cur);
      }
    const t0 = now();
    runChainHost({ ...spec, key: rngKey(seed) }, rows, d, r0, r1, r0);
    times[2 * (k * n + w)] = t0;
    times[2 * (k * n + w) + 1] = now();
  }
  parentPort.postMessage('done');
}

/** sectionScale stops adding rows after this (the whole section stays < 90 s on the GPU machine's host). */
const budgetMs = Number(opt('--budget-s') ?? 75) * 1000;
const started = performance.now();

async function sectionScale() {
  await useBackend('cpu');
  const info = hostInfo();
  emit({ side: 'ebm', ...meta, path: 'scale host', extra: info });
  const counts = workerList;
  const big = small ? 16384 : 65536;
  for (const b of [B, big]) {
    const m = { ...meta, chains: b };
    // The largest workload runs fewer counts (1, the largest, half of it) to stay well inside 90 s.
    const top = counts[counts.length - 1];
    const wl = b === B ? counts : [...new Set([counts[0], top >> 1, top])].filter((w) => w >= counts[0]);
    const pool = {};
    const cap = {};
    for (const w of wl) {
      if (performance.now() - started > budgetMs) {
        emit({ side: 'ebm', ...m, path: `skipped ${w} worker(s): over the time budget`, workers: w });
        continue;
      }
      const nReps = b === B ? reps + 2 : 2;
      const r = await scalePool(b, w, nReps, { warm: b === B });
      pool[w] = r;
      emit({
        side: 'ebm',
        ...m,
        path: `pool runChainParallel ${w} worker(s), x0 drawn by the workers`,
        ...r,
        extra: r.phasesMedianMs,
      });
      const c = await scaleCapacity(b, w, nReps, b === B);
      cap[w] = c;
      emit({
        side: 'ebm',
        ...m,
        path: `capacity ${w} independent thread(s), runChainHost on 1/${w} each`,
        workers: w,
        ...c,
      });
    }
    if (b === B) {
      const auto = await scalePool(b, 'auto', reps + 2);
      emit({
        side: 'ebm',
        ...m,
        path: `pool runChainParallel 'auto' (${auto.workers} workers)`,
        ...auto,
        extra: auto.phasesMedianMs,
      });
      const here = await scalePool(b, top, reps + 2, { drawnHere: true });
      emit({
        side: 'ebm',
        ...m,
        path: `pool runChainParallel ${top} worker(s), x0 drawn on the calling thread (randomNormal)`,
        ...here,
        extra: here.phasesMedianMs,
      });
      for (const w of [1, top]) {
        const sampler = new LangevinDynamics(dw, { stepSize: H, noiseScale: 1 });
        const ms = [];
        for (let k = -1; k < reps; k++) {
          const t0 = performance.now();
          const r = await sampler.sample({ nSamples: b, dim: D, nSteps: N, seed: k + 2, workers: w });
          await r.samples.data();
          if (k >= 0) ms.push(performance.now() - t0);
          r.samples.dispose();
        }
        emit({
          side: 'ebm',
          ...m,
          path: `sample() LangevinDynamics workers: ${w}`,
          workers: w,
          medianMs: median(ms),
          minMs: Math.min(...ms),
          maxMs: Math.max(...ms),
          ms: ms.map(r2),
          n: ms.length,
        });
      }
    }
    const base = pool[wl[0]];
    const capBase = cap[wl[0]];
    for (const w of wl.slice(1).filter((v) => pool[v] !== undefined)) {
      const x = (base.medianMs / pool[w].medianMs) * wl[0];
      const y = (capBase.medianMs / cap[w].medianMs) * wl[0];
      emit({
        side: 'ebm',
        ...m,
        path: `summary ${w} workers: scaling ${(x / w).toFixed(2)} of linear; the host's own parallel capacity ${(y / w).toFixed(2)}`,
        workers: w,
        extra: {
          poolSpeedup: r2(x),
          poolOfLinear: r2(x / w),
          capacitySpeedup: r2(y),
          capacityOfLinear: r2(y / w),
          poolOfCapacity: r2(x / y),
          poolMs: r2(pool[w].medianMs),
          capacityMs: r2(cap[w].medianMs),
          overheadMs: r2(pool[w].medianMs - cap[w].medianMs),
        },
      });
    }
  }
}

if (!isMainThread && workerData?.capacity) {
  capacityWorker(workerData.capacity);
} else {
  const t0 = performance.now();
  try {
    if (section === 'cpu') await sectionCpu();
    else if (section === 'wasm') await sectionWasm();
    else if (section === 'fused') await sectionFused();
    else if (section === 'mlp') await sectionMlp();
    else if (section === 'scale') await sectionScale();
    else throw new Error(`unknown section ${section}`);
  } catch (e) {
    emit({ side: 'ebm', ...meta, path: 'error', error: String(e?.stack ?? e).slice(0, 2000) });
    process.exitCode = 1;
  } finally {
    await terminateChainWorkers();
  }
  console.log(`[${section}] done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
