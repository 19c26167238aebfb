// Sections `nanhunt` and `chainprof` of gpu-compare.mjs (issue 11): where the DoubleWell whole chain's rare
// non-finite chains come from, and where a whole-chain sample()'s fixed cost goes. Imported by gpu-compare.mjs
// (bundled with it); `ctx` brings its helpers: { emit, median, gpu, watchDevice, small, repsArg, dawnErrors }.
import {
  bitsToNormal,
  chainKernelName,
  foldIn,
  getKernelImpl,
  NON_FINITE_ROWS_KERNEL,
  normalArray,
  philox4x32,
  randomNormal,
  registerKernelImpl,
  rngKey,
  runChainHost,
  runKernel,
  unregisterKernelImpl,
} from '@ebm/core';
import { finiteScanPolicy, setFiniteScanPolicy, setSimdFiniteScan } from '@ebm/core/internal';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { rawRoundTripMs } from './floor-sections.mjs';
import { quantile, timeRows } from './timing.mjs';

const X0_STEP = Number.MAX_SAFE_INTEGER; // core's loop draws x0 from foldIn(runKey, MAX_SAFE_INTEGER)
const H = 2; // DoubleWell barrierHeight
const B2 = 1; // b²
const STEP = 0.01;
/**
 * Euler–Maruyama on E = h·Σ(xᵢ² − b²)² without noise: x' = x − 4ηh·x(x² − b²), so |x'| > |x| (and the chain
 * runs off to ±∞, then ∞ − ∞ = NaN) once |1 + 4ηh·b² − 4ηh·x²| > 1, i.e. x² > b² + 1/(2ηh): |x| > 5.099 here.
 */
const ESCAPE = Math.sqrt(B2 + 1 / (2 * STEP * H));

const dw = () => new DoubleWell({ barrierHeight: H, b: Math.sqrt(B2) });
const SETTINGS = { stepSize: STEP, noiseScale: 1 };

function nonFiniteRows(data, B, D) {
  const rows = [];
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < D; j++) {
      if (!Number.isFinite(data[r * D + j])) {
        rows.push(r);
        break;
      }
    }
  }
  return rows;
}

/** The u32 word, its normal (host) and the Philox counter of element (r, j) at step t of a run from `key`. */
function noiseAt(key, t, r, j, D) {
  const i = r * D + j;
  const kt = foldIn(key, t);
  const block = Math.floor(i / 4);
  const w = philox4x32([block >>> 0, Math.floor(block / 2 ** 32) >>> 0, 0, 0], kt);
  const u = w[i % 4];
  return {
    step: t,
    stepKey: [...kt],
    counter: [block >>> 0, 0, 0, 0],
    lane: i % 4,
    u32: u,
    normal: bitsToNormal(u),
  };
}

/**
 * `nanhunt`: DoubleWell (h=2, b=1) Langevin whole chains on webgpu at the sizes of issue 11, fixed seeds (those of
 * the lgv sections: 1…7 and the warm-up 1000). Per run: the x0 draw (webgpu vs the host draw: bit-equal?), every
 * non-finite chain of the final state, and the chains the escape bound predicts from x0 alone (some |x0| > 5.099;
 * the GPU's x0).
 * Per non-finite chain (≤ 20 per run): its first non-finite step (the chain re-run one step per call on the GPU,
 * bad rows gathered), its coordinates there, and per step up to then the GPU value, the host chain's value
 * (core's `runChainHost` on that row, the same stream) and the Philox counter / u32 / normal used.
 */
