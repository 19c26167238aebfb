/**
 * Side-effect entry `@ebm/cuda/register`: registers the fused WGSL kernels for tfjs's `webgpu` backend in
 * `@ebm/core`'s kernel registry (see `registerWebGpuKernels`). They run whenever `webgpu` is the active
 * backend; other backends keep core's composite kernels.
 * @example
 * ```ts
 * import '@ebm/cuda/register';
 * import { setupWebGpu } from '@ebm/cuda';
 * await setupWebGpu(); // samplers now draw noise and step on the GPU
 * ```
 * @module
 */
import { registerWebGpuKernels } from './webgpu-kernels.js';

registerWebGpuKernels();
