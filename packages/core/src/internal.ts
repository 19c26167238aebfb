/**
 * `@ebm/core/internal`: helpers shared by `@ebm/*` packages that are not part of the stable API (they wrap
 * private tfjs engine fields; see `tfjs-internals.ts`). Plugin authors may use them, at their own risk across
 * tfjs upgrades.
 * @module
 */

/** Benchmarks of the whole chain's end-of-run finite check: host scan vs the backend's nonFiniteRows kernel. */
export { setSimdFiniteScan } from './cpu/finite-simd.js';
/** Benchmarks of the fused CPU kernels: the host normal filler and its switches (not a stable API). */
export { normalRange, setWasmNormals } from './cpu/philox.js';
export { setSimdNormals, wasmNormals } from './cpu/philox-wasm.js';
export { type FiniteScanPolicy, finiteScanPolicy, setFiniteScanPolicy } from './finite-rows.js';
export { generatedTfjsCoreVersion } from './register-version.js';
export {
  canReadSync,
  isRecordingGradients,
  releaseTapeAfterError,
  stopGradient,
  variableGradsSafe,
  withoutTape,
} from './tfjs-internals.js';
