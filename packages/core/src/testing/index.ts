/**
 * `@ebm/core/testing`: the shared test kit of `@ebm/*` packages and backend plugins — leak checks,
 * Monte-Carlo standard-error tests, KS/DKWM tests, the seed policy, the one-step target-conservation test, the
 * bad-input matrix, kernel-path helpers (count a kernel's calls, run without a kernel or a kernel hint) and the
 * WebGPU test set-up (`webGpuForTests`: skip without an adapter, fail under `EBM_TEST_WEBGPU=1`).
 * Framework-agnostic: assertions throw `EbmError` with code `TEST_FAILURE`. Import `@ebm/core` (or
 * `@ebm/core/register`) first: it sets tfjs up (gradients, chained ops, the cpu backend).
 * @module
 */

export * from './backend-conformance.js';
export * from './bad-input.js';
export * from './chromium.js';
export * from './conservation.js';
export * from './errors.js';
export * from './kernels.js';
export * from './leaks.js';
export * from './seed.js';
export * from './stats.js';
export * from './throwing-energy.js';
export * from './webgpu.js';
