import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { assertSyncReadable, isEbmError, readAsync, readSync, registerAsyncReader } from './index.js';

describe('host reads', () => {
  it('reads synchronously on cpu through the guard', () => {
    const t = tf.tensor1d([1, 2, 3]);
    expect(() => assertSyncReadable('x()', 'await y()')).not.toThrow();
    expect(Array.from(readSync(t, 'x()', 'await y()'))).toEqual([1, 2, 3]);
    t.dispose();
  });
});

describe('readAsync and the async reader seam', () => {
  it('reads with data() when no reader is registered, through the reader when one accepts, and unregisters', async () => {
    await tf.setBackend('cpu');
    const t = tf.tensor1d([1, 2, 3]);
    expect(Array.from(await readAsync(t))).toEqual([1, 2, 3]);
    const seen: tf.Tensor[] = [];
    const remove = registerAsyncReader('cpu', (x) => {
      seen.push(x);
      return x.size === 3 ? Promise.resolve(new Float32Array([7, 8, 9])) : undefined; // declines other sizes
    });
    try {
      expect(Array.from(await readAsync(t))).toEqual([7, 8, 9]);
      const u = tf.tensor1d([4, 5]);
      expect(Array.from(await readAsync(u))).toEqual([4, 5]); // declined: data()
      u.dispose();
      expect(seen.length).toBe(2);
    } finally {
      remove();
    }
    remove(); // a second call is a no-op
    expect(Array.from(await readAsync(t))).toEqual([1, 2, 3]);
    expect(seen.length).toBe(2);
    t.dispose();
  });

  it('an unregister function does not remove a later registration for the same backend', async () => {
    await tf.setBackend('cpu');
    const first = registerAsyncReader('cpu', () => Promise.resolve(new Float32Array([1])));
    const second = registerAsyncReader('cpu', () => Promise.resolve(new Float32Array([2])));
    first();
    const t = tf.scalar(0);
    expect(Array.from(await readAsync(t))).toEqual([2]);
    second();
    expect(Array.from(await readAsync(t))).toEqual([0]);
    t.dispose();
  });

  it('rejects a bad backend name or reader with INVALID_PARAM', () => {
    expect(() => registerAsyncReader('', () => undefined)).toThrow(/backend must be/);
    expect(() => registerAsyncReader('cpu', 3 as never)).toThrow(/reader must be a function/);
    try {
      registerAsyncReader('cpu', null as never);
    } catch (e) {
      expect(isEbmError(e, 'INVALID_PARAM')).toBe(true);
    }
  });
});
