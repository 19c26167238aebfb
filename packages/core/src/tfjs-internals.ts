import * as tf from '@tensorflow/tfjs-core';

/**
 * # The one seam for tfjs internals
 *
 * tfjs-core has no public stop-gradient, no public "is a tape recording?" query and no public way to ask
 * whether a backend can read tensors synchronously. The few places in `@ebm/*` that need these go through this
 * file, and only this file touches private engine fields. `tfjs-internals.test.ts` pins the behaviour against
 * the tfjs-core version in the lockfile, so an upgrade that moves a private field fails there, not in a user's
 * training loop. Exported from `@ebm/core/internal` (not part of the stable API).
 * @module
 */

/** The private engine fields this module reads (tfjs-core 4.x `EngineState`). */
interface EngineStateInternals {
  gradientDepth: number;
  activeTape: unknown;
}

function engineState(): EngineStateInternals {
  return tf.engine().state as unknown as EngineStateInternals;
}

/** True while tfjs records a gradient tape (inside `tf.grad`, `tf.variableGrads`, `optimizer.minimize`, …). */
export function isRecordingGradients(): boolean {
  return (engineState().gradientDepth ?? 0) > 0;
}

/**
 * Runs `fn` with tfjs's gradient tape switched off, so nothing it computes is recorded by an enclosing
 * `tf.grad` / `tf.variableGrads` / `optimizer.minimize`: its outputs are constants for the outer gradient
 * (a `stop_gradient` of the whole computation). Gradients taken *inside* `fn` (a sampler's ∇ₓE) still work:
 * they start a fresh tape.
 */
export function withoutTape<T>(fn: () => T): T {
  const state = engineState();
  const depth = state.gradientDepth;
  const tape = state.activeTape;
  if (depth === 0) return fn();
  state.gradientDepth = 0;
  state.activeTape = null;
  try {
    return fn();
  } finally {
    state.gradientDepth = depth;
    state.activeTape = tape;
  }
}

/**
 * Detaches a tensor from the enclosing gradient tape: a copy that no gradient flows through (`stop_gradient`).
 * The input is not disposed.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return withoutTape(() => tf.clone(x));
}

/** tfjs backends whose tensors live on the host, so `dataSync()` works everywhere (Node and browsers). */
const HOST_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

/**
 * Whether `dataSync()` works on `backend` (default: the active one). True for the host backends (cpu, wasm,
 * tfjs-node's `tensorflow`); false for webgpu and webgl, whose synchronous reads need `OffscreenCanvas` or a
 * blocking GPU fence (absent in Node, slow in browsers). Library code reads with `await t.data()` and keeps
 * synchronous reads to the `…Sync` APIs, which check this first.
 */
export function canReadSync(backend: string = tf.getBackend()): boolean {
  return HOST_BACKENDS.has(backend);
}
