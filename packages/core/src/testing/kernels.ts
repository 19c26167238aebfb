import { EbmError } from '../errors.js';
import {
  getKernelImpl,
  type KernelImpl,
  type KernelInputs,
  type KernelName,
  registerKernelImpl,
  unregisterKernelImpl,
} from '../kernels.js';

/**
 * # Kernel-path test helpers
 *
 * Tests of a fused path check *which* implementation ran: {@link countKernelCalls} wraps a registered kernel
 * implementation with a counter while a function runs; {@link withoutKernelImpls} runs a function with some
 * implementations removed (the samplers then take their step loop) and {@link withoutKernelHint} with an
 * energy's `kernelHint` hidden (the same, for hint-driven kernels such as `chain.mlp`). Each restores what it
 * changed, also when the function throws.
 *
 * @example
 * ```ts
 * const opts = { x0, nSteps: 20, … };
 * const [fused, calls] = await countKernelCalls(chainKernelName('mlp'), 'cpu', () => sampler.sample(opts));
 * expect(calls).toBe(1);
 * const loop = await withoutKernelHint(energy, () => sampler.sample(opts)); // the step loop
 * ```
 * @module
 */

/** Options of {@link countKernelCalls}. */
export interface CountKernelCallsOptions<N extends KernelName> {
  /** Count only the calls whose inputs pass (e.g. `(i) => i.nSteps === 10`: the sampler's chains, not probes). */
  readonly where?: (inputs: KernelInputs<N>) => boolean;
}

/**
 * Runs `f` with the implementation of kernel `name` on `backend` wrapped by a call counter; resolves to
 * `[f's result, number of calls]` and restores the implementation afterwards (also when `f` throws). Throws
 * `TEST_FAILURE` when no implementation is registered (nothing to count). Calls of the implementation object
 * taken from {@link getKernelImpl} *before* the count are not counted (only calls through the registry).
 */
export async function countKernelCalls<N extends KernelName, T>(
  name: N,
  backend: string,
  f: () => T | Promise<T>,
  { where }: CountKernelCallsOptions<N> = {},
): Promise<[T, number]> {
  const impl = getKernelImpl(name, backend);
  if (impl === undefined) {
    throw new EbmError(
      'TEST_FAILURE',
      `No implementation of kernel "${name}" on backend "${backend}" to count.`,
      {
        argument: 'name',
        value: name,
        fix: "register the backend's kernels first (e.g. registerWebGpuKernels()), or check the kernel name",
      },
    );
  }
  let calls = 0;
  registerKernelImpl(
    name,
    backend,
    (inputs) => {
      if (where === undefined || where(inputs)) calls++;
      return impl(inputs);
    },
    { override: true },
  );
  try {
    const result = await f();
    return [result, calls];
  } finally {
    registerKernelImpl(name, backend, impl, { override: true });
  }
}

/**
 * Runs `f` with the implementations of kernels `names` on `backend` removed (samplers then fall back to their
 * step loop, or the kernel's composite); puts back the ones that were registered afterwards, also when `f` throws.
 */
export async function withoutKernelImpls<T>(
  names: readonly KernelName[],
  backend: string,
  f: () => T | Promise<T>,
): Promise<T> {
  const saved = names.map((n) => [n, getKernelImpl(n, backend) as KernelImpl | undefined] as const);
  for (const [n] of saved) unregisterKernelImpl(n, backend);
  try {
    return await f();
  } finally {
    for (const [n, impl] of saved)
      if (impl !== undefined) registerKernelImpl(n, backend, impl, { override: true });
  }
}

/**
 * Runs `f` with `energy.kernelHint` hidden (`undefined`), so samplers and losses take their composite path
 * (the autograd step loop) for an energy whose hint would pick a fused kernel; restores the property as it was
 * when `f` returns, throws, or (for a promise) settles. Returns what `f` returns.
 */
export function withoutKernelHint<T>(energy: object, f: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(energy, 'kernelHint');
  Object.defineProperty(energy, 'kernelHint', { value: undefined, configurable: true, writable: true });
  const restore = (): void => {
    if (saved !== undefined) Object.defineProperty(energy, 'kernelHint', saved);
    else delete (energy as { kernelHint?: unknown }).kernelHint;
  };
  let result: T;
  try {
    result = f();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}
