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
import '@tensorflow/tfjs-backend-cpu';
import { checkTfjsCoreVersion } from './register-version.js';

const WARNED = Symbol.for('@ebm/core/tfjs-version-warned');
const g = globalThis as unknown as Record<symbol, boolean | undefined>;
if (!g[WARNED]) {
  g[WARNED] = true;
  checkTfjsCoreVersion();
}
