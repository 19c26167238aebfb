import { isEbmError, LinearInterpolant } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { FlowSampler, type FlowSamplerOptions } from '../src/index.js';

/**
 * Closed-form fields of the linear path from N(0, I) (t = 0) to N(μ, Σ) (t = 1), Σ = R·diag(λ)·Rᵀ:
 * x_t ~ N(tμ, C_t), C_t = t²Σ + (1 − t)²I, so with y = x − tμ:
 * score s = −C_t⁻¹y, noise ε = E[x₀|x] = (1 − t)C_t⁻¹y, velocity v = μ + (tΣ − (1 − t)I)C_t⁻¹y.
 */
const MU = [1, -2];
const LAM = [2, 0.5];
const ANG = Math.PI / 6;
const R = [
  [Math.cos(ANG), -Math.sin(ANG)],
  [Math.sin(ANG), Math.cos(ANG)],
];
const SIGMA = [0, 1].map((i) =>
  [0, 1].map((j) => R[i]![0]! * LAM[0]! * R[j]![0]! + R[i]![1]! * LAM[1]! * R[j]![1]!),
);

function field(kind: 'velocity' | 'score' | 'noise') {
  return (x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D =>
    tf.tidy(() => {
      const tc = tf.reshape(t, [-1, 1]);
      const u = tf.sub(1, tc);
      const Rm = tf.tensor2d(R);
      const lam = tf.tensor2d([LAM]);
      const y = tf.sub(x, tf.mul(tc, tf.tensor2d([MU])));
      const z = tf.matMul(y, Rm); // eigen-coordinates
      const inv = tf.div(1, tf.add(tf.mul(tf.square(tc), lam), tf.square(u)));
      const cz = tf.mul(z, inv);
      if (kind === 'score') return tf.neg(tf.matMul(cz, Rm, false, true)) as tf.Tensor2D;
      if (kind === 'noise') return tf.mul(u, tf.matMul(cz, Rm, false, true)) as tf.Tensor2D;
      const gain = tf.sub(tf.mul(tc, lam), u);
      return tf.add(tf.tensor2d([MU]), tf.matMul(tf.mul(cz, gain), Rm, false, true)) as tf.Tensor2D;
    });
}

const N = 4000;

/** Mean and covariance within z = 4.5 standard errors (false-fail ≈ 7e-6 per check, 5 checks per run). */
async function expectTarget(samples: tf.Tensor2D, extraVarTol = 0) {
  const v = (await samples.data()) as Float32Array;
  const n = samples.shape[0];
  const m = [0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 2; a++) m[a]! += v[2 * i + a]! / n;
  const c = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < n; i++)
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++) c[a]![b]! += ((v[2 * i + a]! - m[a]!) * (v[2 * i + b]! - m[b]!)) / (n - 1);
  const z = 4.5;
  for (let a = 0; a < 2; a++) {
    expect(Math.abs(m[a]! - MU[a]!)).toBeLessThan(z * Math.sqrt(SIGMA[a]![a]! / n));
    for (let b = a; b < 2; b++) {
      const se = Math.sqrt((SIGMA[a]![a]! * SIGMA[b]![b]! + SIGMA[a]![b]! ** 2) / n);
      expect(Math.abs(c[a]![b]! - SIGMA[a]![b]!)).toBeLessThan(z * se + extraVarTol);
    }
  }
  return { mean: m, cov: c };
}

