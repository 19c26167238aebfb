/**
 * Side-effect entry of `@ebm/core`: makes tfjs-core usable everywhere.
 *
 * - Registers tfjs-core's gradient functions and chained ops (under Node, tfjs-core's CommonJS bundle has none,
 *   so `tf.grad` fails with "gradient function not found"); in the browser this is harmless.
 * - Registers the `cpu` backend so that a program always has a working default backend.
 *
 * Importing `@ebm/core` imports this module; import `@ebm/core/register` alone if you only need the set-up.
 * @module
 */
import './_generated/tf-registrations.js';
import '@tensorflow/tfjs-backend-cpu';
