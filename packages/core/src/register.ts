/**
 * Side-effect entry of `@ebm/core` (Node build): makes tfjs-core usable everywhere.
 *
 * - Registers tfjs-core's gradient functions and chained ops (under Node, tfjs-core's CommonJS bundle has none,
 *   so `tf.grad` fails with "gradient function not found"). Browser bundlers pick `register.browser.ts`
 *   instead (the `browser` export condition), which imports tfjs-core's own registration modules.
 * - Registers the `cpu` backend, when `@tensorflow/tfjs-backend-cpu` (an optional peer) is installed, so that a
 *   program always has a working default backend; without it, a hint backend that fails with a clear error.
 * - Warns once when the tfjs-core loaded at run time is not the version the registrations came from.
 *
 * Importing `@ebm/core` imports this module; import `@ebm/core/register` alone if you only need the set-up.
 * @module
 */
import './_generated/tf-registrations.js';
import { createRequire } from 'node:module';
import { registerDefaultCpu } from './register-backend.js';
import { checkTfjsCoreVersion } from './register-version.js';

// require() resolves the package's CommonJS main, the same module Node's `import` of it loads.
registerDefaultCpu(() => createRequire(import.meta.url)('@tensorflow/tfjs-backend-cpu'));

const WARNED = Symbol.for('@ebm/core/tfjs-version-warned');
const g = globalThis as unknown as Record<symbol, boolean | undefined>;
if (!g[WARNED]) {
  g[WARNED] = true;
  checkTfjsCoreVersion();
}
