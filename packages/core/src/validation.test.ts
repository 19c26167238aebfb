import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { activeBackend, useBackend } from './backend.js';
import {
  assertBatch,
  assertFiniteArray,
  assertFiniteNumber,
  assertInRange,
  assertInteger,
  assertNonNegative,
  assertOneOf,
  assertPositive,
  assertTensor,
} from './validation.js';

describe('argument checks', () => {
  it('return valid values unchanged', () => {
    expect(assertFiniteNumber('a', 1.5)).toBe(1.5);
    expect(assertPositive('a', 2)).toBe(2);
    expect(assertNonNegative('a', 0)).toBe(0);
    expect(assertInteger('a', 3, 1, 5)).toBe(3);
    expect(assertInRange('a', 0.5, 0, 1)).toBe(0.5);
    expect(assertOneOf('a', 'x', ['x', 'y'])).toBe('x');
    const t = tf.tensor2d([[1, 2]]);
    expect(assertBatch('x', t, 2)).toBe(t);
    expect(assertTensor('x', t, { rank: 2 })).toBe(t);
    expect(assertTensor('x', tf.scalar(1, 'int32'), { dtype: 'any' }).rank).toBe(0);
    assertFiniteArray('v', [1, 2]);
    t.dispose();
  });
  it('name the argument, the value and the fix', () => {
    const cases: [() => unknown, RegExp][] = [
      [
        () => assertFiniteNumber('stepSize', 'a'),
        /INVALID_PARAM.*stepSize must be a finite number.*Received: "a".*Fix/,
      ],
      [() => assertFiniteNumber('stepSize', Number.NaN), /NON_FINITE.*stepSize/],
      [() => assertPositive('stepSize', 0), /stepSize must be > 0.*Received: 0/],
      [() => assertNonNegative('noiseScale', -1), /noiseScale must be >= 0/],
      [() => assertInteger('nSteps', 2.5), /nSteps must be an integer >= 0/],
      [() => assertInteger('k', 9, 1, 5), /k must be an integer in \[1, 5\]/],
      [() => assertInRange('p', 1, 0, 1, { hiInclusive: false }), /p must lie in \[0, 1\)/],
      [() => assertInRange('p', 0, 0, 1, { loInclusive: false }), /p must lie in \(0, 1\]/],
      [() => assertOneOf('mode', 'z', ['a', 'b']), /mode must be one of "a", "b"/],
      [() => assertTensor('x', [1, 2]), /x must be a tf.Tensor/],
      [() => assertTensor('x', null), /x must be a tf.Tensor.*Received: null/],
      [() => assertFiniteArray('v', [1, Number.POSITIVE_INFINITY]), /NON_FINITE.*flat index 1/],
    ];
    for (const [f, re] of cases) expect(f).toThrowError(re);
    const t = tf.tensor3d([[[1]]]);
    expect(() => assertBatch('x', t)).toThrowError(/SHAPE_MISMATCH.*rank 2.*\[1, 1, 1\]/);
    expect(() => assertTensor('x', t, { rank: 1 })).toThrowError(/reshape x to rank 1/);
    t.dispose();
  });
});

describe('useBackend', () => {
  it('switches to a registered backend and reports it', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    expect(activeBackend()).toBe('cpu');
  });
  it('fails clearly for unregistered or bad names', async () => {
    await expect(useBackend('webgl')).rejects.toThrowError(
      /BACKEND_UNAVAILABLE.*"webgl" is not registered.*tfjs-backend-webgl/,
    );
    await expect(useBackend('')).rejects.toThrowError(/INVALID_PARAM/);
    expect(activeBackend()).toBe('cpu');
  });
  it('fails clearly when a registered backend cannot initialise', async () => {
    tf.registerBackend('broken-test', () => {
      throw new Error('no device');
    });
    await expect(useBackend('broken-test')).rejects.toThrowError(/BACKEND_UNAVAILABLE.*failed to initialise/);
    tf.removeBackend('broken-test');
    await useBackend('cpu');
  });
});
