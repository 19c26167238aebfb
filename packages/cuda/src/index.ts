/**
 * `@ebm/cuda`: GPU back ends for `@ebm/*`. This first release sets up tfjs's WebGPU backend in Node through
 * Dawn (the `webgpu` npm package) and in browsers, detects `@tensorflow/tfjs-node-gpu` with a clear error
 * where it cannot load, and registers fused WGSL kernels (GPU Philox noise, a fused Langevin step, whole-chain
 * Langevin kernels, the fused training steps, the replay buffer) in `@ebm/core`'s kernel registry. {@link setupWebGpu}
 * registers them itself (opt out with `setupWebGpu({ kernels: false })`); an app that activates tfjs's `webgpu`
 * backend some other way calls {@link registerWebGpuKernels}, or imports `@ebm/cuda/register` for the side effect.
 * @module
 */

import { assertKnownOptions, EbmError, optionKeys } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { registerWebGpuKernels, webGpuKernelsRegistered } from './webgpu-kernels.js';

export {
  CHAIN_KINDS,
  type ChainTraceInputs,
  type ChainTraceOutput,
  chainTraceKernelName,
  MAX_STEPS_PER_DISPATCH,
  makeChainKernel,
  makeChainTraceKernel,
  SEPARABLE_CHAIN_KINDS,
  setDefaultMlpVariant,
  type WebGpuChainInputs,
} from './chain-kernels.js';
/**
 * Internal (benchmarks, tests; may change without notice): the separable whole-chain program's code variant, see
 * `bench/sweep-sections.mjs`. Every variant gives bit-identical samples.
 */
export {
  type SeparableChainVariant,
  separableChainVariant,
  separableVariantLabel,
  setSeparableChainVariant,
} from './chain-programs.js';
export { WGSL_ENERGY_KINDS, type WgslEnergy, wgslEnergy } from './energy-kinds.js';
export {
  MLP_MAX_WIDTH,
  type MlpActivation,
  type MlpKernelParams,
  type MlpLayersParams,
  mlpKernelHint,
} from './mlp-energy.js';
export {
  langevinStepWebGpu,
  randomNormalWebGpu,
  randomUniformWebGpu,
  registerWebGpuKernels,
  WEBGPU_BACKEND,
  WEBGPU_KERNEL_NAMES,
} from './webgpu-kernels.js';

/** What {@link setupWebGpu} found. */
export interface WebGpuInfo {
  /** `'webgpu'` once the backend is active. */
  readonly backend: string;
  /** Adapter vendor and architecture as reported by WebGPU (e.g. `mesa` / `llvmpipe` for lavapipe). */
  readonly vendor: string;
  readonly architecture: string;
  /** Adapter description when the implementation gives one (e.g. `NVIDIA H200`, `SwiftShader Device`). */
  readonly description: string;
  /** True on a software adapter (lavapipe/llvmpipe, SwiftShader, WARP, a fallback adapter): correct, but not fast. */
  readonly isSoftware: boolean;
  /**
   * Whether @ebm/cuda's fused WGSL kernels are registered for `webgpu` (see {@link registerWebGpuKernels}): true
   * after a default call; after `{ kernels: false }`, whether something else registered them (`@ebm/cuda/register`).
   */
  readonly fusedKernels: boolean;
}

/** The adapter description fields {@link isSoftwareAdapter} reads (a `GPUAdapterInfo`, or any subset of it). */
export interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|microsoft basic render|software/i;

/**
 * True when a WebGPU adapter is a CPU implementation: Mesa lavapipe/llvmpipe (vendor `mesa`, architecture or
 * description `llvmpipe`), Google SwiftShader (architecture `swiftshader`, vendor `google`), Microsoft WARP, or
 * any adapter flagged `isFallbackAdapter`. Every text field is checked, since implementations put the name in
 * different ones.
 */
export function isSoftwareAdapter(info: AdapterInfoLike | undefined, isFallbackAdapter = false): boolean {
  if (isFallbackAdapter || info?.isFallbackAdapter === true) return true;
  if (info === undefined) return false;
  return [info.vendor, info.architecture, info.device, info.description].some(
    (f) => typeof f === 'string' && SOFTWARE_ADAPTER.test(f),
  );
}

interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
  features?: { has(name: string): boolean };
  limits?: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<unknown>;
}

interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>;
}

/** The part of `@tensorflow/tfjs-backend-webgpu`'s module {@link setupWebGpu} needs. */
export interface TfjsWebGpuModule {
  readonly WebGPUBackend: new (device: never, adapterInfo?: never) => tf.KernelBackend;
}