export async function sectionNanhunt(ctx) {
  const { emit, gpu, watchDevice, small } = ctx;
  await gpu();
  watchDevice();
  const chain = getKernelImpl(chainKernelName('doubleWell'), 'webgpu');
  const params = dw().kernelHint.params;
  const runs = small
    ? [[4096, 32, 20, [7]]]
    : [
        [4096, 32, 1000, [1, 2, 3, 4, 5, 6, 7, 1000]],
        [65536, 32, 200, [1, 3, 5, 7]],
        [1048576, 32, 50, [1, 2, 7]],
      ];
  const only = process.env.EBM_NANHUNT_SIZE; // e.g. 4096 to run one size
  let totalBad = 0;
  let totalUnexplained = 0;
  let totalClippedBad = 0;
  for (const [B, D, N, seeds] of runs) {
    if (only && Number(only) !== B) continue;
    for (const seed of seeds) {
      const key = rngKey(seed);
      const t0 = performance.now();
      const x0 = randomNormal(foldIn(key, X0_STEP), [B, D]);
      const x0gpu = await x0.data();
      const x0host = normalArray(foldIn(key, X0_STEP), [B, D]);
      let x0Diff = 0;
      let x0MaxAbsDiff = 0;
      for (let i = 0; i < x0host.length; i++) {
        if (!Object.is(x0gpu[i], x0host[i])) x0Diff++;
        x0MaxAbsDiff = Math.max(x0MaxAbsDiff, Math.abs(x0gpu[i] - x0host[i]));
      }
      const predicted = [];
      for (let r = 0; r < B; r++) {
        for (let j = 0; j < D; j++) {
          if (Math.abs(x0gpu[r * D + j]) > ESCAPE) {
            predicted.push(r);
            break;
          }
        }
      }
      const xN = chain({ method: 'langevin', x0, nSteps: N, key, startStep: 0, params, settings: SETTINGS });
      const fin = await xN.data();
      const bad = nonFiniteRows(fin, B, D);
      xN.dispose();
      // Control: the same keys from x0 clipped inside the bound (|x0| ≤ 5): no chain should go non-finite.
      const x0c = tf.clipByValue(x0, -5, 5);
      const xc = chain({
        method: 'langevin',
        x0: x0c,
        nSteps: N,
        key,
        startStep: 0,
        params,
        settings: SETTINGS,
      });
      const clippedBad = nonFiniteRows(await xc.data(), B, D).length;
      tf.dispose([x0c, xc]);
      totalClippedBad += clippedBad;
      const unexplained = bad.filter((r) => !predicted.includes(r));
      const missed = predicted.filter((r) => !bad.includes(r));
      totalBad += bad.length;
      totalUnexplained += unexplained.length;
      let maxAbs = 0;
      for (const v of fin) if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
      emit({
        side: 'ebm',
        section: 'nanhunt',
        path: 'run',
        chains: B,
        dim: D,
        steps: N,
        seed,
        escapeBound: ESCAPE,
        x0BitDiff: x0Diff,
        x0MaxAbsDiff,
        nonFiniteChains: bad.length,
        badRows: bad.slice(0, 50),
        predictedRows: predicted.slice(0, 50),
        predicted: predicted.length,
        unexplained: unexplained.slice(0, 50),
        predictedButFinite: missed.slice(0, 50),
        nonFiniteWithX0ClippedTo5: clippedBad,
        maxAbsFinite: maxAbs,
        ms: Math.round(performance.now() - t0),
      });
      console.log(
        `S ebm nanhunt ${B}x${D}x${N} seed ${seed} | bad ${bad.length} predicted ${predicted.length} unexplained ${unexplained.length} x0 bit-diff ${x0Diff} | x0 clipped to ±5: bad ${clippedBad}`,
      );
      // Per bad chain: the first non-finite step on the GPU (one step per call, rows gathered), and the host chain.
      const rows = bad.slice(0, 20);
      if (rows.length > 0) {
        const idx = tf.tensor1d(rows, 'int32');
        const traj = rows.map(() => []); // per row: per step, the row's values
        let x = x0;
        const firstBad = rows.map(() => -1);
        for (let t = 0; t < N && firstBad.includes(-1); t++) {
          const next = chain({
            method: 'langevin',
            x0: x,
            nSteps: 1,
            key,
            startStep: t,
            params,
            settings: SETTINGS,
          });
          if (x !== x0) x.dispose();
          x = next;
          const g = tf.gather(x, idx);
          const v = await g.data();
          g.dispose();
          rows.forEach((_r, k) => {
            const row = Array.from(v.subarray(k * D, (k + 1) * D));
            traj[k].push(row);
            if (firstBad[k] < 0 && row.some((e) => !Number.isFinite(e))) firstBad[k] = t + 1;
          });
        }
        if (x !== x0) x.dispose();
        idx.dispose();
        for (let k = 0; k < rows.length; k++) {
          const r = rows[k];
          const s = firstBad[k];
          const last = traj[k][s - 1] ?? traj[k][traj[k].length - 1];
          const j = last.findIndex((e) => !Number.isFinite(e));
          // The GPU's x0 row (its normals may differ from the host draw in the last float32 bit).
          const startRow = Array.from(x0gpu.subarray(r * D, (r + 1) * D));
          // Host chain of this row, step by step (same stream: element r·D + j of foldIn(key, t)).
          const hx = Float32Array.from(startRow);
          const steps = [];
          for (let t = 0; t < Math.max(1, s); t++) {
            const before = hx[j];
            runChainHost(
              {
                kind: 'doubleWell',
                params,
                method: 'langevin',
                settings: SETTINGS,
                nSteps: 1,
                key,
                startStep: t,
              },
              hx,
              D,
              r,
              r + 1,
              r,
            );
            const gpuV = traj[k][t]?.[j];
            if (t < 8 || t >= s - 4) {
              steps.push({ ...noiseAt(key, t, r, j, D), xBefore: before, hostAfter: hx[j], gpuAfter: gpuV });
            }
          }
          emit({
            side: 'ebm',
            section: 'nanhunt',
            path: 'chain',
            chains: B,
            dim: D,
            steps: N,
            seed,
            row: r,
            coord: j,
            x0: startRow[j],
            x0MaxAbs: Math.max(...startRow.map(Math.abs)),
            beyondEscape: Math.abs(startRow[j]) > ESCAPE,
            firstNonFiniteStep: s,
            coordsNonFiniteThere: last.map((e, c) => (Number.isFinite(e) ? -1 : c)).filter((c) => c >= 0),
            hostNonFiniteAtSameStep: !Number.isFinite(hx[j]),
            trace: steps,
          });
          console.log(
            `S ebm nanhunt chain ${r} coord ${j}: x0 ${startRow[j].toFixed(4)} (escape ${ESCAPE.toFixed(3)}) first non-finite step ${s} host non-finite there: ${!Number.isFinite(hx[j])}`,
          );
        }
      }
      x0.dispose();
    }
  }
  emit({
    side: 'ebm',
    section: 'nanhunt',
    path: 'summary',
    nonFiniteChains: totalBad,
    unexplainedByX0: totalUnexplained,
    nonFiniteWithX0ClippedTo5: totalClippedBad,
    verdict:
      totalUnexplained === 0 && totalClippedBad === 0
        ? 'every non-finite chain started beyond the Euler escape bound |x0| > sqrt(b² + 1/(2ηh)): the workload, not the GPU'
        : 'some non-finite chains are NOT explained by x0: see the chain rows',
  });
  console.log(
    `S ebm nanhunt summary | bad ${totalBad} unexplained by x0 ${totalUnexplained} | with x0 clipped to ±5: bad ${totalClippedBad}`,
  );
}

