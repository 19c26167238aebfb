import { EbmError, getIntegrator, rngKey } from '@ebm/core';
import { expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { LangevinDynamics } from '../src/index.js';
import { TestGaussian } from './helpers.js';

const std = new TestGaussian(
  [0, 0],
  [
    [1, 0],
    [0, 1],
  ],
);

describe('LangevinDynamics integrators from the core family', () => {
  it('resolves names through resolveIntegrator (aliases too); euler is Euler–Maruyama', () => {
    expect(new LangevinDynamics(std).integrator).toBe('euler');
    expect(new LangevinDynamics(std, { integrator: 'euler_maruyama' }).integrator).toBe('euler');
    expect(new LangevinDynamics(std, { integrator: 'heun' }).integrator).toBe('heun');
    const b = new LangevinDynamics(std, { integrator: 'backward_euler_maruyama' });
    expect(b.integrator).toBe('backwardEulerMaruyama');
    for (const bad of ['rk4', 'dopri5', 'leapfrog']) {
      expect(() => new LangevinDynamics(std, { integrator: bad as never })).toThrow(EbmError);
    }
    expect(() => new LangevinDynamics(std, { integrator: getIntegrator('dopri5') as never })).toThrow(
      EbmError,
    );
  });

  it('backward Euler–Maruyama solves the implicit drift: on E = ½‖x‖², x′ = x/(1 + h) + σ√(2h)ξ', async () => {
    const h = 0.3;
    const s = new LangevinDynamics(std, {
      stepSize: h,
      noiseScale: 1e-9,
      integrator: 'backwardEulerMaruyama',
    });
    const x = tf.tensor2d([
      [1, -2],
      [0.5, 3],
    ]);
    const st = s.init(x);
    const { state } = s.step(st, rngKey(1));
    const got = Array.from(state.x.dataSync());
    const want = Array.from(x.dataSync()).map((v) => v / (1 + h));
    for (let i = 0; i < 4; i++) expect(got[i]!).toBeCloseTo(want[i]!, 4);
    s.disposeState(st);
    s.disposeState(state);
    await expectNoLeaks(() => s.sample({ x0: x, nSteps: 3, seed: 2 }));
    x.dispose();
  });
});