describe('FlowSampler: closed-form transport N(0, I) → N(μ, Σ)', () => {
  const cases: [string, 'velocity' | 'score' | 'noise', FlowSamplerOptions][] = [
    ['ODE velocity rk4', 'velocity', { integrator: 'rk4', nSteps: 40 }],
    ['ODE velocity dopri5 (default)', 'velocity', {}],
    ['ODE score heun', 'score', { integrator: 'heun', nSteps: 50, sampleEps: 1e-3 }],
    ['ODE noise rk4', 'noise', { integrator: 'rk4', nSteps: 40, sampleEps: 1e-3 }],
    ['SDE velocity (SBDM, Mean)', 'velocity', { mode: 'sde', nSteps: 120 }],
    ['SDE score (sigma)', 'score', { mode: 'sde', nSteps: 120, diffusionForm: 'sigma', sampleEps: 1e-3 }],
    [
      'SDE noise (SBDM, Tweedie)',
      'noise',
      { mode: 'sde', nSteps: 120, lastStep: 'Tweedie', sampleEps: 1e-3 },
    ],
  ];
  it.each(cases)('%s reproduces μ and Σ within Monte-Carlo error', async (_name, kind, options) => {
    const s = new FlowSampler(field(kind), { prediction: kind, dim: 2, ...options });
    const r = await s.sample({ nSamples: s.mode === 'sde' ? N / 2 : N, seed: 11 });
    // SDE: O(h) discretisation bias on top of MC error, stated as 0.05 absolute on Σ entries
    await expectTarget(r.samples, s.mode === 'sde' ? 0.05 : 0);
    r.samples.dispose();
  });

  it('sampleSync with dopri5 matches sample; NFE and trajectory/diagnostics; no leaks', async () => {
    const s = new FlowSampler(field('velocity'), { dim: 2, nSteps: 4 });
    const a = s.sampleSync({ nSamples: 64, seed: 3, keepState: true });
    const b = await expectNoLeaks(
      () => s.sample({ nSamples: 64, seed: 3, trajectory: true, diagnostics: true }),
      {
        keepOutputs: true,
      },
    );
    expect(Array.from(b.samples.dataSync())).toEqual(Array.from(a.samples.dataSync()));
    expect(a.finalState!.nfe).toBeGreaterThan(4 * 6);
    expect(b.trajectory!.x!.shape).toEqual([64, 4, 2]);
    expect(Array.from(b.diagnostics!.t!.dataSync())).toEqual([0.25, 0.5, 0.75, 1]);
    s.disposeState(a.finalState!);
    tf.dispose([a.samples, b.samples, b.trajectory!.x!, ...Object.values(b.diagnostics!)]);
  });

  it('reverse maps the samples back to the noise', async () => {
    const opts: FlowSamplerOptions = { dim: 2, integrator: 'rk4', nSteps: 100 };
    const fwd = new FlowSampler(field('velocity'), opts);
    const back = new FlowSampler(field('velocity'), { ...opts, reverse: true });
    const x0 = tf.randomNormal([32, 2], 0, 1, 'float32', 5) as tf.Tensor2D;
    const a = await fwd.sample({ x0 });
    const b = await back.sample({ x0: a.samples });
    expect(tf.max(tf.abs(tf.sub(b.samples, x0))).dataSync()[0]).toBeLessThan(1e-3);
    tf.dispose([x0, a.samples, b.samples]);
  });

  it('is seeded and resumable bit-identically (SDE)', async () => {
    const s = new FlowSampler(field('velocity'), { dim: 2, mode: 'sde', nSteps: 20 });
    const full = await s.sample({ nSamples: 16, seed: 9 });
    const half = await s.sample({ nSamples: 16, seed: 9, nSteps: 8, keepState: true });
    const rest = await s.sample({ seed: 9, resumeFrom: half.finalState! });
    expect(Array.from(rest.samples.dataSync())).toEqual(Array.from(full.samples.dataSync()));
    const other = await s.sample({ nSamples: 16, seed: 10 });
    expect(Array.from(other.samples.dataSync())).not.toEqual(Array.from(full.samples.dataSync()));
    s.disposeState(half.finalState!);
    tf.dispose([full.samples, half.samples, rest.samples, other.samples]);
  });

  it('releases every tensor when the model throws mid-run', async () => {
    for (const options of [
      { integrator: 'rk4', nSteps: 10 },
      {},
      { mode: 'sde', nSteps: 10 },
    ] as FlowSamplerOptions[]) {
      let calls = 0;
      const f = field('velocity');
      const s = new FlowSampler(
        (x, t) => {
          if (++calls > 5) throw new Error('boom');
          return f(x, t);
        },
        { dim: 2, ...options },
      );
      const before = tf.memory().numTensors;
      await expect(s.sample({ nSamples: 8 })).rejects.toThrow('boom');
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('priorLogp is log N(z; 0, I)', () => {
    const s = new FlowSampler(field('velocity'), { dim: 2 });
    const lp = s.priorLogp(
      tf.tensor2d([
        [0, 0],
        [1, 2],
      ]),
    );
    const v = lp.dataSync();
    expect(v[0]).toBeCloseTo(-Math.log(2 * Math.PI), 5);
    expect(v[1]).toBeCloseTo(-2.5 - Math.log(2 * Math.PI), 5);
    lp.dispose();
  });

  it('bad options raise EbmErrors', async () => {
    const f = field('velocity');
    const bad = async (g: () => unknown) => {
      try {
        await g();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    };
    await bad(() => new FlowSampler(f, { dim: 2, nstep: 3 } as never));
    await bad(() => new FlowSampler(f, { dim: 2, diffusionForm: 'sigma' }));
    await bad(() => new FlowSampler(f, { dim: 2, mode: 'sde', reverse: true }));
    await bad(() => new FlowSampler(f, { dim: 2, mode: 'sde', integrator: 'dopri5' }));
    await bad(() => new FlowSampler(f, { dim: 2, prediction: 'energy' as never }));
    await bad(() => new FlowSampler(f, { dim: 2, integrator: 'leapfrog' }));
    await bad(() => new FlowSampler(f, { dim: 2, interpolant: 'quadratic' as never }));
    await bad(() => new FlowSampler(f, { dim: 2, rtol: -1 }));
    const s = new FlowSampler(f, { dim: 2, integrator: 'rk4', nSteps: 5 });
    await bad(() => s.sample({ nSamples: 2, nSteps: 6 }));
    await bad(() => s.sample({ nSamples: 2, burnIn: 3 }));
    await bad(() => new FlowSampler(f, { dim: 2, interpolant: new LinearInterpolant(), nSteps: 0 }));
  });
});
