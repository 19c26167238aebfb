import * as tf from '@tensorflow/tfjs-core';
import { EbmError } from './errors.js';

/**
 * Name of the placeholder backend `@ebm/core` registers when no real backend is installed: tfjs tries it only
 * after every other registered backend (lowest priority), and it fails with a `BACKEND_UNAVAILABLE` `EbmError`
 * that says which package to install, instead of tfjs's bare "No backend found in registry".
 */
export const NO_BACKEND = 'ebm-no-backend';

/** Registers the {@link NO_BACKEND} placeholder (once). */
export function registerNoBackendHint(): void {
  if (tf.findBackendFactory(NO_BACKEND)) return;
  tf.registerBackend(
    NO_BACKEND,
    () => {
      throw new EbmError('BACKEND_UNAVAILABLE', 'no tfjs backend is installed, or none could start.', {
        argument: 'backend',
        value: Object.keys(tf.engine().registryFactory).filter((n) => n !== NO_BACKEND),
        fix: 'install one and import it before using @ebm: `npm i @tensorflow/tfjs-backend-cpu` (Node loads it for you; a single-file Node bundle must import it itself, `import "@tensorflow/tfjs-backend-cpu"`, and resolve ESM builds first, esbuild `--main-fields=module,main`: that package marks its CommonJS Node build free of side effects), or a browser backend package (@tensorflow/tfjs-backend-webgpu, -wasm, -webgl).',
      });
    },
    -1000,
  );
}

function isModuleNotFound(e: unknown, name: string): boolean {
  const err = e as { code?: string; message?: string } | null;
  return (
    !!err &&
    (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND') &&
    String(err.message).includes(name)
  );
}

/**
 * Loads the cpu backend, an optional peer: with it a Node program always has a working default backend; without
 * it (WebGPU-only installs) registers the {@link NO_BACKEND} hint instead. Returns whether cpu was loaded.
 * `load` is injectable for tests; other load errors propagate.
 */
export function registerDefaultCpu(load: () => unknown): boolean {
  try {
    load();
    return true;
  } catch (e) {
    if (!isModuleNotFound(e, '@tensorflow/tfjs-backend-cpu')) throw e;
    registerNoBackendHint();
    return false;
  }
}
