import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { chainKernelName, chainTraceKernelName, runKernel } from '../kernels.js';
import { normalArray, rngKey } from '../rng.js';
import { expectNoLeaksSync } from '../testing/leaks.js';
import { bits, errorCode as code, harmonicLangevinLoop, useCpuKernels } from './test/fixtures.js';

useCpuKernels();

// Per-step noise scales σ_t (a tempered chain): zero, then rising; exactly representable in float32.
const SCALES = [0, 0, 0, 0.125, 0.25, 0.5, 0.75, 1, 1, 0.5, 0.25, 1.5];

describe('chain.<kind> with per-step noiseScales (cpu)', () => {
  it.each([
    [9, 4],
    [9, 3],
  ])(
    'equals the step loop x ← x − h∇E + σ_t√(2h)ξ_t bit for bit (B %i, D %i), also from a startStep',
    (B, D) => {
      const N = SCALES.length;
      const x0 = tf.tensor2d(normalArray(rngKey(4), [B, D], 0, 2), [B, D]);
      const key = rngKey(8);
      for (const startStep of [0, 5]) {
        // The whole chain's inputs, for chain.harmonic and (with thin) chainTrace.harmonic.
        const inputs = {
          method: 'langevin',
          x0,
          nSteps: N,
          key,
          startStep,
          params: { k: 2 },
          settings: { stepSize: 0.05, noiseScale: 1 },
          noiseScales: Float32Array.from(SCALES),
        } as const;
        const out = expectNoLeaksSync(() => runKernel(chainKernelName('harmonic'), inputs), {
          keepOutputs: true,
        }) as tf.Tensor2D;
        const x = harmonicLangevinLoop(x0, key, {
          nSteps: N,
          stepSize: 0.05,
          noiseScale: (t) => SCALES[t]!,
          startStep,
        });
        expect(bits(out)).toEqual(bits(x));
        // The traced kernel (run in segments between kept steps) ends at the same states.
        const tr = runKernel(chainTraceKernelName('harmonic'), { ...inputs, thin: 5 });
        expect(bits(tr.x)).toEqual(bits(x));
        tf.dispose([out, x, tr.x, tr.mean, tr.var, tr.energy]);
      }
      x0.dispose();
    },
  );

  it('rejects bad scales (INVALID_PARAM) and declines them for MALA/HMC (NOT_IMPLEMENTED)', () => {
    const x0 = tf.zeros([4, 2]) as tf.Tensor2D;
    const base = { x0, nSteps: 3, key: rngKey(1), params: { k: 1 } };
    const langevin = (noiseScales: unknown) => () =>
      runKernel(chainKernelName('harmonic'), {
        ...base,
        method: 'langevin',
        settings: { stepSize: 0.1, noiseScale: 1 },
        noiseScales: noiseScales as Float32Array,
      });
    expect(code(langevin(new Float32Array(2)))).toBe('INVALID_PARAM');
    expect(code(langevin(Float32Array.from([0, -1, 0])))).toBe('INVALID_PARAM');
    expect(code(langevin(Float32Array.from([0, Number.NaN, 0])))).toBe('INVALID_PARAM');
    expect(code(langevin([0, 1, 1]))).toBe('INVALID_PARAM');
    expect(
      code(() =>
        runKernel(chainKernelName('harmonic'), {
          ...base,
          method: 'mala',
          settings: { stepSize: 0.1, invMass: 1 },
          noiseScales: new Float32Array(3),
        }),
      ),
    ).toBe('NOT_IMPLEMENTED');
    expect(tf.memory().numTensors).toBe(1);
    x0.dispose();
  });
});
