/**
 * `@ebm/cuda`: GPU back ends for `@ebm/*`. This first release sets up tfjs's WebGPU backend in Node through
 * Dawn (the `webgpu` npm package) and in browsers, detects `@tensorflow/tfjs-node-gpu` with a clear error
 * where it cannot load, and registers fused WGSL kernels (GPU Philox noise, a fused Langevin step, whole-chain
 * Langevin kernels) in `@ebm/core`'s kernel registry: {@link registerWebGpuKernels}, or import
 * `@ebm/cuda/register` for the side effect.
 * @module
 */

import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

export {
  chainStepKeys,
  langevinStepWebGpu,
  MAX_STEPS_PER_DISPATCH,
  makeSeparableChainKernel,
  randomNormalWebGpu,
  randomUniformWebGpu,
  registerWebGpuKernels,
  SEPARABLE_CHAIN_KINDS,
  WEBGPU_BACKEND,
  WEBGPU_KERNEL_NAMES,
} from './webgpu-kernels.js';

/** What {@link setupWebGpu} found. */
export interface WebGpuInfo {
  /** `'webgpu'` once the backend is active. */
  readonly backend: string;
  /** Adapter vendor and architecture as reported by WebGPU (e.g. `mesa` / `software` for lavapipe). */
  readonly vendor: string;
  readonly architecture: string;
  /** True on a software adapter (lavapipe, SwiftShader): correct, but not fast. */
  readonly isSoftware: boolean;
}

interface GpuLike {
  requestAdapter(options?: unknown): Promise<{ info?: { vendor?: string; architecture?: string } } | null>;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** Dynamic import that bundlers leave alone (optional peers must not be bundled into browser builds). */
const importOptional = (name: string): Promise<unknown> =>
  import(/* @vite-ignore */ /* webpackIgnore: true */ name);

/**
 * Makes tfjs's `webgpu` backend active. In Node it first installs Dawn's `navigator.gpu` from the optional peer
 * `webgpu` (it must run before `@tensorflow/tfjs-backend-webgpu` is first imported); in a browser it uses the
 * browser's WebGPU. Throws `BACKEND_UNAVAILABLE` with the fix when a package or an adapter is missing.
 * Read results with `await t.data()`: `dataSync` is unavailable on WebGPU in Node.
 */
export async function setupWebGpu(options: { dawnFlags?: readonly string[] } = {}): Promise<WebGpuInfo> {
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (isNode() && g.navigator?.gpu === undefined) {
    let dawn: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
    try {
      dawn = (await importOptional('webgpu')) as typeof dawn;
    } catch (cause) {
      throw new EbmError('BACKEND_UNAVAILABLE', 'WebGPU in Node needs the `webgpu` package (Dawn).', {
        argument: 'webgpu',
        fix: 'install it next to @ebm/cuda: pnpm add webgpu@0.6.2',
        cause,
      });
    }
    Object.assign(globalThis, dawn.globals);
    const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
    if (proc && proc.env.XDG_RUNTIME_DIR === undefined) proc.env.XDG_RUNTIME_DIR = '/tmp';
    const nav = (g.navigator ?? {}) as { gpu?: GpuLike };
    nav.gpu = dawn.create([...(options.dawnFlags ?? [])]);
    if (g.navigator === undefined) (globalThis as unknown as { navigator: unknown }).navigator = nav;
  }
  const gpu = g.navigator?.gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  if (adapter === null) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'No WebGPU adapter was found.', {
      argument: 'navigator.gpu',
      fix: isNode()
        ? 'install a Vulkan driver (on Debian 12 without a GPU: mesa-vulkan-drivers from bookworm-backports) or run on a machine with a GPU.'
        : 'use a browser with WebGPU enabled (Chromium: --enable-unsafe-webgpu on Linux).',
    });
  }
  try {
    await importOptional('@tensorflow/tfjs-backend-webgpu');
  } catch (cause) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'The tfjs WebGPU backend package is missing.', {
      argument: '@tensorflow/tfjs-backend-webgpu',
      fix: 'pnpm add @tensorflow/tfjs-backend-webgpu@4.22.0',
      cause,
    });
  }
  const ok = await tf.setBackend('webgpu').catch(() => false);
  if (!ok) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'tfjs failed to initialise the webgpu backend.', {
      argument: 'webgpu',
      fix: 'check the adapter with navigator.gpu.requestAdapter(); see the console for Dawn messages.',
    });
  }
  await tf.ready();
  const vendor = adapter.info?.vendor ?? 'unknown';
  const architecture = adapter.info?.architecture ?? 'unknown';
  return {
    backend: tf.getBackend(),
    vendor,
    architecture,
    isSoftware: architecture === 'software' || /swiftshader|llvmpipe/i.test(vendor),
  };
}

/** Result of {@link detectTfjsNodeGpu}. */
export interface NativeBackendStatus {
  readonly available: boolean;
  /** Why it is unavailable (the loader's message), when it is. */
  readonly reason?: string;
}

/**
 * Checks whether `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA) can load here. It is an optional peer:
 * its install script downloads libtensorflow from outside the npm registry, which fails on locked-down machines.
 */
export async function detectTfjsNodeGpu(): Promise<NativeBackendStatus> {
  if (!isNode()) return { available: false, reason: 'tfjs-node-gpu runs only in Node.js' };
  try {
    await importOptional('@tensorflow/tfjs-node-gpu');
    return { available: true };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { available: false, reason: msg.split('\n')[0] ?? msg };
  }
}

/**
 * Makes the `tensorflow` backend of `@tensorflow/tfjs-node-gpu` active, or throws `BACKEND_UNAVAILABLE`
 * naming why it cannot load and what to do.
 */
export async function useTfjsNodeGpu(): Promise<void> {
  const status = await detectTfjsNodeGpu();
  if (!status.available) {
    throw new EbmError('BACKEND_UNAVAILABLE', `@tensorflow/tfjs-node-gpu is unavailable: ${status.reason}`, {
      argument: '@tensorflow/tfjs-node-gpu',
      fix: 'install it where its install script can download libtensorflow (CUDA 11.2), or use setupWebGpu().',
    });
  }
  await tf.setBackend('tensorflow');
  await tf.ready();
}
