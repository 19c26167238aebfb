/**
 * `@ebm/core/internal`: helpers shared by `@ebm/*` packages that are not part of the stable API (they wrap
 * private tfjs engine fields; see `tfjs-internals.ts`). Plugin authors may use them, at their own risk across
 * tfjs upgrades.
 * @module
 */

export { generatedTfjsCoreVersion } from './register-version.js';
export { canReadSync, isRecordingGradients, stopGradient, withoutTape } from './tfjs-internals.js';
