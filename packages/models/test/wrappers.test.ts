import { isEbmError, LinearScheduler } from '@ebm/core';
import { expectNoLeaksSync } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Gaussian, InteractionModel } from '../src/index.js';

describe('InteractionModel', () => {
  const base = new Gaussian({ mean: [0, 0] });
  const x = tf.tensor2d([
    [0, 0],
    [1, 2],
    [-1, 0.5],
    [3, -1],
  ]);

  it('Eᵢ = V(xᵢ) − ½(s/σ²)Σⱼ‖xᵢ − xⱼ‖² (O(B·D) form = the explicit pair sum); ∇ = autograd of Σ E', () => {
    const m = new InteractionModel(base, { sigmaW: 2, strength: 0.5 });
    const rows = x.arraySync();
    const v = base.energy(x).dataSync();
    const e = m.energy(x).dataSync();
    for (let i = 0; i < 4; i++) {
      let pair = 0;
      for (let j = 0; j < 4; j++)
        pair += (rows[i]![0]! - rows[j]![0]!) ** 2 + (rows[i]![1]! - rows[j]![1]!) ** 2;
      expect(e[i]!).toBeCloseTo(v[i]! - 0.5 * (0.5 / 4) * pair, 4);
    }
    const auto = tf.grad((y: tf.Tensor) => tf.sum(m.energy(y as tf.Tensor2D, { checkFinite: false })))(x);
    const g = m.gradient(x);
    const a = auto.dataSync();
    const b = g.dataSync();
    for (let i = 0; i < a.length; i++) expect(b[i]!).toBeCloseTo(a[i]!, 4);
    tf.dispose([auto, g]);
    expectNoLeaksSync(() => m.energyAndGradient(x));
  });

  it('a scheduled strength is read at each evaluation; bad options raise EbmErrors', () => {
    const s = new LinearScheduler(1, 0, 2);
    const m = new InteractionModel(base, { sigmaW: 1, strength: s });
    expect(m.strength).toBe(1);
    s.step();
    s.step();
    expect(m.strength).toBe(0);
    const e0 = m.energy(x).dataSync();
    const v = base.energy(x).dataSync();
    for (let i = 0; i < 4; i++) expect(e0[i]!).toBeCloseTo(v[i]!, 5);
    for (const f of [
      () => new InteractionModel(base, { sigmaW: 0 }),
      () => new InteractionModel(base, { sigmaW: 1, strength: -1 }),
      () => new InteractionModel(base, { sigma_w: 1 } as never),
      () => new InteractionModel(null as never, { sigmaW: 1 }),
    ]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    }
  });
});
