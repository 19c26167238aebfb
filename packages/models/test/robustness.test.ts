import { expectEbmError, expectNoLeaks } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  Ackley,
  artifactToJSON,
  Banana,
  ConvEnergy,
  DoubleWell,
  energyFromFunction,
  Funnel,
  Gaussian,
  GaussianMixture,
  Harmonic,
  ManyWell,
  MLPEnergy,
  Rastrigin,
  Rosenbrock,
  restoreEnergy,
} from '../src/index.js';

describe('unknown option names', () => {
  const cases: [string, (o: Record<string, unknown>) => unknown, Record<string, unknown>, string][] = [
    ['DoubleWell', (o) => new DoubleWell(o), { barrier_height: 1 }, 'barrierHeight'],
    ['Harmonic', (o) => new Harmonic(o), { K: 1 }, 'k'],
    ['Rosenbrock', (o) => new Rosenbrock(o), { dims: 2 }, 'dim'],
    ['Ackley', (o) => new Ackley(o), { dimension: 2 }, ''],
    ['Rastrigin', (o) => new Rastrigin(o), { A: 10 }, 'a'],
    ['Funnel', (o) => new Funnel(o), { sigma: 3 }, ''],
    ['Banana', (o) => new Banana(o), { curvture: 0.1 }, 'curvature'],
    ['ManyWell', (o) => new ManyWell(o), { n_dim: 4 }, 'dim'],
    [
      'Gaussian',
      (o) => new Gaussian({ mean: [0, 0], ...o }),
      {
        cov: [
          [1, 0],
          [0, 1],
        ],
      },
      'covariance',
    ],
    ['GaussianMixture', (o) => new GaussianMixture({ means: [[0, 0]], ...o }), { weigths: [1] }, 'weights'],
    ['MLPEnergy', (o) => new MLPEnergy({ inputDim: 2, ...o }), { hidden_dims: [8] }, ''],
    ['ConvEnergy', (o) => new ConvEnergy({ inputShape: [4, 4, 1], ...o }), { kernel_size: 3 }, 'kernelSize'],
    [
      'FunctionEnergy',
      (o) => energyFromFunction((x) => tf.sum(x, 1) as tf.Tensor1D, { dim: 2, ...o }),
      { gradFn: 1 },
      '',
    ],
  ];
  it.each(cases)('%s', (name, make, bad, hint) => {
    const e = expectEbmError(() => make(bad));
    expect(e.code).toBe('INVALID_PARAM');
    expect(e.message).toContain(name);
    if (hint) expect(e.message).toContain(`"${hint}"`);
    expect(expectEbmError(() => make({ step_size: 1 })).message).toContain('"step_size"');
  });
});

describe('sizes guarded before allocating', () => {
  it('MLPEnergy / ConvEnergy with huge widths fail fast', () => {
    const t0 = Date.now();
    const before = tf.memory().numBytes;
    expect(expectEbmError(() => new MLPEnergy({ inputDim: 2, widths: [1e6, 1e6] })).message).toMatch(
      /more than/,
    );
    expect(
      expectEbmError(() => new ConvEnergy({ inputShape: [4, 4, 1], channels: [1e5, 1e5] })).message,
    ).toMatch(/more than/);
    expect(tf.memory().numBytes).toBe(before);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('restoreEnergy treats the document as untrusted and validates it before building', () => {
  const small = () => artifactToJSON(new MLPEnergy({ inputDim: 2, widths: [4], seed: 1 }).saveWeightsSync());

  it('a tiny file declaring a huge network fails in milliseconds, allocating nothing', async () => {
    const doc = small();
    const evil = JSON.stringify({ ...doc, config: { ...doc.config, widths: [100_000, 100_000] } });
    expect(evil.length).toBeLessThan(1000);
    const t0 = Date.now();
    await expectNoLeaks(() => {
      const e = expectEbmError(() => restoreEnergy(evil));
      expect(e.message).toMatch(/more than|payload holds/);
    });
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('rejects NaN weights, unknown and __proto__ fields, wrong shapes, foreign types — each with a code', async () => {
    const doc = small();
    const bytes = Uint8Array.from(atob(doc.data), (c) => c.charCodeAt(0));
    new DataView(bytes.buffer).setFloat32(4, Number.NaN, true);
    const nan = { ...doc, data: btoa(String.fromCharCode(...bytes)) };
    const cases: [unknown, string, RegExp][] = [
      [nan, 'NON_FINITE', /is NaN/],
      [
        JSON.stringify(doc).replace('{"format"', '{"__proto__":{"polluted":1},"format"'),
        'INVALID_PARAM',
        /__proto__/,
      ],
      [{ ...doc, config: { ...doc.config, extra: 1 } }, 'INVALID_PARAM', /unknown field "extra"/],
      [{ ...doc, config: { ...doc.config, widths: [3] } }, 'SHAPE_MISMATCH', /implies/],
      [{ ...doc, config: { ...doc.config, widths: [-1] } }, 'INVALID_PARAM', /widths/],
      [{ ...doc, config: { ...doc.config, activation: 'nope' } }, 'INVALID_PARAM', /activation/],
      [{ ...doc, config: { ...doc.config, type: 'rnn' } }, 'INVALID_PARAM', /unknown neural energy type/],
      [{ ...doc, weights: doc.weights.slice(1) }, 'SHAPE_MISMATCH', /lists/],
      [{ ...doc, version: 2 }, 'INVALID_PARAM', /manifest/],
    ];
    for (const [input, code, re] of cases) {
      await expectNoLeaks(() => {
        const e = expectEbmError(() => restoreEnergy(input as never));
        expect(e.code).toBe(code);
        expect(e.message).toMatch(re);
      });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const ok = restoreEnergy(doc);
    ok.dispose();
  });
});

describe('restoreEnergy on non-documents', () => {
  it.each([null, undefined, 42, '{not json', 'x'])('%s is an INVALID_PARAM', (v) => {
    expect(expectEbmError(() => restoreEnergy(v as never)).code).toBe('INVALID_PARAM');
  });
});