/** Wraps the webgpu backend's program runner, uploads and read-backs with counters (returns them). */
function countBackend() {
  const b = tf.backend();
  const c = { dispatches: 0, programs: [], uploads: 0, reads: 0, writeBuffer: 0 };
  const run = b.runWebGPUProgram.bind(b);
  b.runWebGPUProgram = (program, inputs, dtype, uniforms, output) => {
    c.dispatches++;
    c.programs.push(String(program.shaderKey ?? program.constructor?.name).slice(0, 60));
    return run(program, inputs, dtype, uniforms, output);
  };
  const up = b.uploadToGPU.bind(b);
  b.uploadToGPU = (dataId) => {
    const d = b.tensorMap.get(dataId);
    if (d?.resource == null && d?.values != null) c.uploads++;
    return up(dataId);
  };
  const rd = b.getBufferData.bind(b);
  b.getBufferData = (buffer) => {
    c.reads++;
    return rd(buffer);
  };
  const q = b.queue;
  const wb = q.writeBuffer.bind(q);
  q.writeBuffer = (...a) => {
    c.writeBuffer++;
    return wb(...a);
  };
  return {
    reset() {
      c.dispatches = 0;
      c.programs = [];
      c.uploads = 0;
      c.reads = 0;
      c.writeBuffer = 0;
    },
    get: () => ({ ...c, programs: [...c.programs] }),
    restore() {
      b.runWebGPUProgram = run;
      b.uploadToGPU = up;
      b.getBufferData = rd;
      q.writeBuffer = wb;
    },
  };
}

