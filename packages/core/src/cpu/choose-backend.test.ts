import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import '../register.js';
import '@tensorflow/tfjs-backend-wasm';
import { BaseEnergy } from '../energy.js';
import { isEbmError } from '../errors.js';
import { chooseBackend, recommendBackend } from './choose-backend.js';
import { registerCpuKernels } from './kernels.js';

class Quadratic extends BaseEnergy {
  constructor(hinted: boolean) {
    super({ dim: 4, name: hinted ? 'HintedQuadratic' : 'Quadratic' });
    if (hinted) Object.assign(this, { kernelHint: { kind: 'harmonic', params: { k: 1 } } });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D;
  }
}

beforeAll(async () => {
  registerCpuKernels();
  await tf.setBackend('cpu');
});

describe('recommendBackend / chooseBackend', () => {
  it('picks cpu with a reason for an energy with a fused CPU chain kernel', async () => {
    const c = await recommendBackend({ energy: new Quadratic(true) });
    expect(c.backend).toBe('cpu');
    expect(c.reason).toMatch(/fused CPU kernel chain\.harmonic/);
    const t = await recommendBackend({ energy: new Quadratic(true), workload: 'training', repetitions: 1 });
    expect(t.reason).toMatch(/^measured HintedQuadratic's gradient/);
  });

  it('measures the candidates otherwise, returns the fastest and restores the active backend', async () => {
    const c = await recommendBackend({ energy: new Quadratic(false), nChains: 64, repetitions: 2 });
    expect(['cpu', 'wasm']).toContain(c.backend);
    expect(Object.keys(c.measuredMs ?? {}).sort()).toEqual(['cpu', 'wasm']);
    expect(c.reason).toMatch(/^measured Quadratic's gradient on \[64, 4\]: /);
    expect(tf.getBackend()).toBe('cpu');
    const only = await recommendBackend({ candidates: ['cpu'] });
    expect(only).toMatchObject({ backend: 'cpu' });
    const chosen = await chooseBackend({ candidates: ['wasm'] });
    expect(chosen.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    await tf.setBackend('cpu');
  });

  it('rejects unknown options and unregistered candidates with EbmError', async () => {
    await expect(recommendBackend({ energi: 1 } as never)).rejects.toSatisfy((e) =>
      isEbmError(e, 'INVALID_PARAM'),
    );
    await expect(recommendBackend({ candidates: ['nope'] })).rejects.toSatisfy((e) =>
      isEbmError(e, 'BACKEND_UNAVAILABLE'),
    );
  });
});
