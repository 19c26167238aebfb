/**
 * Backend choice for the live demos: WebGPU when the browser has an adapter, else WebGL, else wasm (SIMD), else
 * the cpu backend — or the one named in the URL (`?backend=cpu`). Says which one runs and why.
 */
import { activeBackend } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

export const BACKEND_CHOICES = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** What {@link pickBackend} chose. */
export interface BackendPick {
  readonly name: string;
  /** Why: e.g. "no WebGPU adapter in this browser". */
  readonly note: string;
}

let current: Promise<BackendPick> | undefined;
let currentWant: BackendChoice | undefined;

async function tryWebGpu(): Promise<string | undefined> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu === undefined) return 'this browser has no WebGPU';
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (adapter === null) return 'no WebGPU adapter';
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu').catch(() => false))) return 'tfjs could not start webgpu';
  // @ebm/cuda's fused WGSL kernels (GPU Philox noise, fused Langevin step, whole chains)
  const { registerWebGpuKernels } = await import('@ebm/cuda');
  registerWebGpuKernels();
  return undefined;
}

async function tryWebGl(): Promise<string | undefined> {
  await import('@tensorflow/tfjs-backend-webgl');
  return (await tf.setBackend('webgl').catch(() => false)) ? undefined : 'no WebGL 2 context';
}

async function tryWasm(): Promise<string | undefined> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const [plain, simd, threaded] = await Promise.all([
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
    import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
  ]);
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': plain.default,
    'tfjs-backend-wasm-simd.wasm': simd.default,
    'tfjs-backend-wasm-threaded-simd.wasm': threaded.default,
  });
  return (await tf.setBackend('wasm').catch(() => false)) ? undefined : 'wasm failed to start';
}

/** The cpu backend, imported here: a browser bundle carries only the backends it imports. */
async function tryCpu(): Promise<string | undefined> {
  await import('@tensorflow/tfjs-backend-cpu');
  return (await tf.setBackend('cpu').catch(() => false)) ? undefined : 'cpu failed';
}

async function pick(want: BackendChoice): Promise<BackendPick> {
  const order: readonly BackendChoice[] =
    want === 'auto' ? ['webgpu', 'webgl', 'wasm', 'cpu'] : [want, 'cpu'];
  const why: string[] = [];
  for (const name of order) {
    const fail =
      name === 'webgpu'
        ? await tryWebGpu()
        : name === 'webgl'
          ? await tryWebGl()
          : name === 'wasm'
            ? await tryWasm()
            : await tryCpu();
    if (fail === undefined) {
      await tf.ready();
      const chosen = activeBackend();
      return {
        name: chosen,
        note:
          why.length === 0
            ? `${chosen} (${want === 'auto' ? 'best available' : 'as asked'})`
            : `${chosen}: ${why.join('; ')}`,
      };
    }
    why.push(`${name}: ${fail}`);
  }
  return { name: activeBackend(), note: why.join('; ') };
}

/** Activates the backend once per page (a later call with another choice switches). */
export function pickBackend(want: BackendChoice): Promise<BackendPick> {
  if (current === undefined || currentWant !== want) {
    currentWant = want;
    current = pick(want);
  }
  return current;
}
