import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '@ebm/core';
import { detectTfjsNodeGpu, setupWebGpu, useTfjsNodeGpu } from './index.js';

describe('tfjs-node-gpu detection', () => {
  it('reports it unavailable with the loader message, and useTfjsNodeGpu throws BACKEND_UNAVAILABLE', async () => {
    const s = await detectTfjsNodeGpu();
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/tfjs-node-gpu/);
    await expect(useTfjsNodeGpu()).rejects.toThrowError(/BACKEND_UNAVAILABLE.*tfjs-node-gpu is unavailable/);
  });
});

describe('setupWebGpu in Node (Dawn)', () => {
  const required = process.env.EBM_TEST_WEBGPU === '1';
  it('activates the webgpu backend on the available adapter, or explains why not', async () => {
    let info: Awaited<ReturnType<typeof setupWebGpu>> | undefined;
    try {
      info = await setupWebGpu();
    } catch (e) {
      expect(String(e)).toMatch(/BACKEND_UNAVAILABLE/);
      if (required) throw e;
      console.warn(`[ebm] webgpu unavailable here: ${String(e)}`);
      return;
    }
    expect(info.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const y = tf.matMul(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor2d([
        [1, 0],
        [0, 1],
      ]),
    );
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4]);
    y.dispose();
    await tf.setBackend('cpu');
  });
});
