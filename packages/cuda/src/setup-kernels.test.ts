import { kernelSource } from '@ebm/core';
import { expectEbmErrorAsync, webGpuForTests } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerWebGpuKernels, setupWebGpu, WEBGPU_KERNEL_NAMES } from './index.js';

// setupWebGpu registers @ebm/cuda's fused kernels by default ({ kernels: false } opts out), idempotently next to
// `@ebm/cuda/register`. The registry is global (per test file), so the cases run in order and each starts by
// removing the registrations (`registerWebGpuKernels()()`).
const gpu = await webGpuForTests(
  () => setupWebGpu({ kernels: false }),
  'setupWebGpu kernel-registration tests',
);
await tf.setBackend('cpu');

/** How many of @ebm/cuda's kernels the registry resolves to their webgpu implementation. */
const fused = () => WEBGPU_KERNEL_NAMES.filter((n) => kernelSource(n, 'webgpu') === 'backend').length;
const clear = () => registerWebGpuKernels()();

describe('setupWebGpu options (any machine)', () => {
  it('an unknown option name or a non-boolean kernels is an INVALID_PARAM EbmError, and registers nothing', async () => {
    clear();
    const typo = await expectEbmErrorAsync(() => setupWebGpu({ kernel: false } as never), 'INVALID_PARAM', {
      argument: 'kernel',
    });
    expect(typo.message).toMatch(/Did you mean "kernels"/);
    await expectEbmErrorAsync(() => setupWebGpu({ kernels: 'no' } as never), 'INVALID_PARAM', {
      argument: 'kernels',
    });
    expect(fused()).toBe(0);
  });

  it('a set-up that fails (here: no tfjs WebGPU backend module) registers nothing', async () => {
    clear();
    await expectEbmErrorAsync(() => setupWebGpu({ backend: {} as never }), 'BACKEND_UNAVAILABLE');
    expect(fused()).toBe(0);
  });
});

describe.skipIf(!gpu.available)('setupWebGpu registers the fused kernels (webgpu)', () => {
  it('{ kernels: false } leaves them unregistered: webgpu resolves the composites', async () => {
    clear();
    const info = await setupWebGpu({ kernels: false });
    expect(info.backend).toBe('webgpu');
    expect(info.fusedKernels).toBe(false);
    expect(fused()).toBe(0);
    expect(kernelSource('randomNormal')).toBe('fallback');
    expect(kernelSource('langevinStep')).toBe('fallback');
    await tf.setBackend('cpu');
  });

  it('by default every @ebm/cuda kernel resolves to its webgpu implementation (and only on webgpu)', async () => {
    clear();
    const info = await setupWebGpu();
    expect(info.fusedKernels).toBe(true);
    expect(fused()).toBe(WEBGPU_KERNEL_NAMES.length);
    expect(kernelSource('randomNormal')).toBe('backend');
    expect(kernelSource('randomNormal', 'cpu')).toBe('fallback');
    await tf.setBackend('cpu');
  });

  it('is idempotent with @ebm/cuda/register and registerWebGpuKernels; { kernels: false } later keeps them', async () => {
    clear();
    await import('./register.js'); // first import in this file: registers
    const unregister = registerWebGpuKernels();
    expect(fused()).toBe(WEBGPU_KERNEL_NAMES.length);
    expect((await setupWebGpu()).fusedKernels).toBe(true);
    expect(registerWebGpuKernels()).toBe(unregister); // one registration, not a second layer
    expect((await setupWebGpu({ kernels: false })).fusedKernels).toBe(true);
    expect(fused()).toBe(WEBGPU_KERNEL_NAMES.length);
    unregister(); // one call removes them all
    expect(fused()).toBe(0);
    await tf.setBackend('cpu');
  });
});
