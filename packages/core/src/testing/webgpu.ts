/**
 * # WebGPU in test suites
 *
 * The one set-up of the WebGPU test files of `@ebm/*` (and of backend plugins that want the same policy): run the
 * caller's set-up (e.g. `@ebm/cuda`'s `setupWebGpu`; core cannot import it) once per file; where it fails, the
 * file's WebGPU tests are skipped with a warning — unless `EBM_TEST_WEBGPU=1` (CI, and machines with Mesa's
 * lavapipe), where a missing adapter fails the file instead of passing silently.
 * @module
 */
import { EbmError } from '../errors.js';

/** What {@link webGpuForTests} found. */
export interface WebGpuForTests<T> {
  /** The set-up succeeded: run the WebGPU tests (`describe.skipIf(!gpu.available)`). */
  readonly available: boolean;
  /** `EBM_TEST_WEBGPU=1`: WebGPU must be available (a failed set-up throws instead of returning). */
  readonly required: boolean;
  /** What the set-up returned (e.g. `setupWebGpu`'s adapter info); `undefined` when unavailable. */
  readonly info: T | undefined;
  /** Why WebGPU is unavailable (the set-up's error message); `undefined` when available. */
  readonly reason: string | undefined;
}

/** Whether `EBM_TEST_WEBGPU=1` is set: the WebGPU tests must run (a missing adapter is a failure). */
export function webGpuTestsRequired(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.EBM_TEST_WEBGPU === '1';
}

/**
 * Runs `setup` (which makes the `webgpu` backend active, e.g. `() => setupWebGpu()` from `@ebm/cuda`) for a
 * test file. Resolves `{ available: true, info }` when it succeeds. When it throws: with `EBM_TEST_WEBGPU=1` this
 * rejects with `TEST_FAILURE` (the set-up's error as `cause` and in the message), so the file fails; otherwise it
 * warns once (`[ebm] <label> skipped: …`) and resolves `{ available: false, reason }`, and the caller skips.
 *
 * @example
 * ```ts
 * import { webGpuForTests } from '@ebm/core/testing';
 * import { setupWebGpu } from '@ebm/cuda';
 *
 * const gpu = await webGpuForTests(() => setupWebGpu({ kernels: true }), 'fused replay-kernel tests');
 * describe.skipIf(!gpu.available)('replay kernels on webgpu', () => { … });
 * ```
 */
export async function webGpuForTests<T>(
  setup: () => Promise<T> | T,
  label: string,
): Promise<WebGpuForTests<T>> {
  if (typeof setup !== 'function') {
    throw new EbmError('INVALID_PARAM', 'webGpuForTests needs a set-up function.', {
      argument: 'setup',
      value: typeof setup,
      fix: "pass a function that activates the webgpu backend, e.g. () => setupWebGpu() from '@ebm/cuda'.",
    });
  }
  if (typeof label !== 'string' || label === '') {
    throw new EbmError('INVALID_PARAM', 'webGpuForTests needs a label for its skip warning.', {
      argument: 'label',
      value: label,
      fix: "name the tests, e.g. 'WebGPU replay-kernel tests'.",
    });
  }
  const required = webGpuTestsRequired();
  try {
    const info = await setup();
    return { available: true, required, info, reason: undefined };
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (required) {
      throw new EbmError('TEST_FAILURE', `EBM_TEST_WEBGPU=1, but WebGPU for ${label} failed: ${reason}`, {
        argument: 'EBM_TEST_WEBGPU',
        value: '1',
        fix: 'install a Vulkan driver (Debian: mesa-vulkan-drivers for lavapipe) and set XDG_RUNTIME_DIR, or unset EBM_TEST_WEBGPU to skip these tests.',
        cause,
      });
    }
    console.warn(`[ebm] ${label} skipped (no WebGPU): ${String(cause)}`);
    return { available: false, required, info: undefined, reason };
  }
}
