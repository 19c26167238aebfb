import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { assertSyncReadable, readSync } from './index.js';

describe('host reads', () => {
  it('reads synchronously on cpu through the guard', () => {
    const t = tf.tensor1d([1, 2, 3]);
    expect(() => assertSyncReadable('x()', 'await y()')).not.toThrow();
    expect(Array.from(readSync(t, 'x()', 'await y()'))).toEqual([1, 2, 3]);
    t.dispose();
  });
});
