import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import {
  BaseEnergy,
  normalArray,
  randomNormal,
  rngKey,
  runKernel,
  uniformArray,
  useBackend,
} from '../src/index.js';

class Quadratic extends BaseEnergy {
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1));
  }
}

/** The core checks every backend must pass: autograd, variableGrads, chained ops, RNG identity, kernels, leaks. */
export async function runBackendSuite(backend: string): Promise<void> {
  await useBackend(backend);
  expect(tf.getBackend()).toBe(backend);
  const before = tf.memory().numTensors;
  const x = tf.tensor2d([
    [1, -2],
    [3, 0.5],
  ]);
  const e = new Quadratic({ dim: 2 });
  const g = e.gradient(x, { checkFinite: false });
  expect(Array.from(await g.data())).toEqual([1, -2, 3, 0.5]);
  const v0 = tf.tensor1d([2, 3]);
  const v = tf.variable(v0);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(v, v)) as tf.Scalar, [v]);
  expect(Array.from(await grads[v.name]!.data())).toEqual([4, 6]);
  const chained = tf.tidy(() => x.add(1).sum());
  expect((await chained.data())[0]).toBeCloseTo(6.5, 5);
  const key = rngKey(2026);
  const z = randomNormal(key, [64, 3]);
  const host = normalArray(key, [64, 3]);
  const zd = await z.data();
  for (let i = 0; i < host.length; i++) expect(Math.abs(zd[i]! - host[i]!)).toBeLessThan(1e-5);
  const u = runKernel('randomUniform', { key, shape: [10] });
  const uh = uniformArray(key, [10]);
  expect(Array.from(await u.data())).toEqual(Array.from(uh));
  const noise = tf.tensor2d([
    [1, 1],
    [-1, 0],
  ]);
  const step = runKernel('langevinStep', { x, grad: g, noise, stepSize: 0.5, noiseScale: 1 });
  const sd = await step.data();
  [1 - 0.5 + 1, -2 + 1 + 1, 3 - 1.5 - 1, 0.5 - 0.25 + 0].forEach((want, i) =>
    expect(sd[i]).toBeCloseTo(want, 4),
  );
  tf.dispose([x, g, v0, v, value, chained, z, u, noise, step, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
}
