import {
  chainKernelName,
  type EbmErrorCode,
  type EnergyFunction,
  foldIn,
  isEbmError,
  normalArray,
  type RngKey,
  rngKey,
  runKernel,
} from '@ebm/core';
import { expectKsTwoSample, expectMean, expectNoLeaks, testSeed, webGpuForTests } from '@ebm/core/testing';
import * as M from '@ebm/models';
import { HamiltonianMonteCarlo, LangevinDynamics, MALA } from '@ebm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHAIN_KINDS,
  type ChainTraceOutput,
  chainTraceKernelName,
  mlpKernelHint,
  registerWebGpuKernels,
  setupWebGpu,
} from './index.js';

// Fused whole-chain kernels against the composite step loop, on lavapipe in CI. Small problems only: lavapipe
// emulates Vulkan on the CPU and has crashed inside Dawn on big programs.
const { available: gpuOk } = await webGpuForTests(() => setupWebGpu(), 'WebGPU chain-kernel tests');
await tf.setBackend('cpu');

/** One energy of every kind with a fused WGSL energy, in dimension 4. */
function energies(): Record<string, EnergyFunction & { dispose?: () => void }> {
  return {
    doubleWell: new M.DoubleWell(),
    harmonic: new M.Harmonic({ k: 2 }),
    rastrigin: new M.Rastrigin({ a: 1 }),
    manyWell: new M.ManyWell({ dim: 4 }),
    rosenbrock: new M.Rosenbrock({ a: 1, b: 5 }),
    ackley: new M.Ackley(),
    gaussian: new M.Gaussian({
      mean: [1, -1, 0.5, 0],
      covariance: [
        [1, 0.3, 0, 0],
        [0.3, 2, 0, 0],
        [0, 0, 0.5, 0.1],
        [0, 0, 0.1, 1],
      ],
    }),
    gaussianMixture: new M.GaussianMixture({
      means: [
        [-2, 0, 0, 0],
        [2, 0, 1, 0],
      ],
      std: 0.7,
      weights: [1, 2],
    }),
    funnel: new M.Funnel({ dim: 4, scale: 1 }),
    banana: new M.Banana({ dim: 4, curvature: 0.1, scale: 2 }),
  };
}

type Method = 'langevin' | 'mala' | 'hmc';
const SETTINGS: Record<Method, Record<string, number>> = {
  langevin: { stepSize: 0.01, noiseScale: 1 },
  mala: { stepSize: 0.05, invMass: 1 },
  hmc: { stepSize: 0.05, invMass: 1, nLeapfrogSteps: 5 },
};

function sampler(method: Method, energy: EnergyFunction) {
  const s = SETTINGS[method];
  if (method === 'langevin') return new LangevinDynamics(energy, { stepSize: s.stepSize! });
  if (method === 'mala') return new MALA(energy, { stepSize: s.stepSize! });
  return new HamiltonianMonteCarlo(energy, { stepSize: s.stepSize!, nLeapfrogSteps: s.nLeapfrogSteps! });
}

/** The composite step loop: `n` steps of `sampler.step` with keys foldIn(runKey, t). */
async function stepLoop(method: Method, energy: EnergyFunction, x0: tf.Tensor2D, runKey: RngKey, n: number) {
  const s = sampler(method, energy);
  let st = s.init(x0);
  for (let t = 0; t < n; t++) {
    const r = s.step(st as never, foldIn(runKey, t));
    const held = Object.values(r.state as object);
    for (const v of Object.values(r.info as Record<string, tf.Tensor>)) if (!held.includes(v)) v.dispose();
    s.disposeState(st as never);
    st = r.state as typeof st;
  }
  const out = await st.x.data();
  s.disposeState(st as never);
  return out;
}

