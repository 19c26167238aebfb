/**
 * Side-effect entry of `@ebm/core`: makes tfjs-core usable everywhere.
 *
 * - Registers tfjs-core's gradient functions and chained ops (under Node, tfjs-core's CommonJS bundle has none,
 *   so `tf.grad` fails with "gradient function not found"); in the browser this is harmless.
 * - Registers the `cpu` backend so that a program always has a working default backend.
 * - Warns once when the tfjs-core loaded at run time is not the version the registrations came from.
 *
 * Importing `@ebm/core` imports this module; import `@ebm/core/register` alone if you only need the set-up.
 * @module
 */
import './_generated/tf-registrations.js';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { checkTfjsCoreVersion } from './register-version.js';

// A bare `import '@tensorflow/tfjs-backend-cpu'` is dropped by esbuild in Node bundles: that package's
// `sideEffects` list names its browser build only, not `dist/tf-backend-cpu.node.js` (its Node `main`). Using a
// binding in a statement with an effect keeps the module, so it registers the cpu backend as it does unbundled.
(globalThis as Record<symbol, unknown>)[Symbol.for('@ebm/core/tfjs-backend-cpu')] = version_cpu;

const WARNED = Symbol.for('@ebm/core/tfjs-version-warned');
const g = globalThis as unknown as Record<symbol, boolean | undefined>;
if (!g[WARNED]) {
  g[WARNED] = true;
  checkTfjsCoreVersion();
}
