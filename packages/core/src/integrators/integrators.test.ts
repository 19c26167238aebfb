import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { isEbmError } from '../errors.js';
import { expectNoLeaks, expectNoLeaksSync } from '../testing/index.js';
import {
  type Drift,
  generalisedLeapfrogStep,
  getIntegrator,
  INTEGRATOR_NAMES,
  integrate,
  integrateSync,
  leapfrogStep,
  resolveIntegrator,
  sdeStep,
} from './index.js';

/** ẋ = ω·cos(ωt)·x, x(t) = x(0)·exp(sin ωt): linear, time-dependent (checks the nodes cᵢ too). */
const W = 4;
const linear: Drift = (x, t) =>
  tf.mul(x, tf.reshape(tf.mul(W, tf.cos(tf.mul(W, t))), [-1, 1])) as tf.Tensor2D;
const T = 2;
const exact = [Math.exp(Math.sin(W * T)), 2 * Math.exp(Math.sin(W * T))];

/**
 * A rotation with a time-dependent rate: (x, y)' = ω(t)·(−y, x), ω(t) = ω₀(1 + ½cos t), so the angle is
 * θ(t) = ω₀(t + ½ sin t). Amplitude 1 and many turns: truncation errors stay far above float32 round-off for
 * the high-order methods.
 */
