import { expectNoLeaksSync } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, activations as act, MLPEnergy } from '../src/index.js';

// Derivatives of orders 1–3 of each activation by nested tf.grad, against the closed forms. tfjs's own
// sigmoid/tanh/exp/elu gradients read the saved output and drop (or throw on) every order above the first.

const points = [-2.3, -0.7, -0.1, 0.2, 0.9, 2.5];
const sig = (z: number) => 1 / (1 + Math.exp(-z));
const a = 0.2;

const closedForms: Record<string, { f: (x: tf.Tensor) => tf.Tensor; d: ((z: number) => number)[] }> = {
  exp: { f: act.exp, d: [Math.exp, Math.exp, Math.exp] },
  sigmoid: {
    f: act.sigmoid,
    d: [
      (z) => sig(z) * (1 - sig(z)),
      (z) => sig(z) * (1 - sig(z)) * (1 - 2 * sig(z)),
      (z) => sig(z) * (1 - sig(z)) * (1 - 6 * sig(z) + 6 * sig(z) ** 2),
    ],
  },
  tanh: {
    f: act.tanh,
    d: [
      (z) => 1 - Math.tanh(z) ** 2,
      (z) => -2 * Math.tanh(z) * (1 - Math.tanh(z) ** 2),
      (z) => (1 - Math.tanh(z) ** 2) * (6 * Math.tanh(z) ** 2 - 2),
    ],
  },
  silu: {
    f: act.silu,
    d: [
      (z) => sig(z) * (1 + z * (1 - sig(z))),
      (z) => sig(z) * (1 - sig(z)) * (2 + z * (1 - 2 * sig(z))),
      (z) => sig(z) * (1 - sig(z)) * (3 * (1 - 2 * sig(z)) + z * (1 - 6 * sig(z) + 6 * sig(z) ** 2)),
    ],
  },
  elu: {
    f: act.elu,
    d: [(z) => (z > 0 ? 1 : Math.exp(z)), (z) => (z > 0 ? 0 : Math.exp(z)), (z) => (z > 0 ? 0 : Math.exp(z))],
  },
  // Piecewise linear: order 3 would be the gradient of tfjs's unconnected zero Step gradient (a tfjs "cannot
  // compute gradient" error when nothing else depends on x), so orders 1–2 only.
  leakyRelu: { f: (x) => act.leakyRelu(x, a), d: [(z) => (z > 0 ? 1 : a), () => 0] },
  relu: { f: act.relu, d: [(z) => (z > 0 ? 1 : 0), () => 0] },
};

function nested(f: (x: tf.Tensor) => tf.Tensor, order: number): (x: tf.Tensor) => tf.Tensor {
  let g = f;
  for (let k = 0; k < order; k++) {
    const inner = g;
    g = (x) => tf.grad((u: tf.Tensor) => tf.sum(inner(u)))(x);
  }
  return g;
}

describe('higher-order-exact activations', () => {
  for (const [name, { f, d }] of Object.entries(closedForms)) {
    it(`${name}: derivatives of order 1–${d.length} match the closed forms`, () => {
      const x = tf.tensor1d(points);
      for (let order = 1; order <= d.length; order++) {
        const got = expectNoLeaksSync(() => nested(f, order)(x), { keepOutputs: true }).dataSync();
        points.forEach((z, i) => {
          expect(got[i]!, `${name}^(${order})(${z})`).toBeCloseTo(d[order - 1]!(z), 4);
        });
      }
      x.dispose();
    });
  }

  it('forward values and first-order gradients equal tfjs ops bit for bit', () => {
    const x = tf.tensor1d(points);
    const pairs: [(x: tf.Tensor) => tf.Tensor, (x: tf.Tensor) => tf.Tensor][] = [
      [act.exp, tf.exp],
      [act.sigmoid, tf.sigmoid],
      [act.tanh, tf.tanh],
      [act.elu, tf.elu],
      [(t) => act.leakyRelu(t, a), (t) => tf.leakyRelu(t, a)],
      [act.relu, tf.relu],
    ];
    for (const [mine, theirs] of pairs) {
      expect(Array.from(mine(x).dataSync())).toEqual(Array.from(theirs(x).dataSync()));
      // First order outside any outer tape: tfjs's own gradient formula, so bit-identical.
      expect(Array.from(nested(mine, 1)(x).dataSync())).toEqual(Array.from(nested(theirs, 1)(x).dataSync()));
    }
    x.dispose();
  });

  it('MLPEnergy input gradients are bit-identical to a plain tfjs forward pass', () => {
    for (const activation of ACTIVATIONS) {
      const e = new MLPEnergy({ inputDim: 3, widths: [7, 5], activation, seed: 2 });
      const x = tf.tensor2d([0.3, -0.5, 1.2, 0.4, -0.7, 0.9], [2, 3]);
      const plain = (v: tf.Tensor): tf.Tensor => {
        const ws = e.trainableVariables;
        let h = v;
        for (let l = 0; l < ws.length; l += 2) {
          h = tf.add(tf.matMul(h as tf.Tensor2D, ws[l] as tf.Tensor2D), ws[l + 1]!);
          if (l + 2 < ws.length) {
            h =
              activation === 'tanh'
                ? tf.tanh(h)
                : activation === 'elu'
                  ? tf.elu(h)
                  : activation === 'leakyRelu'
                    ? tf.leakyRelu(h, 0.2)
                    : activation === 'relu'
                      ? tf.relu(h)
                      : tf.mul(h, tf.sigmoid(h));
          }
        }
        return tf.sum(h);
      };
      const ref = tf.grad(plain)(x).dataSync();
      const got = e.gradient(x).dataSync();
      expect(Array.from(got)).toEqual(Array.from(ref));
      e.dispose();
      x.dispose();
    }
  });
});
