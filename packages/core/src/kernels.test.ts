import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import './register.js';
import {
  chainKernelName,
  declareKernel,
  getKernelImpl,
  hasKernel,
  kernelSource,
  langevinStepComposite,
  listKernels,
  registerKernelImpl,
  runKernel,
  unregisterKernelImpl,
} from './kernels.js';
import { normalArray, rngKey, uniformArray } from './rng.js';
import { expectNoLeaks } from './testing/leaks.js';

declare module './kernels.js' {
  interface KernelSignatures {
    testNeg: { inputs: { x: tf.Tensor }; output: tf.Tensor };
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('kernel registry', () => {
  it('declares core kernels with composite fallbacks', () => {
    const names = listKernels().map((k) => k.name);
    for (const n of [
      'randomNormal',
      'randomUniform',
      'langevinStep',
      'momentumKick',
      'positionDrift',
      'gradientDescentStep',
      'nesterovStep',
      'leapfrogStep',
      'metropolisAccept',
    ]) {
      expect(names).toContain(n);
      expect(hasKernel(n)).toBe(true);
      expect(kernelSource(n)).toBe('fallback');
    }
  });
  it('lets a plugin declare a kernel and register a per-backend implementation that wins on that backend', () => {
    declareKernel('testNeg', { description: 'negate', fallback: ({ x }) => tf.neg(x) }, { override: true });
    const x = tf.tensor1d([1, -2]);
    const fb = runKernel('testNeg', { x });
    expect(Array.from(fb.dataSync())).toEqual([-1, 2]);
    const off = registerKernelImpl('testNeg', 'cpu', ({ x }) => tf.mul(x, 10));
    cleanups.push(off);
    expect(kernelSource('testNeg')).toBe('backend');
    expect(getKernelImpl('testNeg')).toBeTypeOf('function');
    const fast = runKernel('testNeg', { x });
    expect(Array.from(fast.dataSync())).toEqual([10, -20]);
    expect(kernelSource('testNeg', 'webgpu')).toBe('fallback');
    expect(listKernels().find((k) => k.name === 'testNeg')?.backends).toEqual(['cpu']);
    off();
    expect(kernelSource('testNeg')).toBe('fallback');
    tf.dispose([x, fb, fast]);
  });
  it('reports conflicts, unknown names and missing implementations with EbmError codes', () => {
    declareKernel('testNeg', { description: 'negate', fallback: ({ x }) => tf.neg(x) }, { override: true });
    expect(() => declareKernel('testNeg', { description: 'again', fallback: null })).toThrowError(
      /KERNEL_CONFLICT/,
    );
    cleanups.push(registerKernelImpl('testNeg', 'wasm', ({ x }) => x));
    expect(() => registerKernelImpl('testNeg', 'wasm', ({ x }) => x)).toThrowError(/KERNEL_CONFLICT.*wasm/);
    expect(() => registerKernelImpl('testNeg', 'wasm', ({ x }) => x, { override: true })).not.toThrow();
    expect(() => runKernel('nope' as never, {} as never)).toThrowError(/KERNEL_NOT_FOUND.*nope/);
    expect(() => registerKernelImpl('nope2', 'cpu', () => 1)).toThrowError(/KERNEL_NOT_FOUND/);
    expect(() => registerKernelImpl('testNeg', '', ({ x }) => x)).toThrowError(/backend/);
    expect(() => registerKernelImpl('testNeg', 'cpu', 3 as never)).toThrowError(/impl must be a function/);
    expect(() => declareKernel('', { description: '', fallback: null })).toThrowError(/kernel name/);
    expect(() => declareKernel('bad', { description: '', fallback: 5 as never })).toThrowError(/fallback/);
    expect(unregisterKernelImpl('testNeg', 'wasm')).toBe(true);
    expect(unregisterKernelImpl('testNeg', 'wasm')).toBe(false);
  });
  it('whole-chain kernels are declared on registration and have no fallback', () => {
    const name = chainKernelName('testWell');
    expect(name).toBe('chain.testWell');
    expect(hasKernel(name)).toBe(false);
    expect(kernelSource(name)).toBe('none');
    expect(() => runKernel(name, {} as never)).toThrowError(/NOT_IMPLEMENTED/);
    const ran = tf.zeros([1, 1]) as tf.Tensor2D;
    const off = registerKernelImpl(name, 'cpu', () => ran);
    cleanups.push(off);
    expect(runKernel(name, {} as never)).toBe(ran);
    ran.dispose();
    expect(() => runKernel(name, {} as never)).not.toThrow();
    off();
    expect(() => runKernel(name, {} as never)).toThrowError(/NOT_IMPLEMENTED/);
  });
});

describe('core kernel fallbacks', () => {
  it('langevinStep computes x − h g + σ√(2h) ξ without leaks', async () => {
    const x = tf.tensor2d([[1, 2]]);
    const grad = tf.tensor2d([[0.5, -1]]);
    const noise = tf.tensor2d([[1, -1]]);
    const out = await expectNoLeaks(
      () => runKernel('langevinStep', { x, grad, noise, stepSize: 0.1, noiseScale: 2 }),
      {
        keepOutputs: true,
      },
    );
    const a = 2 * Math.sqrt(0.2);
    const v = out.dataSync();
    expect(v[0]).toBeCloseTo(1 - 0.05 + a, 5);
    expect(v[1]).toBeCloseTo(2 + 0.1 - a, 5);
    const det = langevinStepComposite({ x, grad, noise, stepSize: 0.1, noiseScale: 0 });
    expect(Array.from(det.dataSync()).map((z) => +z.toFixed(5))).toEqual([0.95, 2.1]);
    tf.dispose([x, grad, noise, out, det]);
  });
  it('leapfrogStep reuses the force and conserves the harmonic Hamiltonian to O(ε²)', async () => {
    let calls = 0;
    const gradient = (q: tf.Tensor2D) => {
      calls++;
      return tf.clone(q);
    };
    let q = tf.tensor2d([[1, 0]]);
    let p = tf.tensor2d([[0, 1]]);
    let grad = tf.clone(q);
    const H0 = 0.5 * (1 + 1);
    for (let i = 0; i < 100; i++) {
      const r = runKernel('leapfrogStep', { q, p, grad, stepSize: 0.05, invMass: 1, gradient });
      tf.dispose([q, p, grad]);
      ({ q, p, grad } = r);
    }
    expect(calls).toBe(100); // one gradient per step
    const qa = q.dataSync();
    const pa = p.dataSync();
    const H = 0.5 * (qa[0]! ** 2 + qa[1]! ** 2 + pa[0]! ** 2 + pa[1]! ** 2);
    expect(Math.abs(H - H0)).toBeLessThan(2e-3);
    // exact flow after t = 5: q = (cos 5, sin 5)
    expect(qa[0]).toBeCloseTo(Math.cos(5), 2);
    expect(qa[1]).toBeCloseTo(Math.sin(5), 2);
    const eps = tf.scalar(0.1);
    const invMass = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    const r = runKernel('leapfrogStep', { q, p, grad, stepSize: eps, invMass, gradient });
    expect(tf.memory().numTensors - before).toBe(3);
    tf.dispose([q, p, grad, r.q, r.p, r.grad, eps, invMass]);
  });
  it('momentumKick and positionDrift compute p − c·g and q + c·M⁻¹p (scalar, per-chain, diagonal)', async () => {
    const p = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const g = tf.tensor2d([
      [0.5, -1],
      [2, 0],
    ]);
    const c = tf.tensor2d([[0.1], [0.2]]);
    const inv = tf.tensor1d([1, 2]);
    const out = await expectNoLeaks(
      () => [
        runKernel('momentumKick', { p, grad: g, stepSize: 0.1 }),
        runKernel('momentumKick', { p, grad: g, stepSize: c }),
        runKernel('positionDrift', { q: g, p, stepSize: 0.1, invMass: 1 }),
        runKernel('positionDrift', { q: g, p, stepSize: c, invMass: inv }),
      ],
      { keepOutputs: true },
    );
    const r = out.map((t) => Array.from(t.dataSync()).map((v) => +v.toFixed(5)));
    expect(r[0]).toEqual([0.95, 2.1, 2.8, 4]);
    expect(r[1]).toEqual([0.95, 2.1, 2.6, 4]);
    expect(r[2]).toEqual([0.6, -0.8, 2.3, 0.4]);
    expect(r[3]).toEqual([0.6, -0.6, 2.6, 1.6]);
    tf.dispose([p, g, c, inv, ...out]);
  });
  it('gradientDescentStep and nesterovStep compute their updates without leaks', async () => {
    const x = tf.tensor2d([[1, 2]]);
    const v = tf.tensor2d([[0.5, -0.5]]);
    const g = tf.tensor2d([[2, -4]]);
    const [gd, nv] = await expectNoLeaks(
      () =>
        [
          runKernel('gradientDescentStep', { x, grad: g, stepSize: 0.1 }),
          runKernel('nesterovStep', { x, v, grad: g, stepSize: 0.1, momentum: 0.9 }),
        ] as const,
      { keepOutputs: true },
    );
    const round = (t: tf.Tensor) => Array.from(t.dataSync()).map((z) => +z.toFixed(5));
    expect(round(gd)).toEqual([0.8, 2.4]);
    // v' = 0.9·v − 0.1·g = (0.45 − 0.2, −0.45 + 0.4); x' = x + v'
    expect(round(nv.v)).toEqual([0.25, -0.05]);
    expect(round(nv.x)).toEqual([1.25, 1.95]);
    tf.dispose([x, v, g, gd, nv.x, nv.v]);
  });
  it('the deprecated leapfrogStep equals momentumKick + positionDrift and releases everything when ∇E throws', async () => {
    const q = tf.tensor2d([[1, 0]]);
    const p = tf.tensor2d([[0, 1]]);
    const grad = tf.clone(q);
    const eps = tf.tensor2d([[0.1]]);
    const inv = tf.tensor1d([1, 2]);
    const lf = runKernel('leapfrogStep', {
      q,
      p,
      grad,
      stepSize: eps,
      invMass: inv,
      gradient: (z) => tf.mul(z, 3),
    });
    const half = tf.div(eps, 2);
    const ph = runKernel('momentumKick', { p, grad, stepSize: half });
    const qn = runKernel('positionDrift', { q, p: ph, stepSize: eps, invMass: inv });
    const gn = tf.mul(qn, 3) as tf.Tensor2D;
    const pn = runKernel('momentumKick', { p: ph, grad: gn, stepSize: half });
    expect(Array.from(lf.q.dataSync())).toEqual(Array.from(qn.dataSync()));
    expect(Array.from(lf.p.dataSync())).toEqual(Array.from(pn.dataSync()));
    expect(Array.from(lf.grad.dataSync())).toEqual(Array.from(gn.dataSync()));
    tf.dispose([lf.q, lf.p, lf.grad, half, ph, qn, gn, pn]);
    const boom = () => {
      throw new Error('energy failed');
    };
    await expectNoLeaks(() => {
      expect(() =>
        runKernel('leapfrogStep', { q, p, grad, stepSize: eps, invMass: inv, gradient: boom }),
      ).toThrowError(/energy failed/);
    });
    tf.dispose([q, p, grad, eps, inv]);
  });
  it('metropolisAccept accepts where log u < log α, rejects NaN/-Inf, accepts +Inf, selects all tensors', () => {
    const key = rngKey(5);
    const u = uniformArray(key, [4]);
    const logA = tf.tensor1d([
      Math.log(u[0]!) + 1e-3,
      Math.log(u[1]!) - 1e-3,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ]);
    const cur = tf.tensor2d([[0], [0], [0], [0]]);
    const prop = tf.tensor2d([[1], [1], [1], [1]]);
    const eCur = tf.tensor1d([5, 5, 5, 5]);
    const eProp = tf.tensor1d([7, 7, 7, 7]);
    const before = tf.memory().numTensors;
    const { selected, accepted } = runKernel('metropolisAccept', {
      logAcceptRatio: logA as tf.Tensor1D,
      current: [cur, eCur],
      proposal: [prop, eProp],
      key,
    });
    expect(tf.memory().numTensors - before).toBe(3);
    // NaN ratio is rejected; +Inf... rejected as non-finite too (documented: non-finite ratios are rejected)
    expect(Array.from(accepted.dataSync())).toEqual([1, 0, 0, 0]);
    expect(Array.from(selected[0]!.dataSync())).toEqual([1, 0, 0, 0]);
    expect(Array.from(selected[1]!.dataSync())).toEqual([7, 5, 5, 5]);
    expect(() =>
      runKernel('metropolisAccept', {
        logAcceptRatio: logA as tf.Tensor1D,
        current: [cur],
        proposal: [],
        key,
      }),
    ).toThrowError(/SHAPE_MISMATCH/);
    tf.dispose([logA, cur, prop, eCur, eProp, accepted, ...selected]);
  });
  it('randomNormal fallback equals the host stream', () => {
    const t = runKernel('randomNormal', { key: rngKey(1), shape: [3, 2] });
    expect(Array.from(t.dataSync())).toEqual(Array.from(normalArray(rngKey(1), [3, 2])));
    t.dispose();
  });
});