describe.skipIf(!gpuOk)('whole-chain WebGPU kernels for every energy kind and method', () => {
  const seed = testSeed('cuda-chain-kernels');
  const key = rngKey(seed);
  beforeAll(async () => {
    registerWebGpuKernels();
    await tf.setBackend('webgpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('covers every analytic kernelHint kind of @ebm/models', () => {
    const kinds = Object.values(energies()).map((e) => e.kernelHint?.kind);
    expect([...kinds, 'mlp'].sort()).toEqual([...CHAIN_KINDS].sort());
  });

  it("chain.<kind> draws the step loop's stream and matches the composite step loop to float32 rounding", async () => {
    const [B, D, N] = [16, 4, 8];
    const x0 = tf.tensor2d(normalArray(foldIn(key, 1), [B, D], 0, 0.5), [B, D]);
    const es = energies();
    for (const [kind, energy] of Object.entries(es)) {
      for (const method of ['langevin', 'mala', 'hmc'] as const) {
        const runKey = foldIn(key, kind.length * 7 + method.length);
        const want = await stepLoop(method, energy, x0, runKey, N);
        const out = runKernel(chainKernelName(kind), {
          method,
          x0,
          nSteps: N,
          key: runKey,
          startStep: 0,
          params: energy.kernelHint!.params,
          settings: SETTINGS[method],
        } as never) as tf.Tensor2D;
        const got = await out.data();
        out.dispose();
        // MH decisions can flip where log u and log α agree to rounding: require 15 of 16 chains to match.
        let matching = 0;
        for (let c = 0; c < B; c++) {
          let ok = true;
          for (let j = 0; j < D; j++) if (!(Math.abs(got[c * D + j]! - want[c * D + j]!) < 1e-3)) ok = false;
          if (ok) matching++;
        }
        expect(matching, `${kind} ${method}`).toBeGreaterThanOrEqual(method === 'langevin' ? B : B - 1);
      }
    }
    for (const e of Object.values(es)) e.dispose?.();
    x0.dispose();
  });

  it('chainTrace.<kind>: kept positions, per-step mean/var/energy/acceptance equal host reductions; split dispatches', async () => {
    const energy = new M.Gaussian({
      mean: [0.5, -0.5],
      covariance: [
        [1, 0.4],
        [0.4, 0.8],
      ],
    });
    const [B, D] = [40, 2]; // two workgroups of 32, the second partial
    const x0 = tf.tensor2d(normalArray(foldIn(key, 3), [B, D]), [B, D]);
    for (const [method, nSteps, burnIn, thin] of [
      ['mala', 1003, 500, 100], // two dispatches (MAX_STEPS_PER_DISPATCH = 1000), kept steps in both
      ['hmc', 12, 2, 3],
      ['langevin', 9, 0, 1],
    ] as const) {
      const inputs = {
        method,
        x0,
        nSteps,
        key: foldIn(key, 4),
        params: energy.kernelHint!.params,
        settings: SETTINGS[method],
        burnIn,
        thin,
        diagnostics: true,
        trajectory: true,
      };
      const r = runKernel(chainTraceKernelName('gaussian'), inputs as never) as ChainTraceOutput;
      const nKept = Math.floor((nSteps - burnIn) / thin);
      expect(r.nKept).toBe(nKept);
      expect(r.trajectory!.shape).toEqual([B, nKept, D]);
      expect(r.mean!.shape).toEqual([nKept, D]);
      const traj = await r.trajectory!.data();
      const mean = await r.mean!.data();
      const vr = await r.var!.data();
      const en = await r.energy!.data();
      for (let k = 0; k < nKept; k++) {
        const xs = tf.tensor2d(
          Array.from({ length: B * D }, (_, i) => traj[(Math.floor(i / D) * nKept + k) * D + (i % D)]!),
          [B, D],
        );
        const m = tf.moments(xs, 0);
        const e = energy.energy(xs);
        expect(
          Math.max(...Array.from(await m.mean.data(), (v, j) => Math.abs(v - mean[k * D + j]!))),
        ).toBeLessThan(1e-5);
        expect(
          Math.max(...Array.from(await m.variance.data(), (v, j) => Math.abs(v - vr[k * D + j]!))),
        ).toBeLessThan(1e-4);
        expect(Math.abs((await tf.mean(e).data())[0]! - en[k]!)).toBeLessThan(1e-4);
        tf.dispose([xs, m.mean, m.variance, e]);
      }
      if (method !== 'langevin') {
        const acc = await r.acceptanceRate!.data();
        expect(acc.every((a) => a >= 0 && a <= 1 && Math.abs(a * B - Math.round(a * B)) < 1e-4)).toBe(true);
      } else expect(r.acceptanceRate).toBeUndefined();
      // The traced chain ends where the untraced one does.
      const plain = runKernel(chainKernelName('gaussian'), inputs as never) as tf.Tensor2D;
      const a = await plain.data();
      const b = await r.x.data();
      expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)))).toBe(0);
      tf.dispose(
        [plain, r.x, r.mean!, r.var!, r.energy!, r.trajectory!, r.acceptanceRate, r.acceptProb].filter(
          (t) => t !== undefined,
        ),
      );
      await expectNoLeaks(() => runKernel(chainTraceKernelName('gaussian'), inputs as never), {
        label: `chainTrace ${method}`,
      });
    }
    x0.dispose();
    energy.dispose();
  });

  it('chain.mlp: the fused MLP forward + input gradient matches autograd in the step loop (silu, tanh, leakyRelu, relu-silu per layer)', async () => {
    const [B, D, N] = [8, 3, 6];
    const x0Data = normalArray(foldIn(key, 8), [B, D]);
    const x0 = tf.tensor2d(x0Data, [B, D]);
    for (const activation of ['silu', 'tanh', 'leakyRelu', ['relu', 'silu']] as const) {
      const energy = new M.MLPEnergy({ inputDim: D, widths: [16, 8], activation, seed: 3 });
      const coop = activation === 'silu' || Array.isArray(activation);
      const hint = mlpKernelHint(energy)!;
      expect(hint.kind).toBe('mlp');
      for (const method of ['langevin', 'hmc'] as const) {
        const runKey = foldIn(key, 9);
        // Reference: the composite step loop with autograd on the cpu backend (same host stream as the GPU's).
        await tf.setBackend('cpu');
        const xc = tf.tensor2d(x0Data, [B, D]);
        let want: Float32Array;
        try {
          want = (await stepLoop(method, energy, xc, runKey, N)) as Float32Array;
        } finally {
          xc.dispose();
          await tf.setBackend('webgpu');
        }
        const out = runKernel(chainKernelName('mlp'), {
          method,
          x0,
          nSteps: N,
          key: runKey,
          params: hint.params as never,
          // The cooperative Langevin program (a workgroup per 16 chains), forced on lavapipe for SiLU and the
          // per-layer network only: its shader is slow for lavapipe's LLVM to compile.
          settings: { ...SETTINGS[method], mlpCooperative: coop ? 1 : 0 } as never,
        }) as tf.Tensor2D;
        const got = await out.data();
        out.dispose();
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst, `${activation} ${method}`).toBeLessThan(1e-3);
      }
      // Energies: the traced energy series equals the network's energy at the kept states.
      const r = runKernel(chainTraceKernelName('mlp'), {
        method: 'langevin',
        x0,
        nSteps: 2,
        key,
        params: hint.params as never,
        settings: SETTINGS.langevin,
        trajectory: true,
      } as never) as ChainTraceOutput;
      const last = tf.tidy(() =>
        tf.squeeze(tf.slice(r.trajectory!, [0, 1, 0], [-1, 1, -1]), [1]),
      ) as tf.Tensor2D;
      const e = energy.energy(last);
      const eHost = (await tf.mean(e).data())[0]!;
      expect(Math.abs((await r.energy!.data())[1]! - eHost)).toBeLessThan(1e-4 * (1 + Math.abs(eHost)));
      tf.dispose([last, e, r.x, r.mean!, r.var!, r.energy!, r.trajectory!]);
      energy.dispose();
    }
    x0.dispose();
  });

  it('chain.mlp: every cooperative shape (chains × threads per workgroup) gives the same states, bit for bit', async () => {
    // Every shape sums in the same order (bias, then inputs 0, 1, …), so states agree exactly across shapes; the
    // one-thread-per-chain program sums in its own order (float32 rounding only). Philox noise in core's layout.
    const energy = new M.MLPEnergy({ inputDim: 2, widths: [8, 4], activation: 'silu', seed: 4 });
    const maxDiff = (a: Float32Array, b: Float32Array) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
    // Shapes kept few: each is a shader that lavapipe's LLVM takes up to a minute to compile. The reference '16x64':
    // 8 chain groups of 2 chains; '16x128': 16 groups of 1; the default here ('2x64', below): 2 groups, c · D = 4.
    for (const [D, shapes] of [[2, ['16x128']]] as const) {
      const B = 22;
      const x0 = tf.tensor2d(normalArray(foldIn(key, 10 + D), [B, D]), [B, D]);
      const e =
        D === 2 ? energy : new M.MLPEnergy({ inputDim: D, widths: [8, 4], activation: 'silu', seed: 4 });
      const params = mlpKernelHint(e)!.params;
      const runShape = async (extra: Record<string, unknown>) => {
        const out = runKernel(chainKernelName('mlp'), {
          method: 'langevin',
          x0,
          nSteps: 3,
          key: foldIn(key, 11),
          params: params as never,
          settings: { ...SETTINGS.langevin, ...extra } as never,
        }) as tf.Tensor2D;
        const v = (await out.data()) as Float32Array;
        out.dispose();
        return v;
      };
      const ref = await runShape({ mlpCooperative: 1, mlpCoopShape: '16x64' });
      expect(maxDiff(ref, await runShape({ mlpCooperative: 0 })), `D ${D} one-thread`).toBeLessThan(1e-4);
      for (const shape of shapes) {
        expect(
          maxDiff(await runShape({ mlpCooperative: 1, mlpCoopShape: shape }), ref),
          `D ${D} ${shape}`,
        ).toBe(0);
      }
      if (D === 2) {
        // The default fits the shape to the batch (here 2 chains per workgroup: '2x64', 2 chain groups).
        expect(maxDiff(await runShape({ mlpCooperative: 1 }), ref), 'default shape').toBe(0);
        for (const bad of ['1x64', '3x64', '16x32', 16]) {
          let thrown: unknown;
          try {
            runKernel(chainKernelName('mlp'), {
              method: 'langevin',
              x0,
              nSteps: 3,
              key,
              params: params as never,
              settings: { ...SETTINGS.langevin, mlpCooperative: 1, mlpCoopShape: bad } as never,
            });
          } catch (err) {
            thrown = err;
          }
          expect(isEbmError(thrown, 'INVALID_PARAM'), `shape ${bad}`).toBe(true);
        }
      } else e.dispose();
      x0.dispose();
    }
    energy.dispose();
  });

  it('MALA and HMC whole chains sample the target: KS against exact draws of a correlated Gaussian', async () => {
    const energy = new M.Gaussian({
      mean: [1, -1],
      covariance: [
        [1, 0.6],
        [0.6, 2],
      ],
    });
    const exact = energy.sample(2048, foldIn(key, 5));
    const ex = await exact.data();
    for (const method of ['mala', 'hmc'] as const) {
      const x0 = tf.zeros([2048, 2]) as tf.Tensor2D;
      const out = runKernel(chainKernelName('gaussian'), {
        method,
        x0,
        nSteps: method === 'mala' ? 150 : 40,
        key: foldIn(key, 6),
        params: energy.kernelHint!.params,
        settings:
          method === 'mala'
            ? { stepSize: 0.3, invMass: 1 }
            : { stepSize: 0.3, invMass: 1, nLeapfrogSteps: 5 },
      } as never) as tf.Tensor2D;
      const got = await out.data();
      for (const j of [0, 1]) {
        const a = Array.from({ length: 2048 }, (_, i) => got[2 * i + j]!);
        const b = Array.from({ length: 2048 }, (_, i) => ex[2 * i + j]!);
        expectKsTwoSample(a, b, { seed, label: `${method} coordinate ${j}` });
        expectMean(a, j === 0 ? 1 : -1, { seed, label: `${method} mean ${j}` });
      }
      tf.dispose([x0, out]);
    }
    exact.dispose();
    energy.dispose();
  });

  it('rejects what it cannot run with NOT_IMPLEMENTED and bad input with a clear error, leaking nothing', async () => {
    const x0 = tf.zeros([4, 2]) as tf.Tensor2D;
    const odd = tf.zeros([4, 3]) as tf.Tensor2D;
    const base = {
      method: 'mala',
      x0,
      nSteps: 3,
      key,
      params: { barrierHeight: 2, b: 1 },
      settings: { stepSize: 0.1 },
    };
    const err = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const cases: [string, EbmErrorCode, () => unknown][] = [
      [
        'nuts',
        'NOT_IMPLEMENTED',
        () => runKernel(chainKernelName('doubleWell'), { ...base, method: 'nuts' } as never),
      ],
      [
        'diagonal mass',
        'NOT_IMPLEMENTED',
        () =>
          runKernel(chainKernelName('doubleWell'), {
            ...base,
            settings: { stepSize: 0.1, invMass: [1, 2] },
          } as never),
      ],
      [
        'gaussian params',
        'INVALID_PARAM',
        () =>
          runKernel(chainKernelName('gaussian'), {
            ...base,
            params: { mean: [0, 0, 0], precision: [] },
          } as never),
      ],
      [
        'manyWell odd dim',
        'SHAPE_MISMATCH',
        () => runKernel(chainKernelName('manyWell'), { ...base, x0: odd, params: {} } as never),
      ],
      [
        'thin 0',
        'INVALID_PARAM',
        () => runKernel(chainTraceKernelName('doubleWell'), { ...base, thin: 0 } as never),
      ],
    ];
    for (const [label, code, f] of cases) {
      await expectNoLeaks(
        () => {
          err(f);
        },
        { label },
      );
      expect(isEbmError(err(f), code), label).toBe(true);
    }
    tf.dispose([x0, odd]);
  });
});
