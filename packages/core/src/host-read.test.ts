import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { assertSyncReadable, canReadSync, readSync } from './index.js';

describe('host reads', () => {
  it('knows which backends read synchronously (webgpu in Node does not: no OffscreenCanvas)', () => {
    expect(canReadSync('cpu')).toBe(true);
    expect(canReadSync('wasm')).toBe(true);
    expect(canReadSync('webgpu')).toBe(
      typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined',
    );
  });
  it('reads synchronously on cpu through the guard', () => {
    const t = tf.tensor1d([1, 2, 3]);
    expect(() => assertSyncReadable('x()', 'await y()')).not.toThrow();
    expect(Array.from(readSync(t, 'x()', 'await y()'))).toEqual([1, 2, 3]);
    t.dispose();
  });
});
