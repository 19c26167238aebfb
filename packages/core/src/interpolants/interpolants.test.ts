import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '../register.js';
import { isEbmError } from '../errors.js';
import {
  CosineInterpolant,
  DIFFUSION_FORMS,
  getInterpolant,
  type Interpolant,
  LinearInterpolant,
  resolveInterpolant,
  VariancePreservingInterpolant,
} from './index.js';

const ALL: Interpolant[] = [
  new LinearInterpolant(),
  new CosineInterpolant(),
  new VariancePreservingInterpolant(),
];
const TIMES = [0.05, 0.2, 0.5, 0.8, 0.95];

function vals(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('interpolants', () => {
  it.each(ALL.map((i) => [i.name, i] as const))(
    '%s: derivatives match finite differences; endpoints',
    (_n, ip) => {
      tf.tidy(() => {
        const t = tf.tensor1d(TIMES);
        const d = 1e-3;
        const c = ip.coefficients(t);
        const cp = ip.coefficients(tf.add(t, d));
        const cm = ip.coefficients(tf.sub(t, d));
        const fdA = vals(tf.div(tf.sub(cp.alpha, cm.alpha), 2 * d));
        const fdS = vals(tf.div(tf.sub(cp.sigma, cm.sigma), 2 * d));
        vals(c.dAlpha).forEach((v, i) => expect(v).toBeCloseTo(fdA[i]!, 1));
        vals(c.dSigma).forEach((v, i) => expect(v).toBeCloseTo(fdS[i]!, 1));
        const end = ip.coefficients(tf.tensor1d([1]));
        expect(vals(end.alpha)[0]).toBeCloseTo(1, 5);
        expect(vals(end.sigma)[0]).toBeLessThan(1e-5 + (ip.name === 'vp' ? 1e-5 : 0));
        if (ip.name !== 'linear') {
          // variance preserving: α² + σ² = 1
          vals(tf.add(tf.square(c.alpha), tf.square(c.sigma))).forEach((v) => expect(v).toBeCloseTo(1, 5));
        }
        // VP's drift override agrees with the generic formula
        const generic = vals(
          tf.sub(tf.mul(tf.div(c.dAlpha, c.alpha), tf.square(c.sigma)), tf.mul(c.sigma, c.dSigma)),
        );
        vals(ip.driftVar(t)).forEach((v, i) => expect(v).toBeCloseTo(generic[i]!, 3));
      });
    },
  );

  it.each(ALL.map((i) => [i.name, i] as const))(
    '%s: converters reproduce the closed-form score and velocity of Gaussian data',
    (_n, ip) => {
      tf.tidy(() => {
        // data x₁ ~ N(m, c²) per coordinate; x_t ~ N(αm, α²c² + σ²)
        const m = 1.5;
        const cc = 0.5;
        const B = TIMES.length;
        const t = tf.tensor1d(TIMES);
        const x = tf.tensor2d(TIMES.map((_, i) => [-1 + 0.5 * i, 0.3 * i]));
        const k = ip.coefficients(tf.reshape(t, [-1, 1]));
        const v2 = tf.add(tf.mul(tf.square(k.alpha), cc * cc), tf.square(k.sigma));
        const centred = tf.sub(x, tf.mul(k.alpha, m));
        const score = tf.neg(tf.div(centred, v2)) as tf.Tensor2D;
        const ex1 = tf.add(m, tf.mul(tf.div(tf.mul(k.alpha, cc * cc), v2), centred));
        const ex0 = tf.mul(tf.div(k.sigma, v2), centred);
        const vel = tf.add(tf.mul(k.dAlpha, ex1), tf.mul(k.dSigma, ex0)) as tf.Tensor2D;
        const close = (a: tf.Tensor, b: tf.Tensor) =>
          expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(
            2e-3 * Math.max(1, tf.max(tf.abs(b)).dataSync()[0]!),
          );
        close(ip.velocityToScore(vel, x, t), score);
        close(ip.scoreToVelocity(score, x, t), vel);
        close(ip.velocityToNoise(vel, x, t), ex0);
        close(ip.noiseToScore(ex0 as tf.Tensor2D, t), score);
        close(ip.noiseToVelocity(ex0 as tf.Tensor2D, x, t), vel);
        const { mean, variance } = ip.drift(x, t);
        close(tf.add(tf.neg(mean), tf.mul(tf.reshape(variance, [-1, 1]), score)), vel);
        // interpolate: x_t and u_t
        const x0 = tf.randomNormal([B, 2], 0, 1, 'float32', 1) as tf.Tensor2D;
        const x1 = tf.randomNormal([B, 2], 0, 1, 'float32', 2) as tf.Tensor2D;
        const { xt, ut } = ip.interpolate(x0, x1, t);
        close(xt, tf.add(tf.mul(k.alpha, x1), tf.mul(k.sigma, x0)));
        close(ut, tf.add(tf.mul(k.dAlpha, x1), tf.mul(k.dSigma, x0)));
      });
    },
  );

  it('diffusion forms have their documented values', () => {
    tf.tidy(() => {
      const ip = new LinearInterpolant();
      const t = tf.tensor1d([0.25, 0.5]);
      const at = (f: string, norm = 1) => vals(ip.diffusion(t, f as never, norm));
      expect(at('constant', 2)).toEqual([2, 2]);
      expect(at('sigma')).toEqual([0.75, 0.5]);
      expect(at('linear')).toEqual([0.75, 0.5]);
      expect(at('decreasing')).toEqual([0.5625, 0.25]);
      expect(at('increasing-decreasing')).toEqual([0.75, 1]);
      // SBDM for linear: λ/σ = ((1 − t)/t)/(1 − t) = 1/t
      at('SBDM').forEach((v, i) => expect(v).toBeCloseTo([4, 2][i]!, 4));
      expect(DIFFUSION_FORMS.length).toBe(6);
    });
  });

  it('registry and bad input', () => {
    expect(getInterpolant('vp')).toBeInstanceOf(VariancePreservingInterpolant);
    expect(resolveInterpolant(undefined).name).toBe('linear');
    const bad = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isEbmError(e)).toBe(true);
      }
    };
    bad(() => getInterpolant('quadratic'));
    bad(() => new VariancePreservingInterpolant({ sigma_min: 0.1 } as never));
    bad(() => new VariancePreservingInterpolant({ sigmaMin: 5, sigmaMax: 1 }));
    bad(() => new LinearInterpolant().diffusion(tf.tensor1d([0.5]), 'cubic' as never));
    bad(() =>
      new LinearInterpolant().interpolate(tf.zeros([2, 2]), tf.zeros([2, 2]), tf.zeros([2, 1]) as never),
    );
  });
});
