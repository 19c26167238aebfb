import { runBackendConformance, webGpuForTests } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu } from './index.js';

// The backend conformance suite of @ebm/core/testing, run on webgpu with this package's kernels registered
// (so the WGSL randomNormal / randomUniform / langevinStep are what is checked).
const gpu = await webGpuForTests(() => setupWebGpu(), 'WebGPU backend conformance tests');
const gpuOk = gpu.available;
await tf.setBackend('cpu');

describe('@ebm/core backend conformance on webgpu (Dawn; lavapipe on CPU-only machines)', () => {
  it.runIf(gpu.required || gpuOk)('passes with the @ebm/cuda kernels registered', async () => {
    expect(gpuOk).toBe(true);
    registerWebGpuKernels();
    const checks = await runBackendConformance('webgpu');
    expect(checks.every((c) => c.ok)).toBe(true);
    await tf.setBackend('cpu');
  });
});
