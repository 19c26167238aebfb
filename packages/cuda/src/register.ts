/**
 * Side-effect entry `@ebm/cuda/register`: registers the fused WGSL kernels for tfjs's `webgpu` backend in
 * `@ebm/core`'s kernel registry (see `registerWebGpuKernels`). They run whenever `webgpu` is the active
 * backend; other backends keep core's composite kernels. `setupWebGpu()` registers them itself, so this entry
 * is for apps that activate tfjs's `webgpu` backend another way (importing `@tensorflow/tfjs-backend-webgpu` and
 * calling `tf.setBackend('webgpu')`); importing it next to `setupWebGpu()` is harmless (registration is idempotent).
 * @example
 * ```ts
 * import '@ebm/cuda/register';
 * import '@tensorflow/tfjs-backend-webgpu';
 * import * as tf from '@tensorflow/tfjs-core';
 * await tf.setBackend('webgpu'); // samplers now draw noise and step on the GPU
 * ```
 * @module
 */
import { registerWebGpuKernels } from './webgpu-kernels.js';

registerWebGpuKernels();