/** Options of {@link setupWebGpu}. */
export interface SetupWebGpuOptions {
  /** Dawn toggles passed to `webgpu`'s `create()` in Node (e.g. `['enable-dawn-features=...']`). */
  readonly dawnFlags?: readonly string[];
  /**
   * The `@tensorflow/tfjs-backend-webgpu` module, or a function that imports it. Default: a literal
   * `import('@tensorflow/tfjs-backend-webgpu')`, which bundlers (Vite, webpack, esbuild) resolve and bundle.
   * Pass it when you imported the backend yourself, e.g. `setupWebGpu({ backend: webgpuBackendModule })`.
   */
  readonly backend?: TfjsWebGpuModule | (() => Promise<unknown>);
  /**
   * Register @ebm/cuda's fused WGSL kernels for `webgpu` in `@ebm/core`'s kernel registry
   * ({@link registerWebGpuKernels}: GPU Philox noise, the fused Langevin step, whole chains, the fused training
   * steps, the replay buffer). Default `true`: samplers and `fit` take the fused paths. `false` leaves the
   * registry as it is (every op then runs as tfjs's composite ops, unless `@ebm/cuda/register` or an earlier
   * call registered the kernels; `registerWebGpuKernels()()` removes them), e.g. to measure the unfused paths.
   */
  readonly kernels?: boolean;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * Dynamic import that bundlers leave alone. Only for Node-only native packages (`webgpu`, i.e. Dawn, and
 * `@tensorflow/tfjs-node-gpu`), which must stay out of bundles; the tfjs WebGPU backend is imported literally.
 */
const importNodeOnly = (name: string): Promise<unknown> =>
  import(/* @vite-ignore */ /* webpackIgnore: true */ name);

/** Default loader of the tfjs WebGPU backend: a literal specifier, so bundlers include it. */
const importTfjsWebGpu = (): Promise<unknown> => import('@tensorflow/tfjs-backend-webgpu');

const WEBGPU_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
] as const;

/**
 * Registers tfjs's `webgpu` backend factory when the backend module did not (it registers only if
 * `navigator.gpu` existed when it was first evaluated: in Node, a module imported before Dawn was installed).
 * Same device request as tfjs-backend-webgpu's own factory.
 */
function ensureWebGpuFactory(mod: TfjsWebGpuModule, gpu: GpuLike): void {
  if (tf.findBackendFactory('webgpu') !== null && tf.findBackendFactory('webgpu') !== undefined) return;
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (adapter === null) throw new Error('no WebGPU adapter');
      const requiredFeatures: string[] = [];
      if (adapter.features?.has('timestamp-query')) requiredFeatures.push('timestamp-query');
      const requiredLimits: Record<string, number> = {};
      for (const k of WEBGPU_LIMITS) {
        const v = adapter.limits?.[k];
        if (typeof v === 'number') requiredLimits[k] = v;
      }
      const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
      return new mod.WebGPUBackend(device as never, adapter.info as never);
    },
    3,
  );
}

const SETUP_KEYS = optionKeys<SetupWebGpuOptions>({ dawnFlags: true, backend: true, kernels: true });

/**
 * Makes tfjs's `webgpu` backend active and registers @ebm/cuda's fused kernels for it (idempotent, also next to
 * `import '@ebm/cuda/register'`; `{ kernels: false }` skips that). In Node it first installs Dawn's
 * `navigator.gpu` from the optional peer `webgpu`; in a browser it uses the browser's WebGPU. The tfjs backend
 * module is imported with a literal `import()` (bundlers include it) or taken from `options.backend`; if it was
 * evaluated before `navigator.gpu` existed, its factory is registered here. Throws `BACKEND_UNAVAILABLE` with the
 * fix when a package or an adapter is missing (and then registers nothing). Read results with `await t.data()`:
 * `dataSync` is unavailable on WebGPU in Node.
 * @example
 * ```ts
 * const info = await setupWebGpu(); // { backend: 'webgpu', vendor, architecture, isSoftware, fusedKernels: true }
 * ```
 */
export async function setupWebGpu(options: SetupWebGpuOptions = {}): Promise<WebGpuInfo> {
  assertKnownOptions('setupWebGpu', options, SETUP_KEYS);
  if (options.kernels !== undefined && typeof options.kernels !== 'boolean') {
    throw new EbmError('INVALID_PARAM', 'setupWebGpu option `kernels` must be a boolean.', {
      argument: 'kernels',
      value: options.kernels,
      fix: 'pass kernels: false to skip registering the fused kernels, or leave it out (default true).',
    });
  }
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (isNode() && g.navigator?.gpu === undefined) {
    let dawn: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
    try {
      dawn = (await importNodeOnly('webgpu')) as typeof dawn;
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
  if (gpu === undefined || adapter === null) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'No WebGPU adapter was found.', {
      argument: 'navigator.gpu',
      fix: isNode()
        ? 'install a Vulkan driver (on Debian 12 without a GPU: mesa-vulkan-drivers from bookworm-backports) or run on a machine with a GPU.'
        : 'use a browser with WebGPU enabled (Chromium: --enable-unsafe-webgpu on Linux).',
    });
  }
  let mod: TfjsWebGpuModule;
  try {
    const given = options.backend;
    mod = (
      given === undefined
        ? await importTfjsWebGpu()
        : typeof given === 'function'
          ? await (given as () => Promise<unknown>)()
          : given
    ) as TfjsWebGpuModule;
    if (typeof mod?.WebGPUBackend !== 'function') throw new Error('the module has no WebGPUBackend class');
  } catch (cause) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'The tfjs WebGPU backend package is missing.', {
      argument: 'options.backend',
      value: typeof options.backend,
      fix: 'pnpm add @tensorflow/tfjs-backend-webgpu@4.22.0 (or pass its module: setupWebGpu({ backend: module })).',
      cause,
    });
  }
  ensureWebGpuFactory(mod, gpu);
  const ok = await tf.setBackend('webgpu').catch(() => false);
  if (!ok) {
    throw new EbmError('BACKEND_UNAVAILABLE', 'tfjs failed to initialise the webgpu backend.', {
      argument: 'webgpu',
      fix: 'check the adapter with navigator.gpu.requestAdapter(); see the console for Dawn messages.',
    });
  }
  await tf.ready();
  if (options.kernels !== false) registerWebGpuKernels();
  const info = adapter.info ?? {};
  return {
    backend: tf.getBackend(),
    vendor: info.vendor ?? 'unknown',
    architecture: info.architecture ?? 'unknown',
    description: info.description ?? '',
    isSoftware: isSoftwareAdapter(info, adapter.isFallbackAdapter === true),
    fusedKernels: webGpuKernelsRegistered(),
  };
}

