import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import '@ebm/core';
import { detectTfjsNodeGpu, isSoftwareAdapter, setupWebGpu, useTfjsNodeGpu } from './index.js';

describe('isSoftwareAdapter', () => {
  it('reports SwiftShader, lavapipe/llvmpipe, WARP and fallback adapters as software, GPUs as hardware', () => {
    expect(
      isSoftwareAdapter({
        vendor: 'google',
        architecture: 'swiftshader',
        description: 'SwiftShader Device (Subzero)',
      }),
    ).toBe(true);
    expect(
      isSoftwareAdapter({
        vendor: 'google',
        architecture: '',
        device: '',
        description: 'SwiftShader Device (LLVM 10.0.0)',
      }),
    ).toBe(true);
    expect(
      isSoftwareAdapter({
        vendor: 'mesa',
        architecture: 'llvmpipe',
        description: 'llvmpipe (LLVM 15.0.6, 256 bits)',
      }),
    ).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'lavapipe' })).toBe(true);
    expect(
      isSoftwareAdapter({
        vendor: 'microsoft',
        architecture: '',
        description: 'Microsoft Basic Render Driver',
      }),
    ).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper' }, true)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(
      false,
    );
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3' })).toBe(false);
    expect(isSoftwareAdapter(undefined)).toBe(false);
  });
});

describe('tfjs-node-gpu detection', () => {
  it('reports it unavailable with the loader message, and useTfjsNodeGpu throws BACKEND_UNAVAILABLE', async () => {
    const s = await detectTfjsNodeGpu();
    expect(s.available).toBe(false);
    expect(s.gpu).toBeUndefined();
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
    if (required) expect(info.isSoftware).toBe(true); // CI and this machine: lavapipe
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
