import { normalArray, rngKey } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { DoubleWell, Gaussian, GaussianMixture, MLPEnergy } from '../src/index.js';

/** Analytic gradients against tf.grad of the same energy, batch 4096 × 32 (8 for the mixture), cpu backend. */
const B = 4096;
const D = 32;
const x = tf.tensor2d(normalArray(rngKey(0), [B, D]), [B, D]);
const x2 = tf.tensor2d(normalArray(rngKey(1), [B, 8]), [B, 8]);
const dw = new DoubleWell();
const g = new Gaussian({ mean: new Array(D).fill(0) });
const mix = new GaussianMixture({ means: Array.from({ length: 8 }, (_, k) => new Array(8).fill(k - 4)) });
const mlp = new MLPEnergy({ inputDim: D, widths: [128, 128], seed: 0 });
const auto = (e: { energy(x: tf.Tensor2D, o?: { checkFinite: boolean }): tf.Tensor1D }, v: tf.Tensor2D) =>
  tf.grad((t: tf.Tensor) => tf.sum(e.energy(t as tf.Tensor2D, { checkFinite: false })))(v);
const opts = { checkFinite: false };

describe('DoubleWell gradient 4096×32', () => {
  bench('analytic', () => tf.dispose(dw.gradient(x, opts)));
  bench('tf.grad', () => tf.dispose(auto(dw, x)));
});
describe('Gaussian gradient 4096×32', () => {
  bench('analytic', () => tf.dispose(g.gradient(x, opts)));
  bench('tf.grad', () => tf.dispose(auto(g, x)));
});
describe('GaussianMixture (K=8) gradient 4096×8', () => {
  bench('analytic', () => tf.dispose(mix.gradient(x2, opts)));
  bench('tf.grad', () => tf.dispose(auto(mix, x2)));
});
// The same network with tfjs's plain ops (no customGrad activations): the cost of exact higher-order derivatives
// on the first-order path (should be ≈ 1).
const plainMlp = (v: tf.Tensor): tf.Tensor => {
  const ws = mlp.trainableVariables;
  let h = v;
  for (let l = 0; l < ws.length; l += 2) {
    h = tf.add(tf.matMul(h as tf.Tensor2D, ws[l] as tf.Tensor2D), ws[l + 1]!);
    if (l + 2 < ws.length) h = tf.mul(h, tf.sigmoid(h));
  }
  return tf.sum(h);
};
describe('MLPEnergy 32-128-128-1, 4096 rows', () => {
  bench('energy', () => tf.dispose(mlp.energy(x, opts)));
  bench('gradient (autograd)', () => tf.dispose(mlp.gradient(x, opts)));
  bench('gradient, plain tfjs sigmoid (reference)', () => tf.dispose(tf.grad(plainMlp)(x)));
});
