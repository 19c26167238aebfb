import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import './register.js';
import { canReadSync, isRecordingGradients, stopGradient, withoutTape } from './tfjs-internals.js';

describe('tfjs internals seam (pinned against the tfjs-core in the lockfile)', () => {
  it('runs against the tfjs-core major this seam was written for', () => {
    // A new major may move the private engine fields this file reads: re-check the tests below, then bump.
    expect(tf.version_core.split('.')[0]).toBe('4');
  });

  it('isRecordingGradients is true exactly inside a gradient scope', () => {
    expect(isRecordingGradients()).toBe(false);
    let inside = false;
    const g = tf.grad((x: tf.Tensor) => {
      inside = isRecordingGradients();
      return tf.sum(tf.square(x));
    })(tf.tensor1d([1, 2]));
    expect(inside).toBe(true);
    expect(isRecordingGradients()).toBe(false);
    g.dispose();
  });

  it('withoutTape makes its result a constant for the outer gradient, and restores the tape', async () => {
    const x = tf.tensor1d([3]);
    const g = tf.grad((v: tf.Tensor) => {
      const c = withoutTape(() => tf.mul(v, v)); // constant 9: contributes no gradient
      expect(isRecordingGradients()).toBe(true);
      return tf.sum(tf.add(tf.mul(v, 2), c));
    })(x);
    expect(Array.from(await g.data())).toEqual([2]);
    tf.dispose([x, g]);
  });

  it('gradients taken inside withoutTape still work (a fresh tape)', async () => {
    const x = tf.tensor1d([3]);
    const outer = tf.grad((v: tf.Tensor) => {
      const inner = withoutTape(() => tf.grad((w: tf.Tensor) => tf.sum(tf.square(w)))(v));
      expect(Array.from(inner.dataSync())).toEqual([6]);
      return tf.sum(tf.mul(v, inner));
    })(x);
    expect(Array.from(await outer.data())).toEqual([6]);
    tf.dispose([x, outer]);
  });

  it('withoutTape restores the tape when fn throws', () => {
    const x = tf.tensor1d([1]);
    const g = tf.grad((v: tf.Tensor) => {
      expect(() =>
        withoutTape(() => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(isRecordingGradients()).toBe(true);
      return tf.sum(v);
    })(x);
    tf.dispose([x, g]);
  });

  it('stopGradient copies without a gradient path and keeps its input', async () => {
    const x = tf.tensor1d([2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(x);
    expect(Array.from(await g.data())).toEqual([2]);
    expect(x.isDisposed).toBe(false);
    tf.dispose([x, g]);
  });

  it('canReadSync names the host backends', () => {
    expect(canReadSync('cpu')).toBe(true);
    expect(canReadSync('wasm')).toBe(true);
    expect(canReadSync('webgpu')).toBe(false);
    expect(canReadSync('webgl')).toBe(false);
    expect(canReadSync()).toBe(tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm');
  });
});

describe('generated gradient registrations record their tfjs-core version', () => {
  it('matches the tfjs-core in the lockfile and warns on a mismatch', async () => {
    const { checkTfjsCoreVersion, generatedTfjsCoreVersion } = await import('./register-version.js');
    expect(generatedTfjsCoreVersion()).toBe(tf.version_core);
    const warned: string[] = [];
    expect(checkTfjsCoreVersion(tf.version_core, (m) => warned.push(m))).toBeUndefined();
    const msg = checkTfjsCoreVersion('9.9.9', (m) => warned.push(m));
    expect(msg).toMatch(/tfjs-core 9\.9\.9 is loaded.*generated from 4\./);
    expect(warned).toEqual([msg]);
  });
});