/**
 * `chainprof`: a whole-chain `sample()` on webgpu against the bare chain kernel and each piece around it, DoubleWell
 * Langevin (medians, quartiles, min/max over reps after warm-up), plus the dispatch / upload / read-back / tfjs-op
 * counts of one sample() and one kernel call.
 */
export async function sectionChainprof(ctx) {
  const { emit, gpu, watchDevice, small, repsArg } = ctx;
  await gpu();
  watchDevice();
  const sizes = small
    ? [
        [256, 32, 20],
        [16384, 32, 2], // 2^19 elements: the nonFiniteRows path and its before / after rows
      ]
    : [
        [4096, 32, 1000],
        [65536, 32, 200],
        [1048576, 32, 50],
      ];
  const chain = getKernelImpl(chainKernelName('doubleWell'), 'webgpu');
  const params = dw().kernelHint.params;
  const sampler = new LangevinDynamics(dw(), SETTINGS);
  for (const [B, D, N] of sizes) {
    const big = B * D >= 1 << 24;
    const reps = repsArg ?? (big ? 7 : 21);
    const meta = { section: 'chainprof', energy: 'DoubleWell(h=2,b=1)', chains: B, dim: D, steps: N };
    // f(k) returns a number: the part of f to count (its own set-up excluded).
    const time = timeRows({
      emit,
      meta,
      reps,
      warm: 3,
      warmArg: (w) => 10_000 + w,
      arg: (k) => k + 1,
      inner: true,
      keepMs: true,
    });
    const x0 = randomNormal(rngKey(1), [B, D]);
    await x0.data();
    const call = (x, n, seed) =>
      chain({
        method: 'langevin',
        x0: x,
        nSteps: n,
        key: rngKey(seed),
        startStep: 0,
        params,
        settings: SETTINGS,
      });
    // 1. the bare kernel (x0 drawn before, not timed) + read-back of the result
    const kernelRow = await time('bare kernel: chain.doubleWell + data()', async (i) => {
      const y = call(x0, N, i);
      await y.data();
      y.dispose();
    });
    // 2. sample() + data() (x0 drawn inside), as the lgv sections time it
    const sampleRow = await time('sample() + data() (public API, whole chain)', async (i) => {
      const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: i });
      await r.samples.data();
      r.samples.dispose();
    });
    // The same run with x0 passed in (the loop's own draw, made outside): no fused x0 draw, 2 dispatches.
    const x0Given = await time(
      'sample({ x0 }) + data() (x0 drawn outside, not timed: no fused draw)',
      async (i) => {
        const x = randomNormal(foldIn(rngKey(i), X0_STEP), [B, D]);
        await x.data();
        const t0 = performance.now();
        const r = await sampler.sample({ x0: x, nSteps: N, seed: i });
        await r.samples.data();
        const dt = performance.now() - t0;
        tf.dispose([x, r.samples]);
        return dt;
      },
    );
    await time('sample() + data(), onNonFinite: ignore', async (i) => {
      const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: i, onNonFinite: 'ignore' });
      await r.samples.data();
      r.samples.dispose();
    });
    // 3. the pieces
    await time('sample() without data() (what sample() itself waits for)', async (i) => {
      const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: i });
      r.samples.dispose();
    });
    // Before / after of the large-state finite check (B·D ≥ 2¹⁹: core's KERNEL_FINITE_SCAN_MIN): the same calls with
    // @ebm/cuda's nonFiniteRows unregistered run the old check (tf.sum, then isFinite / all / … when not finite).
    // The host scan in JS instead of WebAssembly SIMD (before), same run.
    if (B * D < finiteScanPolicy().kernelFrom) {
      const prev = setSimdFiniteScan(false);
      try {
        await time('sample() + data(), host finite scan in JS (SIMD scan off: before)', async (i) => {
          const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: i });
          await r.samples.data();
          r.samples.dispose();
        });
        await time('sample() 1 step + data(), host finite scan in JS (SIMD scan off: before)', async (i) => {
          const r = await sampler.sample({ nSamples: B, dim: D, nSteps: 1, seed: i });
          await r.samples.data();
          r.samples.dispose();
        });
      } finally {
        setSimdFiniteScan(prev);
      }
    }
    // Below 2^19 elements: sample() reads the states and scans them on the host (default), or, with the policy's
    // kernelWithRead, dispatches nonFiniteRows and reads its counts together with the states (no host scan).
    if (B * D < finiteScanPolicy().kernelFrom) {
      const prev = setFiniteScanPolicy({ kernelWithRead: true });
      try {
        await time(
          'sample() + data(), small-state check by nonFiniteRows read with the states (kernelWithRead)',
          async (i) => {
            const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: i });
            await r.samples.data();
            r.samples.dispose();
          },
        );
        await time(
          'sample() 1 step + data(), small-state check by nonFiniteRows read with the states (kernelWithRead)',
          async (i) => {
            const r = await sampler.sample({ nSamples: B, dim: D, nSteps: 1, seed: i });
            await r.samples.data();
            r.samples.dispose();
          },
        );
      } finally {
        setFiniteScanPolicy(prev);
      }
    }
    const scanImpl = getKernelImpl(NON_FINITE_ROWS_KERNEL, 'webgpu');
    if (scanImpl !== undefined && B * D >= 2 ** 19) {
      unregisterKernelImpl(NON_FINITE_ROWS_KERNEL, 'webgpu');
      try {
        await time(
          'sample() + data(), finite check by tfjs ops (nonFiniteRows unregistered: before)',
          async (i) => {
            const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: i });
            await r.samples.data();
            r.samples.dispose();
          },
        );
        await time(
          'sample() without data(), finite check by tfjs ops (nonFiniteRows unregistered: before)',
          async (i) => {
            const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: i });
            r.samples.dispose();
          },
        );
      } finally {
        registerKernelImpl(NON_FINITE_ROWS_KERNEL, 'webgpu', scanImpl, { override: true });
      }
    }
    await time('bare kernel 1 step + data() (kernel fixed cost)', async (i) => {
      const y = call(x0, 1, i);
      await y.data();
      y.dispose();
    });
    await time('sample() 1 step + data() (sample fixed cost)', async (i) => {
      const r = await sampler.sample({ nSamples: B, dim: D, nSteps: 1, seed: i });
      await r.samples.data();
      r.samples.dispose();
    });
    await time('bare kernel, JS side only (no read-back, no wait)', async (i) => {
      call(x0, N, i).dispose();
    });
    await time('x0 draw: randomNormal [B,D] + data()', async (i) => {
      const y = randomNormal(foldIn(rngKey(i), X0_STEP), [B, D]);
      await y.data();
      y.dispose();
    });
    await time('x0 draw + bare kernel + data() (sample() minus the sampler)', async (i) => {
      const k = rngKey(i);
      const x = randomNormal(foldIn(k, X0_STEP), [B, D]);
      const y = chain({
        method: 'langevin',
        x0: x,
        nSteps: N,
        key: k,
        startStep: 0,
        params,
        settings: SETTINGS,
      });
      x.dispose();
      await y.data();
      y.dispose();
    });
    // A GPU-only tensor (no values cached on the host), so the 1-element slice runs and is read on the GPU.
    const onGpu = tf.add(x0, 0);
    await time('read-back round trip: 1-element slice of a GPU tensor + data()', async () => {
      const y = tf.slice(onGpu, [0, 0], [1, 1]);
      await y.data();
      y.dispose();
    });
    await time('reduction + scalar read: tf.sum [B,D] + data()', async () => {
      const y = tf.sum(onGpu);
      await y.data();
      y.dispose();
    });
    await time('kernel + data(), then a second read of [B] (one extra read-back)', async (i) => {
      const y = call(x0, N, i);
      const s = tf.slice(y, [0, 0], [B, 1]);
      await s.data();
      await y.data();
      tf.dispose([s, y]);
    });
    await time('the old tfjs finite check on [B,D] + read of [B] (8 ops, one read)', async () => {
      const bad = tf.tidy(() => {
        const b = tf.logicalNot(tf.all(tf.isFinite(onGpu), 1));
        const base = tf.fill([B], -1);
        return tf.where(tf.logicalAnd(b, tf.less(base, 0)), tf.fill([B], N), base);
      });
      await bad.data();
      bad.dispose();
    });
    // The finite checks on their own, each on a fresh GPU-only copy of x0 (copy made before the clock starts):
    // the read + host scan sample() makes below core's KERNEL_FINITE_SCAN_MIN, the nonFiniteRows dispatch + read of
    // its counts above it, and both reads at once (what a small state would pay with the kernel).
    const scanOf = (d) => {
      const u = new Int32Array(d.buffer, d.byteOffset, d.length);
      let any = 0;
      for (let k = 0; k < u.length; k++) any |= (u[k] & 0x7f800000) + 0x00800000;
      return any;
    };
    const fresh = async () => {
      const y = tf.add(x0, 0);
      const one = tf.slice(y, [0, 0], [1, 1]);
      await one.data(); // y computed, nothing of it on the host
      one.dispose();
      return y;
    };
    await time('finite check: data() of [B,D] + host bit scan (sample() below 2^19 elements)', async () => {
      const y = await fresh();
      const t0 = performance.now();
      scanOf(await y.data());
      const dt = performance.now() - t0;
      y.dispose();
      return dt;
    });
    await time('finite check: data() of [B,D] alone (the read the host scan rides on)', async () => {
      const y = await fresh();
      const t0 = performance.now();
      await y.data();
      const dt = performance.now() - t0;
      y.dispose();
      return dt;
    });
    await time(
      'finite check: nonFiniteRows [B,D] + read of its counts (sample() from 2^19 elements)',
      async () => {
        const y = await fresh();
        const t0 = performance.now();
        const c = runKernel(NON_FINITE_ROWS_KERNEL, { x: y });
        await c.data();
        const dt = performance.now() - t0;
        tf.dispose([c, y]);
        return dt;
      },
    );
    await time('finite check: nonFiniteRows counts read and data() of [B,D] at once', async () => {
      const y = await fresh();
      const t0 = performance.now();
      const c = runKernel(NON_FINITE_ROWS_KERNEL, { x: y });
      await Promise.all([c.data(), y.data()]);
      const dt = performance.now() - t0;
      tf.dispose([c, y]);
      return dt;
    });
    // The scan alone (the read is cached after the first call, and not timed): its row count goes to `scanned`,
    // so the loop's result is used.
    let scanned = 0;
    await time('host scan of the read [B,D] for non-finite rows (JS)', async () => {
      const d = await x0.data();
      const t0 = performance.now();
      let n = 0;
      for (let r = 0; r < B; r++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += d[r * D + j] * 0;
        if (s !== 0) n++;
      }
      const dt = performance.now() - t0;
      scanned += n;
      return dt;
    });
    if (scanned !== 0) console.log(`S ebm chainprof host scan: ${scanned} non-finite rows in x0`);
    onGpu.dispose();
    // The fused x0 draw changes no number: sample() vs sample({ x0 }) from the loop's own draw, same seed.
    {
      const seed = 4242;
      const x = randomNormal(foldIn(rngKey(seed), X0_STEP), [B, D]);
      const a = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed, onNonFinite: 'ignore' });
      const b = await sampler.sample({ x0: x, nSteps: N, seed, onNonFinite: 'ignore' });
      const [da, db] = [await a.samples.data(), await b.samples.data()];
      let differ = 0;
      for (let i = 0; i < da.length; i++) if (!Object.is(da[i], db[i])) differ++;
      emit({
        side: 'ebm',
        ...meta,
        path: 'check: fused x0 draw vs sample({ x0 }), elements that differ',
        differ,
      });
      console.log(
        `S ebm chainprof check: fused x0 draw vs x0 given: ${differ} of ${da.length} elements differ`,
      );
      tf.dispose([x, a.samples, b.samples]);
    }
    // Kernel-only GPU time from timestamp queries (tf.time's kernelMs; NaN / an error string without them).
    let gpuMs = Number.NaN;
    try {
      const t = [];
      for (let k = 0; k < 7; k++) {
        const info = await tf.time(() => call(x0, N, k + 1));
        if (typeof info.kernelMs === 'number') t.push(info.kernelMs);
      }
      t.sort((a, b) => a - b);
      gpuMs = t.length ? quantile(t, 0.5) : Number.NaN;
      emit({
        side: 'ebm',
        ...meta,
        path: 'kernel GPU time (timestamp queries, tf.time kernelMs)',
        medianMs: gpuMs,
        n: t.length,
        minMs: t[0] ?? Number.NaN,
        maxMs: t[t.length - 1] ?? Number.NaN,
      });
    } catch (e) {
      emit({
        side: 'ebm',
        ...meta,
        path: 'kernel GPU time (timestamp queries, tf.time kernelMs)',
        error: String(e).slice(0, 300),
      });
    }
    // The floor: raw Dawn dispatch + copy + mapAsync of the same bytes (no tfjs), see floor-sections.mjs.
    const floorMs = await rawRoundTripMs(B * D * 4, Math.max(reps, 21));
    emit({
      side: 'ebm',
      ...meta,
      path: 'floor: raw Dawn dispatch + copy + mapAsync of [B,D] (no tfjs)',
      medianMs: floorMs,
      n: Math.max(reps, 21),
      minMs: floorMs,
      maxMs: floorMs,
    });
    // 4. counts of one call each (not timed)
    const counter = countBackend();
    const countOf = async (label, f) => {
      counter.reset();
      const prof = await tf.profile(f);
      const c = counter.get();
      emit({
        side: 'ebm',
        ...meta,
        path: `counts: ${label}`,
        dispatches: c.dispatches,
        programs: c.programs,
        uploads: c.uploads,
        readBacks: c.reads,
        uniformWrites: c.writeBuffer,
        tfjsOps: prof.kernels.length,
        tfjsOpNames: prof.kernels.map((k) => k.name),
      });
      console.log(
        `S ebm chainprof counts ${label}: dispatches ${c.dispatches} uploads ${c.uploads} reads ${c.reads} tfjs ops ${prof.kernels.length} [${prof.kernels.map((k) => k.name).join(',')}]`,
      );
    };
    await countOf('sample() + data()', async () => {
      const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: 5 });
      await r.samples.data();
      r.samples.dispose();
    });
    await countOf('sample() without data()', async () => {
      const r = await sampler.sample({ nSamples: B, dim: D, nSteps: N, seed: 5 });
      r.samples.dispose();
    });
    await countOf('bare kernel + data()', async () => {
      const y = call(x0, N, 5);
      await y.data();
      y.dispose();
    });
    counter.restore();
    emit({
      side: 'ebm',
      ...meta,
      path: 'summary',
      kernelMs: kernelRow.medianMs,
      sampleMs: sampleRow.medianMs,
      sampleX0GivenMs: x0Given.medianMs,
      kernelGpuMs: gpuMs,
      floorMs,
      overheadMs: sampleRow.medianMs - kernelRow.medianMs,
      // What Dawn allows at best for this call: the kernel's GPU time plus one raw round trip of the result.
      boundMs: Number.isFinite(gpuMs) ? gpuMs + floorMs : Number.NaN,
    });
    console.log(
      `S ebm chainprof ${B}x${D}x${N} | sample() ${sampleRow.medianMs.toFixed(3)} ms (x0 given ${x0Given.medianMs.toFixed(3)}), ` +
        `bare kernel + read ${kernelRow.medianMs.toFixed(3)} ms, kernel GPU ${gpuMs.toFixed(3)} ms, raw Dawn round trip ${floorMs.toFixed(3)} ms, ` +
        `bound (GPU + round trip) ${(gpuMs + floorMs).toFixed(3)} ms`,
    );
    x0.dispose();
  }
}