/** Result of {@link detectTfjsNodeGpu}. */
export interface NativeBackendStatus {
  /** The package loaded and registered tfjs's `tensorflow` backend. */
  readonly available: boolean;
  /**
   * Whether libtensorflow runs on a CUDA GPU: `true`/`false` as reported by the binding's `isUsingGpuDevice()`,
   * `undefined` when unknown (not loaded, or a binding without that call). tfjs-node-gpu falls back to the CPU
   * silently when the CUDA 11.2 / cuDNN 8.1 libraries it was built against are missing.
   */
  readonly gpu?: boolean | undefined;
  /** Why it is unavailable (the loader's message), or why the GPU is not used. */
  readonly reason?: string;
}

interface NodeBackendLike {
  binding?: { isUsingGpuDevice?: () => boolean };
}

/**
 * Checks whether `@tensorflow/tfjs-node-gpu` (libtensorflow 2.9 with CUDA 11.2) loads here and whether it runs on
 * a GPU. It is an optional peer: its install script downloads libtensorflow from outside the npm registry (fails on
 * locked-down machines), it ships for Linux x64 only, and it needs the CUDA 11.2 + cuDNN 8.1 runtime libraries on
 * the library path (newer CUDA major versions do not satisfy it; then it runs on the CPU: `gpu: false`).
 */
export async function detectTfjsNodeGpu(): Promise<NativeBackendStatus> {
  if (!isNode()) return { available: false, reason: 'tfjs-node-gpu runs only in Node.js' };
  try {
    await importNodeOnly('@tensorflow/tfjs-node-gpu');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { available: false, reason: msg.split('\n')[0] ?? msg };
  }
  if (tf.findBackendFactory('tensorflow') === undefined || tf.findBackendFactory('tensorflow') === null) {
    return {
      available: false,
      reason:
        '@tensorflow/tfjs-node-gpu loaded but registered no "tensorflow" backend (two tfjs-core copies?)',
    };
  }
  let gpu: boolean | undefined;
  try {
    const b = tf.findBackend('tensorflow') as unknown as NodeBackendLike | null;
    const f = b?.binding?.isUsingGpuDevice;
    gpu = typeof f === 'function' ? f.call(b?.binding) : undefined;
  } catch {
    gpu = undefined;
  }
  return gpu === false
    ? {
        available: true,
        gpu,
        reason:
          'libtensorflow found no CUDA device (it needs the CUDA 11.2 and cuDNN 8.1 libraries); it runs on the CPU',
      }
    : { available: true, gpu };
}

/**
 * Makes the `tensorflow` backend of `@tensorflow/tfjs-node-gpu` active, or throws `BACKEND_UNAVAILABLE`
 * naming why it cannot load and what to do. With `{ requireGpu: true }` it also throws when libtensorflow
 * runs on the CPU.
 */
export async function useTfjsNodeGpu(options: { requireGpu?: boolean } = {}): Promise<NativeBackendStatus> {
  assertKnownOptions('useTfjsNodeGpu', options, ['requireGpu']);
  const status = await detectTfjsNodeGpu();
  if (!status.available || (options.requireGpu === true && status.gpu !== true)) {
    throw new EbmError('BACKEND_UNAVAILABLE', `@tensorflow/tfjs-node-gpu is unavailable: ${status.reason}`, {
      argument: '@tensorflow/tfjs-node-gpu',
      value: status,
      fix: 'on Linux x64 with CUDA 11.2 + cuDNN 8.1 libraries, install it where its install script can download libtensorflow; otherwise use setupWebGpu() (any Vulkan/Metal/D3D12 GPU).',
    });
  }
  await tf.setBackend('tensorflow');
  await tf.ready();
  return status;
}
