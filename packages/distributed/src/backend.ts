import { EbmError } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * # Which backend a worker runs on
 *
 * `auto` (the default) tries, in order: WebGPU through Dawn (the optional peers `webgpu` and
 * `@tensorflow/tfjs-backend-webgpu`, when a hardware GPU adapter is found — a CPU Vulkan such as Mesa's
 * lavapipe is skipped, `webgpu` asked by name still uses it), then `@tensorflow/tfjs-backend-wasm`, then
 * tfjs's `cpu` backend (registered by `@ebm/core`). A named backend fails with `BACKEND_UNAVAILABLE` when it
 * cannot start. An application with its own set-up (e.g. `@ebm/cuda`) passes `registry.setupBackend` instead.
 *
 * **Choosing a GPU per process**: Dawn's Node binding takes `adapter=<text>` (`gpuAdapter` here) and uses the
 * first adapter whose device name contains the text, so it separates different models (an NVIDIA and an AMD
 * card), not two identical GPUs. For several identical GPUs, select the device below Dawn, per process, with
 * Mesa's Vulkan device-select layer (`DRI_PRIME=pci-0000_41_00_0!` or `MESA_VK_DEVICE_SELECT=<vid:did>!`; the
 * trailing `!` hides the other devices) — see the README.
 * @module
 */

/** Options of {@link selectBackend}. */
export interface BackendOptions {
  /** `auto`, `webgpu`, `wasm` or `cpu` (default `auto`). */
  readonly preference?: string;
  /** Dawn adapter name filter for WebGPU (substring of the device name). */
  readonly gpuAdapter?: string;
}

const importOptional = async (name: string): Promise<Record<string, unknown> | undefined> => {
  try {
    return (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader/i;

async function tryWebgpu(gpuAdapter: string | undefined, hardwareOnly: boolean): Promise<string | undefined> {
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu === undefined) {
    const dawn = await importOptional('webgpu');
    if (dawn === undefined || typeof dawn.create !== 'function') return undefined;
    Object.assign(globalThis, dawn.globals as object);
    const flags = gpuAdapter ? [`adapter=${gpuAdapter}`] : [];
    const gpu = (dawn.create as (f: string[]) => unknown)(flags);
    if (g.navigator === undefined) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } else (g.navigator as { gpu?: unknown }).gpu = gpu;
  }
  const gpu = g.navigator?.gpu as { requestAdapter?: () => Promise<unknown> } | undefined;
  try {
    const adapter = (await gpu?.requestAdapter?.()) as
      | { info?: { device?: string; description?: string }; isFallbackAdapter?: boolean }
      | null
      | undefined;
    if (adapter == null) return undefined;
    // `auto` wants a GPU: a CPU Vulkan (Mesa lavapipe) or SwiftShader adapter is slower than wasm.
    const name = `${adapter.info?.device ?? ''} ${adapter.info?.description ?? ''}`;
    if (hardwareOnly && (adapter.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(name))) return undefined;
  } catch {
    return undefined;
  }
  if ((await importOptional('@tensorflow/tfjs-backend-webgpu')) === undefined) return undefined;
  return (await tf.setBackend('webgpu')) ? 'webgpu' : undefined;
}

async function tryWasm(): Promise<string | undefined> {
  if ((await importOptional('@tensorflow/tfjs-backend-wasm')) === undefined) return undefined;
  try {
    return (await tf.setBackend('wasm')) ? 'wasm' : undefined;
  } catch {
    return undefined;
  }
}

/** Sets up and activates a tfjs backend; returns its name (see the module docs). */
export async function selectBackend(options: BackendOptions = {}): Promise<string> {
  const pref = options.preference ?? 'auto';
  let got: string | undefined;
  if (pref === 'auto') {
    got = (await tryWebgpu(options.gpuAdapter, true)) ?? (await tryWasm());
    if (got === undefined && (await tf.setBackend('cpu'))) got = 'cpu';
  } else if (pref === 'webgpu') got = await tryWebgpu(options.gpuAdapter, false);
  else if (pref === 'wasm') got = await tryWasm();
  else {
    try {
      got = (await tf.setBackend(pref)) ? pref : undefined;
    } catch {
      got = undefined;
    }
  }
  if (got === undefined) {
    throw new EbmError('BACKEND_UNAVAILABLE', `The "${pref}" backend could not start in this worker.`, {
      argument: 'backend',
      value: pref,
      fix:
        pref === 'webgpu'
          ? 'install webgpu and @tensorflow/tfjs-backend-webgpu next to the worker, check the GPU driver, or use --backend auto.'
          : 'install the backend package next to the worker, or use --backend auto / cpu.',
    });
  }
  await tf.ready();
  return tf.getBackend();
}