const W0 = 10;
const TR = 10;
const rotation: Drift = (x, t) =>
  tf.tidy(() => {
    const w = tf.reshape(tf.mul(W0, tf.add(1, tf.mul(0.5, tf.cos(t)))), [-1, 1]);
    const [a, b] = tf.split(x, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    return tf.mul(tf.concat([tf.neg(b), a], 1), w) as tf.Tensor2D;
  });
function rotationError(name: string, n: number): number {
  return tf.tidy(() => {
    const th = W0 * (TR + 0.5 * Math.sin(TR));
    const { x } = integrateSync(name, rotation, tf.tensor2d([[1, 0]]), { t1: TR, nSteps: n });
    const v = x.dataSync();
    return Math.hypot(v[0]! - Math.cos(th), v[1]! - Math.sin(th));
  });
}

function globalError(name: string, n: number): number {
  return tf.tidy(() => {
    const x0 = tf.tensor2d([[1], [2]]);
    const { x } = integrateSync(name, linear, x0, { t1: T, nSteps: n });
    const v = x.dataSync();
    return Math.max(Math.abs(v[0]! - exact[0]!), Math.abs(v[1]! - exact[1]!));
  });
}

// step counts in the asymptotic range, with errors well above float32 round-off (measured: see the report)
const ORDER_CASES: [string, number, 'cos' | 'rotation', number][] = [
  ['euler', 1, 'cos', 128],
  ['backwardEulerMaruyama', 1, 'cos', 128],
  ['midpoint', 2, 'cos', 64],
  ['heun', 2, 'cos', 64],
  ['adaptiveHeun', 2, 'cos', 64],
  ['bosh3', 3, 'cos', 32],
  ['rk4', 4, 'rotation', 400],
  ['rk38', 4, 'rotation', 400],
  ['dopri5', 5, 'rotation', 200],
  ['dopri8', 8, 'rotation', 50],
];

describe('integrators: measured order on linear ODEs', () => {
  it.each(ORDER_CASES)('%s has order %i (±0.3) on step halving (%s problem)', (name, order, problem, n) => {
    const err = problem === 'cos' ? globalError : rotationError;
    const measured = Math.log2(err(name, n) / err(name, 2 * n));
    expect(Math.abs(measured - order)).toBeLessThanOrEqual(0.3);
  });
});

/**
 * Stiff-ish, per-chain rates: ẋ = −λ(x − cos t) − sin t, x(t) = cos t + (x₀ − 1)e^{−λt}, λ = 50 (chain 0) and
 * λ = 1 (chain 1), x₀ = 2.
 */
const LAMBDA = [50, 1];
const stiff: Drift = (x, t) =>
  tf.tidy(() => {
    const lam = tf.tensor2d(LAMBDA.slice(0, x.shape[0]), [x.shape[0], 1]);
    return tf.sub(
      tf.mul(tf.neg(lam), tf.sub(x, tf.reshape(tf.cos(t), [-1, 1]))),
      tf.reshape(tf.sin(t), [-1, 1]),
    ) as tf.Tensor2D;
  });
const TS = 2;
const stiffExact = LAMBDA.map((l) => Math.cos(TS) + Math.exp(-l * TS));

describe('integrators: adaptive error control', () => {
  it.each(['adaptiveHeun', 'bosh3', 'dopri5', 'dopri8'])(
    '%s meets the tolerance (global error ≤ 10·tol) and reports NFE; tighter tol costs more',
    (name) => {
      const run = (tol: number, stepControl: 'perChain' | 'shared') =>
        tf.tidy(() => {
          const r = integrateSync(name, stiff, tf.tensor2d([[2], [2]]), {
            t1: TS,
            atol: tol,
            rtol: tol,
            stepControl,
          });
          const v = r.x.dataSync();
          const err = Math.max(...stiffExact.map((e, i) => Math.abs(v[i]! - e)));
          return { err, nfe: r.nfe, accepted: Array.from(r.accepted!), rejected: Array.from(r.rejected!) };
        });
      const loose = run(1e-3, 'perChain');
      const tight = run(1e-5, 'perChain');
      const shared = run(1e-5, 'shared');
      expect(loose.err).toBeLessThanOrEqual(10 * 1e-3 * 2);
      expect(tight.err).toBeLessThanOrEqual(10 * 1e-5 * 2);
      expect(shared.err).toBeLessThanOrEqual(10 * 1e-5 * 2);
      expect(tight.nfe).toBeGreaterThan(loose.nfe);
      expect(loose.nfe).toBeGreaterThan(0);
      // per chain: the stiff chain takes more steps than the slow one; shared: both take the same
      expect(tight.accepted[0]!).toBeGreaterThan(tight.accepted[1]!);
      expect(shared.accepted[0]).toBe(shared.accepted[1]);
    },
  );

  it('async integrate equals the sync one and leaks nothing', async () => {
    const x0 = tf.tensor2d([[2], [2]]);
    const a = integrateSync('dopri5', stiff, x0, { t1: TS });
    const b = await expectNoLeaks(() => integrate('dopri5', stiff, x0, { t1: TS }), { keepOutputs: true });
    expect(Array.from(b.x.dataSync())).toEqual(Array.from(a.x.dataSync()));
    expect(b.nfe).toBe(a.nfe);
    expectNoLeaksSync(() => integrateSync('rk4', stiff, x0, { t1: TS, nSteps: 50 }));
    tf.dispose([x0, a.x, b.x]);
  });

  it('backward in time inverts the forward flow', () => {
    tf.tidy(() => {
      const x0 = tf.tensor2d([
        [1, 0],
        [0, 2],
      ]);
      const f = integrateSync('dopri5', rotation, x0, { t0: 0, t1: 1, rtol: 1e-6, atol: 1e-7 });
      const b = integrateSync('dopri5', rotation, f.x, { t0: 1, t1: 0, rtol: 1e-6, atol: 1e-7 });
      expect(tf.max(tf.abs(tf.sub(b.x, x0))).dataSync()[0]).toBeLessThan(1e-4);
    });
  });

  it('an error in the drift releases every tensor; maxSteps raises DIVERGED', () => {
    const x0 = tf.tensor2d([[1], [2]]);
    let calls = 0;
    const bad: Drift = (x) => {
      if (++calls > 5) throw new Error('boom');
      return tf.neg(x);
    };
    const before = tf.memory().numTensors;
    expect(() => integrateSync('dopri5', bad, x0, { t1: 1 })).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    try {
      integrateSync('dopri5', stiff, x0, { t1: 2, maxSteps: 3 });
      expect.unreachable();
    } catch (e) {
      expect(isEbmError(e, 'DIVERGED')).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });
});

describe('integrators: symplectic energy conservation', () => {
  it('leapfrog keeps |H − H₀| ≤ h²·H₀/4 on a harmonic oscillator over 10⁴ steps (h = 0.1)', () => {
    const h = 0.1;
    const force = (x: tf.Tensor2D) => tf.neg(x) as tf.Tensor2D;
    let x = tf.tensor2d([[1], [0], [2]]);
    let p = tf.tensor2d([[0], [1], [-1]]);
    const H = () => tf.tidy(() => tf.mul(0.5, tf.add(tf.square(x), tf.square(p))).dataSync());
    const h0 = H();
    let worst = 0;
    for (let i = 1; i <= 10_000; i++) {
      const s = leapfrogStep({ x, p }, { force }, h);
      tf.dispose([x, p]);
      x = s.x;
      p = s.p;
      if (i % 50 === 0) {
        const hi = H();
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(hi[c]! - h0[c]!) / h0[c]!);
      }
    }
    tf.dispose([x, p]);
    // exact for leapfrog on ½(x² + p²): the shadow Hamiltonian gives a relative oscillation ≤ (h²/4)/(1 − h²/4)
    expect(worst).toBeLessThanOrEqual((h * h) / 4 / (1 - (h * h) / 4) + 1e-5);
    expect(worst).toBeGreaterThan(0);
  });

  it('generalised leapfrog conserves a non-separable H = ½x² + ½p²/(1 + x²) over 10⁴ steps', () => {
    const h = 0.05;
    const sys = {
      force: (x: tf.Tensor2D, p: tf.Tensor2D) =>
        tf.tidy(() => {
          const g = tf.add(1, tf.square(x));
          return tf.sub(tf.div(tf.mul(tf.square(p), x), tf.square(g)), x) as tf.Tensor2D;
        }),
      velocity: (x: tf.Tensor2D, p: tf.Tensor2D) => tf.div(p, tf.add(1, tf.square(x))) as tf.Tensor2D,
    };
    let x = tf.tensor2d([[1], [0.5]]);
    let p = tf.tensor2d([[0.5], [-1]]);
    const H = () =>
      tf.tidy(() =>
        tf
          .add(tf.mul(0.5, tf.square(x)), tf.div(tf.mul(0.5, tf.square(p)), tf.add(1, tf.square(x))))
          .dataSync(),
      );
    const h0 = H();
    let worst = 0;
    for (let i = 1; i <= 10_000; i++) {
      const s = generalisedLeapfrogStep({ x, p }, sys, h, { solverMaxIter: 4 });
      tf.dispose([x, p]);
      x = s.x;
      p = s.p;
      if (i % 100 === 0) {
        const hi = H();
        for (let c = 0; c < 2; c++) worst = Math.max(worst, Math.abs(hi[c]! - h0[c]!) / h0[c]!);
      }
    }
    tf.dispose([x, p]);
    // bounded O(h²) oscillation, no drift: stated bound 10·h² relative
    expect(worst).toBeLessThanOrEqual(10 * h * h);
  });
});

describe('integrators: registry and SDE step', () => {
  it('resolves names, aliases, objects and functions; refuses bad ones with EbmError', () => {
    for (const n of INTEGRATOR_NAMES) expect(getIntegrator(n).name).toBe(n);
    expect(getIntegrator('rk438').name).toBe('rk38');
    expect(getIntegrator('euler_maruyama').name).toBe('eulerMaruyama');
    expect(resolveIntegrator(undefined, { default: 'heun', family: 'rungeKutta' }).name).toBe('heun');
    const custom = resolveIntegrator((_f: Drift, x: tf.Tensor2D) => ({ x: tf.clone(x), nfe: 0 }), {
      family: 'rungeKutta',
    });
    expect(custom.family).toBe('rungeKutta');
    const bad = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e, 'INVALID_PARAM')).toBe(true);
      }
    };
    bad(() => getIntegrator('rk5'));
    bad(() => resolveIntegrator('leapfrog', { family: 'rungeKutta' }));
    bad(() => resolveIntegrator('dopri5', { family: 'rungeKutta', adaptive: 'forbid' }));
    bad(() => resolveIntegrator('rk4', { family: 'rungeKutta', allowed: ['euler', 'heun'] }));
    bad(() => resolveIntegrator((() => 0) as never));
    bad(() => integrateSync('rk4', (x) => x, tf.zeros([1, 1]) as tf.Tensor2D, { nsteps: 3 } as never));
    bad(() => integrateSync('rk4', (x) => x, tf.zeros([1, 1]) as tf.Tensor2D, {}));
  });

  it('Euler–Maruyama SDE step equals x + h·f + √(2Dh)·ξ', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[1, -1]]);
      const noise = tf.tensor2d([[0.5, 2]]);
      const r = sdeStep(getIntegrator('eulerMaruyama') as never, (v) => tf.neg(v), x, 0, 0.1, {
        diffusion: 0.25,
        noise,
      });
      const want = [1 - 0.1 + Math.sqrt(0.05) * 0.5, -1 + 0.1 + Math.sqrt(0.05) * 2];
      const got = r.x.dataSync();
      expect(got[0]).toBeCloseTo(want[0]!, 6);
      expect(got[1]).toBeCloseTo(want[1]!, 6);
      expect(r.nfe).toBe(1);
    });
  });
});
