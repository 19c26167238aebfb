/**
 * `@ebm/core/testing`: the shared test kit of `@ebm/*` packages and backend plugins — leak checks,
 * Monte-Carlo standard-error tests, KS/DKWM tests, the seed policy and the one-step target-conservation test.
 * Framework-agnostic: assertions throw `EbmError` with code `TEST_FAILURE`.
 * @module
 */
// The kit runs tfjs code (gradients, chained ops): set tfjs up as `@ebm/core` does.
import '../register.js';

export * from './backend-conformance.js';
export * from './conservation.js';
export * from './leaks.js';
export * from './seed.js';
export * from './stats.js';
