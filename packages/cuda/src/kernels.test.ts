import {
  bitsToNormal,
  bitsToUniform,
  chainKernelName,
  foldIn,
  getKernelImpl,
  isEbmError,
  kernelSource,
  langevinStepComposite,
  normalArray,
  normalCdf,
  randomNormal,
  randomUniform,
  rngKey,
  runKernel,
  uniformArray,
} from '@ebm/core';
import {
  countKernelCalls,
  expectKsOneSample,
  expectKsTwoSample,
  expectNoLeaks,
  testSeed,
  webGpuForTests,
} from '@ebm/core/testing';
import { DoubleWell } from '@ebm/models';
import { LangevinDynamics } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu, WEBGPU_KERNEL_NAMES } from './index.js';
import { convertBitsWebGpu } from './webgpu-kernels.js';

// Small problems only: lavapipe is a CPU emulation of Vulkan and has crashed inside Dawn on big programs.
const gpu = await webGpuForTests(() => setupWebGpu(), 'WebGPU kernel tests');
const gpuOk = gpu.available;
await tf.setBackend('cpu');

it.runIf(gpu.required)('EBM_TEST_WEBGPU=1: a WebGPU adapter is available', () => {
  expect(gpuOk, gpu.reason).toBe(true);
});

describe('registerWebGpuKernels (registry only, any machine)', () => {
  it('registers every kernel for webgpu only, idempotently, and unregisters them', async () => {
    const unregister = registerWebGpuKernels();
    expect(registerWebGpuKernels()).toBe(unregister);
    expect(WEBGPU_KERNEL_NAMES).toEqual(
      expect.arrayContaining(['randomNormal', 'randomUniform', 'langevinStep', 'chain.doubleWell']),
    );
    for (const name of WEBGPU_KERNEL_NAMES) expect(kernelSource(name, 'webgpu'), name).toBe('backend');
    expect(kernelSource('randomNormal', 'cpu')).toBe('fallback');
    // @ebm/core registers its own fused CPU chain kernels for cpu; the webgpu registration leaves them alone.
    expect(getKernelImpl(chainKernelName('doubleWell'), 'cpu')).not.toBe(
      getKernelImpl(chainKernelName('doubleWell'), 'webgpu'),
    );

    unregister();
    expect(kernelSource('randomNormal', 'webgpu')).toBe('fallback');
    expect(kernelSource('langevinStep', 'webgpu')).toBe('fallback');
    expect(kernelSource('chain.doubleWell', 'webgpu')).toBe('none');
    const again = registerWebGpuKernels();
    expect(again).not.toBe(unregister);
    expect(kernelSource('randomNormal', 'webgpu')).toBe('backend');
    again();
    // The side-effect entry registers them too.
    await import('./register.js');
    for (const name of WEBGPU_KERNEL_NAMES) expect(kernelSource(name, 'webgpu'), name).toBe('backend');
  });
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** True when a webgpu tensor lives only in a GPU buffer (no CPU copy): it was made on the GPU, not uploaded. */
const gpuOnly = (t: tf.Tensor): boolean => {
  const data = (
    tf.backend() as unknown as { tensorMap: { get(id: object): { values: unknown; resource: unknown } } }
  ).tensorMap.get(t.dataId);
  return data.values == null && data.resource != null;
};

describe.skipIf(!gpuOk)('fused WGSL kernels on webgpu (Dawn)', () => {
  const seed = testSeed('cuda-kernels');
  const key = rngKey(seed);

  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('randomUniform runs on the GPU and is bit-identical to the host stream', async () => {
    expect(kernelSource('randomUniform')).toBe('backend');
    for (const shape of [[1], [3], [4], [5], [2, 3], [129, 7], [3, 4, 5]]) {
      const k = foldIn(key, shape.length * 1000 + shape[0]!);
      const t = randomUniform(k, shape);
      expect(t.shape).toEqual(shape);
      expect(t.dtype).toBe('float32');
      const got = await t.data();
      t.dispose();
      const want = uniformArray(k, shape);
      let mismatches = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) mismatches++;
      expect(mismatches, `shape ${shape}`).toBe(0);
    }
  });

  it('the WGSL conversions match bitsToUniform exactly and bitsToNormal within 1e-5 on edge words', async () => {
    const words = [
      0,
      1,
      2,
      255,
      256,
      0x7fffff,
      0x7fffff00,
      0x7fffffff,
      0x80000000,
      0x80000001,
      0x800000ff,
      0x80000100,
      0xfffffe00,
      0xfffffeff,
      0xffffff00,
      0xfffffffe,
      0xffffffff,
      // tail/central boundary of Acklam's approximation (p = 0.02425) on both sides
      104152955,
      104152956,
      104152957,
      104152958,
      0xffffffff - 104152956,
      0xffffffff - 104152957,
    ];
    const r = uniformArray(foldIn(key, 7), [2000]);
    for (const u of r) words.push(Math.floor(u * 2 ** 32));
    const bits = tf.tensor1d(
      Int32Array.from(words, (w) => w | 0),
      'int32',
    );
    const uni = convertBitsWebGpu('uniform', bits);
    const nor = convertBitsWebGpu('normal', bits);
    const [gu, gn] = [await uni.data(), await nor.data()];
    tf.dispose([bits, uni, nor]);
    const wantU = Float32Array.from(words, bitsToUniform);
    const wantN = Float64Array.from(words, bitsToNormal);
    for (let i = 0; i < words.length; i++) expect(gu[i], `uniform of ${words[i]}`).toBe(wantU[i]);
    expect(maxAbsDiff(gn, wantN)).toBeLessThan(1e-5);
    expect(gn[0]).toBeLessThan(-6.2); // the extreme lower tail keeps 32-bit resolution
    expect(gn[16]).toBeGreaterThan(6.2);
  });

  it('randomNormal runs on the GPU and matches normalArray within 1e-5', async () => {
    expect(kernelSource('randomNormal')).toBe('backend');
    const host = tf.tensor(normalArray(key, [4]));
    expect(gpuOnly(host)).toBe(false); // the check can fail: a host-made tensor has a CPU copy
    host.dispose();
    for (const shape of [[1], [7], [64, 33], [2, 3, 5]]) {
      const k = foldIn(key, 100 + shape.length);
      const t = runKernel('randomNormal', { key: k, shape });
      expect(t.shape).toEqual(shape);
      expect(gpuOnly(t), 'generated on the GPU').toBe(true);
      const got = await t.data();
      t.dispose();
      expect(maxAbsDiff(got, normalArray(k, shape)), `shape ${shape}`).toBeLessThan(1e-5);
    }
    const empty = randomNormal(key, [0, 3]);
    expect(empty.shape).toEqual([0, 3]);
    empty.dispose();
  });

  it('random kernels reject bad keys with INVALID_PARAM and leak no tensors', async () => {
    const bad = () => runKernel('randomNormal', { key: [1, -1] as unknown as [number, number], shape: [2] });
    expect(bad).toThrowError(/INVALID_PARAM.*key/);
    await expectNoLeaks(() => randomNormal(key, [10, 3]), { label: 'randomNormal' });
    await expectNoLeaks(() => randomUniform(key, [5]), { label: 'randomUniform' });
  });

  it('the fused langevinStep equals the composite on the same inputs, and leaks nothing', async () => {
    expect(kernelSource('langevinStep')).toBe('backend');
    const shape: [number, number] = [50, 3];
    const x = tf.tensor2d(normalArray(foldIn(key, 1), shape), shape);
    const grad = tf.tensor2d(normalArray(foldIn(key, 2), shape, 0, 3), shape);
    const noise = tf.tensor2d(normalArray(foldIn(key, 3), shape), shape);
    const noiseRow = tf.tensor2d(normalArray(foldIn(key, 4), [1, 3]), [1, 3]);
    for (const [stepSize, noiseScale] of [
      [0.01, 1],
      [0.3, 0.5],
      [0.05, 0],
    ] as const) {
      const inputs = { x, grad, noise, stepSize, noiseScale };
      const fused = runKernel('langevinStep', inputs);
      const composite = langevinStepComposite(inputs);
      expect(fused.shape).toEqual(shape);
      expect(maxAbsDiff(await fused.data(), await composite.data())).toBeLessThan(1e-5);
      tf.dispose([fused, composite]);
      await expectNoLeaks(() => runKernel('langevinStep', inputs), { label: 'langevinStep' });
    }
    // A broadcast noise row is not fused: the kernel falls back to the composite, with the same result.
    const inputs = { x, grad, noise: noiseRow, stepSize: 0.1, noiseScale: 1 };
    const a = runKernel('langevinStep', inputs);
    const b = langevinStepComposite(inputs);
    expect(maxAbsDiff(await a.data(), await b.data())).toBe(0);
    // Inside a gradient tape the differentiable composite runs: d/dx Σ step(x) = 1 everywhere.
    const dx = tf.grad((xx: tf.Tensor) =>
      tf.sum(runKernel('langevinStep', { x: xx as tf.Tensor2D, grad, noise, stepSize: 0.1, noiseScale: 1 })),
    )(x);
    expect(Array.from(await dx.data()).every((v) => v === 1)).toBe(true);
    tf.dispose([a, b, dx, x, grad, noise, noiseRow]);
  });

  it('chain.doubleWell runs nSteps Langevin steps in one dispatch, matching the host recursion', async () => {
    const [h, b, stepSize, noiseScale] = [2, 1, 0.01, 1];
    const params = { barrierHeight: h, b };
    const settings = { stepSize, noiseScale };
    // 25 steps in one dispatch, and 1003 steps split over two dispatches (MAX_STEPS_PER_DISPATCH = 1000).
    for (const [shape, nSteps] of [
      [[37, 3], 25],
      [[5, 2], 1003],
    ] as [[number, number], number][]) {
      const x0Data = normalArray(foldIn(key, 11), shape);
      const x0 = tf.tensor2d(x0Data, shape);
      const runKey = foldIn(key, 12);
      const inputs = { method: 'langevin' as const, x0, nSteps, key: runKey, params, settings };
      const out = runKernel(chainKernelName('doubleWell'), inputs) as tf.Tensor2D;
      expect(out.shape).toEqual(shape);
      const got = await out.data();
      out.dispose();
      // Host reference in float32: x ← x − h·4h·x(x² − b²) + σ√(2h)·ξ_t, ξ_t = normalArray(foldIn(key, t)).
      const f = Math.fround;
      const want = Float32Array.from(x0Data);
      const amp = f(noiseScale * Math.sqrt(2 * stepSize));
      for (let t = 0; t < nSteps; t++) {
        const xi = normalArray(foldIn(runKey, t), shape);
        for (let i = 0; i < want.length; i++) {
          const x = want[i]!;
          const g = f(f(f(4 * h) * x) * f(f(x * x) - b * b));
          want[i] = f(f(x - f(g * f(stepSize))) + f(xi[i]! * amp));
        }
      }
      expect(maxAbsDiff(got, want), `${nSteps} steps`).toBeLessThan(1e-4);
      if (nSteps > 1000) {
        await expectNoLeaks(() => runKernel(chainKernelName('doubleWell'), inputs), {
          label: 'chain.doubleWell',
        });
        // Methods other than Langevin, MALA and HMC are declined with NOT_IMPLEMENTED (samplers then use their
        // step loop).
        let err: unknown;
        try {
          runKernel(chainKernelName('doubleWell'), { ...inputs, method: 'nuts' } as never);
        } catch (e) {
          err = e;
        }
        expect(isEbmError(err, 'NOT_IMPLEMENTED')).toBe(true);
        expect(() =>
          runKernel(chainKernelName('doubleWell'), { ...inputs, params: { barrierHeight: -1, b } }),
        ).toThrowError(/INVALID_PARAM.*barrierHeight/);
        expect(() =>
          runKernel(chainKernelName('doubleWell'), { ...inputs, settings: { stepSize: 0 } } as never),
        ).toThrowError(/INVALID_PARAM.*stepSize/);
      }
      x0.dispose();
    }
  });

  it('chain.harmonic reaches the exact stationary law of discretised Langevin (KS, false-fail 1e-4)', async () => {
    // x ← (1 − hk)x + σ√(2h)ξ is stationary at N(0, 2σ²/(k(2 − hk))); from x0 = 0 the variance after t steps
    // differs from it by a factor 1 − (1 − hk)^(2t) = 1 − 0.25^40.
    const [k, stepSize, noiseScale] = [1, 0.5, 1];
    const x0 = tf.zeros([4096, 2]) as tf.Tensor2D;
    const out = runKernel(chainKernelName('harmonic'), {
      method: 'langevin',
      x0,
      nSteps: 40,
      key: foldIn(key, 21),
      params: { k },
      settings: { stepSize, noiseScale },
    }) as tf.Tensor2D;
    const samples = await out.data();
    tf.dispose([x0, out]);
    const sd = Math.sqrt((2 * noiseScale ** 2) / (k * (2 - stepSize * k)));
    expectKsOneSample(samples, (x) => normalCdf(x / sd), { seed, label: 'chain.harmonic' });
    // The continuous-time law N(0, 1/k) is rejected by the same test: it has power to see the step-size bias.
    expect(() => expectKsOneSample(samples, (x) => normalCdf(x), { seed })).toThrowError(/TEST_FAILURE/);
  });

  it('LangevinDynamics on DoubleWell uses chain.doubleWell unchanged and matches the cpu step loop (KS)', async () => {
    const energy = new DoubleWell();
    const sampler = new LangevinDynamics(energy, { stepSize: 0.01 });
    const opts = { nSamples: 1024, dim: 2, nSteps: 200 };
    const [gpu, calls] = await countKernelCalls(chainKernelName('doubleWell'), 'webgpu', async () => {
      const { samples } = await sampler.sample({ ...opts, seed });
      const data = await samples.data();
      samples.dispose();
      return data;
    });
    expect(calls).toBe(1);
    await tf.setBackend('cpu');
    try {
      const { samples } = await sampler.sample({ ...opts, seed: seed + 1 });
      const cpu = await samples.data();
      samples.dispose();
      // Same Markov kernel from the same initial law, independent seeds: the laws at step 200 agree.
      expectKsTwoSample(gpu, cpu, { seed, label: 'whole-chain webgpu vs cpu step loop' });
    } finally {
      await tf.setBackend('webgpu');
    }
  });

  it('the sampler step loop on webgpu (GPU noise + fused step) tracks the cpu composite path', async () => {
    const sampler = new LangevinDynamics(new DoubleWell(), { stepSize: 0.01 });
    // An energy trajectory forces the step loop (the traced whole chain records x only): randomNormal +
    // langevinStep on the GPU.
    const opts = { nSamples: 64, dim: 2, nSteps: 30, seed, trajectory: { fields: ['x', 'energy'] } } as const;
    const g = await sampler.sample(opts);
    const gpu = await g.samples.data();
    tf.dispose([g.samples, g.trajectory]);
    await tf.setBackend('cpu');
    try {
      const c = await sampler.sample(opts);
      const cpu = await c.samples.data();
      tf.dispose([c.samples, c.trajectory]);
      // Same keys, same stream: only float32 rounding differs.
      expect(maxAbsDiff(gpu, cpu)).toBeLessThan(1e-3);
    } finally {
      await tf.setBackend('webgpu');
    }
  });
});
