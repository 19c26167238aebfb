/**
 * Side-effect entry of `@ebm/core` for browser bundles (the `browser` export condition of `@ebm/core/register`,
 * which `@ebm/core` imports): registers gradients and chained ops through tfjs-core's own ES modules, so a
 * bundle holds one copy of them (the Node build bundles a generated copy, see `register.ts`). No backend is
 * imported: import one (`@tensorflow/tfjs-backend-webgpu`, `-wasm`, `-webgl`, `-cpu`); with none, tfjs falls
 * back to a hint backend that fails with a clear `BACKEND_UNAVAILABLE` error.
 * @module
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { registerNoBackendHint } from './register-backend.js';

registerNoBackendHint();
